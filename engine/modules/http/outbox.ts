/**
 * The thread's outbox of requests: a request the pool has put on a connection (HTTP/1.1), or the frames an
 * HTTP/2 session gathered (its requests' HEADERS and DATA, and its answers to the server), are written at the
 * end of the event loop's I/O phase (one `setImmediate` for all of them), together with every other
 * request made in the same turn, instead of the moment its VU asked.
 *
 * Why: a write to a server that waits in epoll costs the writer the server's wake-up (on loopback, the
 * receiving TCP stack and the wake-up run inside the sender's `write` syscall, and on a virtual machine
 * the wake-up is an expensive interrupt): under load that was about a third of the engine's CPU per
 * request (perf, docs/engine.md "Hot path"). Written one by one between other VUs' JavaScript, nearly
 * every request found the server asleep again; written back to back, the first wakes it and the rest
 * find it running. What it costs a request: it waits for the rest of the turn's callbacks, and that wait
 * is in `http_req_sending` (from the connection obtained to the request written), as a busy Go runtime's
 * scheduling delay is in k6's. Code that resumes work from a setImmediate callback (the iteration loop's
 * yield, engine/executors/iteration.ts) queues one more flush right after that callback (`writeAfterImmediate`),
 * so what it asks for is written in the same check phase, not a turn later. A request that times out or fails
 * before it is written has its wait as its sending (response.ts timingsOf). An idle loop runs the check phase
 * right after the callback that asked.
 */
import type { Conn } from './connection.ts';
import type { Exchange } from './exchange.ts';

/** An HTTP/2 session (h2.ts), which writes the frames it gathered in the turn at once. */
export interface FrameWriter {
  flushFrames(): void;
}

/** Queued requests as (connection, exchange) pairs, in the order they were made; an HTTP/2 session as (session, undefined). */
const queued: (Conn | FrameWriter | Exchange | undefined)[] = [];
/** Flushes queued with setImmediate that have not run yet: a request needs one more only when none is. */
let pending = 0;

function flush(): void {
  pending--;
  if (queued.length === 0) return;
  // The connection's pool writes it (ConnHost.write), unless the request no longer belongs there. A request
  // queued while this runs (none is expected: a socket reports errors later) is written in this pass too.
  for (let i = 0; i < queued.length; i += 2) {
    const ex = queued[i + 1] as Exchange | undefined;
    if (ex === undefined) (queued[i] as FrameWriter).flushFrames();
    else {
      const conn = queued[i] as Conn;
      conn.pool.write(conn, ex);
    }
  }
  queued.length = 0;
}

/** Queues `ex` for writing on `conn` at the end of this turn of the event loop. */
export function writeSoon(conn: Conn, ex: Exchange): void {
  queued.push(conn, ex);
  if (pending === 0) {
    pending++;
    setImmediate(flush);
  }
}

/** Queues an HTTP/2 session's frames (the session queues itself once per turn, however many it gathers). */
export function writeFramesSoon(session: FrameWriter): void {
  queued.push(session, undefined);
  if (pending === 0) {
    pending++;
    setImmediate(flush);
  }
}

/**
 * One more flush, after the setImmediate callback just queued by the caller (and the microtasks it starts): the
 * requests that callback's work makes are written in the same check phase. Without it, when this turn's flush
 * already ran, they would wait for the next turn's timers and I/O callbacks.
 */
export function writeAfterImmediate(): void {
  pending++;
  setImmediate(flush);
}
