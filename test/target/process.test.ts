// `npm run target` as a real process: prints its URL, serves, keeps secrets out of its log, stops on SIGTERM/SIGINT.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { at, req, waitFor } from './helpers.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'proc-signing-secret-SHOULD-NOT-LEAK';
const TOKEN = 'xoxb-proc-token-SHOULD-NOT-LEAK';

/**
 * Runs the command behind `npm run target` (read from package.json) directly, so signals reach the
 * server itself rather than npm's wrapper; `viaNpm` goes through npm.
 */
function run(env: Record<string, string>, viaNpm = false): { child: ChildProcess; out: () => string; exit: Promise<number | null> } {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const script = pkg.scripts.target ?? '';
  assert.equal(script, 'node scripts/target.mjs');
  const [cmd, args] = viaNpm ? ['npm', ['run', '--silent', 'target']] : [process.execPath, script.split(' ').slice(1)];
  // Own process group, so a test can signal npm and the server below it together, as a terminal's Ctrl+C does.
  const child = spawn(cmd, args, {
    detached: true,
    cwd: root,
    env: { ...process.env, PORT: '0', SEED_AGENTS: '2', SEED_KNOWLEDGE_NODES: '10', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      resolve(code);
    }),
  );
  return { child, out: () => out, exit };
}

void describe('npm run target', () => {
  void it('prints its URL, serves /health, logs no secrets, exits 0 on SIGTERM', async () => {
    const p = run({
      TARGET_LOG: 'info',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_API_URL: 'http://127.0.0.1:9/api',
      DATABASE_URL: '',
    });
    try {
      const url = await waitFor('URL line', () => /agentload target listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(p.out())?.[1], 30_000);
      const h = await req(url, 'GET', '/health');
      assert.equal(h.status, 200);
      assert.equal(at(h.body, 'status'), 'ok');
      const body = JSON.stringify({
        type: 'event_callback',
        event_id: 'EvP',
        event: { type: 'app_mention', text: 'hi', channel: 'C1', ts: '1.1' },
      });
      const ts = Math.floor(Date.now() / 1000);
      const sig = `v0=${createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
      const s = await fetch(`${url}/slack/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-slack-request-timestamp': String(ts),
          'x-slack-signature': sig,
          authorization: `Bearer ${TOKEN}`,
        },
        body,
      });
      assert.equal(s.status, 200);
      await waitFor('request logged', () => (p.out().includes('/slack/events') ? true : undefined));
      await new Promise((r) => setTimeout(r, 300)); // the reply attempt (to a closed port) happens and fails
      p.child.kill('SIGTERM');
      assert.equal(await p.exit, 0);
      assert.match(p.out(), /SIGTERM, shutting down/);
      assert.match(p.out(), /stopped/);
      assert.ok(!p.out().includes(SECRET), 'signing secret not in output');
      assert.ok(!p.out().includes(TOKEN), 'bot token not in output');
      assert.ok(!p.out().includes(sig), 'signature not in output');
    } finally {
      if (p.child.exitCode === null && p.child.pid !== undefined) process.kill(-p.child.pid, 'SIGKILL');
    }
  });

  void it('runs through npm too', async () => {
    const p = run({}, true);
    try {
      const url = await waitFor('URL line', () => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(p.out())?.[1], 30_000);
      assert.equal((await req(url, 'GET', '/health')).status, 200);
    } finally {
      // npm does not forward SIGTERM to the script's shell: signal the whole group.
      if (p.child.pid !== undefined) process.kill(-p.child.pid, 'SIGTERM');
      await p.exit;
    }
  });

  void it('exits 0 on SIGINT and refuses a bad knob with a one-line error', async () => {
    const p = run({});
    await waitFor('URL line', () => (p.out().includes('listening on') ? true : undefined), 30_000);
    p.child.kill('SIGINT');
    assert.equal(await p.exit, 0, `exit after SIGINT; output: ${p.out()}; signal ${String(p.child.signalCode)}`);

    const bad = run({ FAULT_ERROR_RATE: '2' });
    assert.equal(await bad.exit, 1);
    assert.match(bad.out(), /FAULT_ERROR_RATE \(knob errorRate\) must be a number in 0\.\.1, got "2"/);
  });

  void it('never prints a DATABASE_URL password, even when the database is unreachable', async () => {
    const p = run({ DATABASE_URL: 'postgres://u:hunter2-SECRET@127.0.0.1:9/db' });
    const code = await p.exit;
    assert.equal(code, 1);
    assert.match(p.out(), /target failed to start/);
    assert.ok(!p.out().includes('hunter2-SECRET'));
  });
});
