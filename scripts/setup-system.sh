#!/usr/bin/env bash
# Installs the Debian packages agentload's tests need, if missing: PostgreSQL server binaries (test
# databases), Chromium (the HTML report is checked in a real browser), redis-server (the platform's
# agent-state cache), RabbitMQ (the bus and fault tests start private brokers from its binaries; the
# machine's own service is never used) and Prometheus (the remote-write output is checked against a real
# server). Idempotent and quiet: does nothing when all are present. Needs root (or sudo) only when
# something must be installed.
set -euo pipefail

missing=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then missing+=(postgresql); fi
if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then missing+=(chromium); fi
if [ ! -x "${REDIS_SERVER:-/usr/bin/redis-server}" ]; then missing+=(redis-server); fi
if [ ! -x "${PROMETHEUS_BIN:-/usr/bin/prometheus}" ]; then missing+=(prometheus); fi
if ! ls /usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin/rabbitmq-server >/dev/null 2>&1; then missing+=(rabbitmq-server); fi
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo)
else
  echo "agentload: missing Debian packages: ${missing[*]}: run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

lock=()
if command -v flock >/dev/null 2>&1; then lock=(flock /tmp/agentload-apt.lock); fi
echo "agentload: installing ${missing[*]} (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" "${lock[@]}" apt-get -qq update >/dev/null
"${sudo[@]}" "${lock[@]}" apt-get -qq install -y --no-install-recommends "${missing[@]}" >/dev/null
