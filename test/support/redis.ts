/**
 * A throw-away redis-server for tests, on a free loopback port in a temporary folder (never the machine's
 * service): the same starter the run command uses for the `cache` scenario (src/run/redis-server.ts).
 * Needs Debian's `redis-server` (scripts/setup-system.sh installs it).
 */
export { startRedisServer as startRedis, type RedisServer } from '../../src/run/redis-server.ts';
