/**
 * The iteration loop's turn for the event loop (engine/executors/iteration.ts) and the HTTP outbox
 * (engine/modules/http/outbox.ts): a VU resumed in the check phase writes its request in that check phase.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { IterationResult, VirtualUser } from '../../../engine/contracts.ts';
import { IterationCounter } from '../../../engine/executors/common.ts';
import { loopIterations, runIteration } from '../../../engine/executors/iteration.ts';
import { ConnectionPool } from '../../../engine/modules/http/client.ts';
import type { Exchange } from '../../../engine/modules/http/exchange.ts';
import { timingsOf } from '../../../engine/modules/http/response.ts';
import { oneVuForASecond, realTimeRuntime as runtime } from './fakes.ts';

const now = (): number => performance.now();
const spin = (ms: number): void => {
  const until = now() + ms;
  while (now() < until);
};

let server: Server;
let port = 0;
before(async () => {
  server = createServer((_req, res) => res.end('ok'));
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.close();
});

const cfg = oneVuForASecond;

/**
 * A VU whose second iteration keeps the thread busy past YIELD_EVERY_MS without waiting (so the loop gives the event
 * loop a turn before the next), and whose third makes a request from there and then keeps the thread busy again,
 * this time in a timer due at the next turn: a request left for the next turn's flush would wait for that timer.
 */
class BusyThenRequest implements VirtualUser {
  readonly idInTest = 1;
  readonly idInInstance = 1;
  n = 0;
  exchange: Exchange | undefined;
  /** Whether the third iteration ran from a setImmediate callback (the loop's turn), as the test needs. */
  resumedInCheckPhase = false;
  turned = false;
  constructor(readonly pool: ConnectionPool) {}
  runIteration(): Promise<IterationResult> {
    this.n++;
    if (this.n === 1) {
      // Queued before any setImmediate of the loop's: it has run when the loop resumes from the check phase.
      setImmediate(() => {
        this.turned = true;
      });
      return Promise.resolve({ kind: 'completed' });
    }
    if (this.n === 2) {
      spin(8);
      return Promise.resolve({ kind: 'completed' });
    }
    this.resumedInCheckPhase = this.turned;
    return new Promise((resolve) => {
      this.pool.request(
        {
          method: 'GET',
          tls: false,
          hostname: '127.0.0.1',
          port,
          host: `127.0.0.1:${String(port)}`,
          path: '/',
          headers: { 'User-Agent': 'test' },
          body: undefined,
          timeoutMs: 5000,
          keepBody: true,
        },
        undefined,
        (ex) => {
          this.exchange = ex;
          resolve({ kind: 'completed' });
        },
      );
      setTimeout(() => {
        spin(80);
      }, 0);
      spin(3); // the timer is due by the next turn
    });
  }
}

async function warm(pool: ConnectionPool): Promise<void> {
  await new Promise<void>((resolve) => {
    pool.request(
      {
        method: 'GET',
        tls: false,
        hostname: '127.0.0.1',
        port,
        host: `127.0.0.1:${String(port)}`,
        path: '/warm',
        headers: { 'User-Agent': 'test' },
        body: undefined,
        timeoutMs: 5000,
        keepBody: true,
      },
      undefined,
      () => {
        resolve();
      },
    );
  });
}

void test('a request made by a VU the loop resumed in the check phase is written in that check phase (runIteration)', async () => {
  const pool = new ConnectionPool({ now, rejectUnauthorized: true });
  await warm(pool); // a keep-alive connection: the request's sending is the outbox's wait only
  const rt = runtime();
  const counter = new IterationCounter(rt.tuple);
  const stop = new AbortController();
  const vu = new BusyThenRequest(pool);
  for (let i = 0; i < 3; i++) await runIteration(rt, cfg, vu, counter, stop.signal, () => 0, 0);
  assert.ok(vu.resumedInCheckPhase, 'the third iteration started from the turn the loop gave the event loop');
  const ex = vu.exchange;
  assert.ok(ex !== undefined && ex.error === undefined);
  const t = timingsOf(ex);
  // Written after the next turn's busy timer it would show about 80 ms of sending.
  assert.ok(t.sending < 40, `http_req_sending ${String(t.sending)} ms: written in the same check phase`);
  pool.close();
});

void test('a request made by a VU the loop resumed in the check phase is written in that check phase (loopIterations)', async () => {
  const pool = new ConnectionPool({ now, rejectUnauthorized: true });
  await warm(pool);
  const rt = runtime();
  const counter = new IterationCounter(rt.tuple);
  const stop = new AbortController();
  const vu = new BusyThenRequest(pool);
  let n = 0;
  await loopIterations(
    rt,
    cfg,
    vu,
    counter,
    stop.signal,
    () => 0,
    0,
    () => n++ < 3,
  );
  assert.equal(rt.stats.completed, 3);
  assert.ok(vu.resumedInCheckPhase, 'the third iteration started from the turn the loop gave the event loop');
  const ex = vu.exchange;
  assert.ok(ex !== undefined && ex.error === undefined);
  const t = timingsOf(ex);
  assert.ok(t.sending < 40, `http_req_sending ${String(t.sending)} ms: written in the same check phase`);
  pool.close();
});

void test('iterations that wait on a timer go on without waiting for a turn of their own (the event loop turns between them)', async () => {
  const rt = runtime();
  const counter = new IterationCounter(rt.tuple);
  const stop = new AbortController();
  let marker = false;
  let fromATurn = 0;
  const vu: VirtualUser = {
    idInTest: 1,
    idInInstance: 1,
    runIteration: () => {
      if (marker) fromATurn++;
      return new Promise((resolve) =>
        setTimeout(() => {
          // Runs before any setImmediate the loop queues after this iteration: set when the next one starts from one.
          marker = false;
          setImmediate(() => {
            marker = true;
          });
          resolve({ kind: 'completed' });
        }, 1),
      );
    },
  };
  let n = 0;
  // Well over YIELD_EVERY_MS in all: a loop that yielded on time alone would start some iterations from a setImmediate.
  await loopIterations(
    rt,
    cfg,
    vu,
    counter,
    stop.signal,
    () => 0,
    0,
    () => n++ < 40,
  );
  assert.equal(rt.stats.completed, 40);
  assert.equal(fromATurn, 0, "no iteration started from the loop's setImmediate");
});
