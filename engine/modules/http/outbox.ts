/**
 * The thread's outbox of HTTP/1.1 requests: a request the pool has put on a connection is written at the
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
 * scheduling delay is in k6's. A request made in the check phase itself, after this turn's flush (a VU
 * resumed by the iteration loop's setImmediate yield, engine/executors/iteration.ts), waits for the next
 * turn's timers and I/O callbacks too; one that times out or fails before it is written has that wait as
 * its sending (response.ts timingsOf). An idle loop runs the check phase right after the callback that asked.
 */
import type { Conn } from './connection.ts';
import type { Exchange } from './exchange.ts';

/** Queued requests as (connection, exchange) pairs, in the order they were made. */
const queued: (Conn | Exchange)[] = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  // The connection's pool writes it (ConnHost.write), unless the request no longer belongs there. A request
  // queued while this runs (none is expected: a socket reports errors later) is written in this pass too.
  for (let i = 0; i < queued.length; i += 2) {
    const conn = queued[i] as Conn;
    conn.pool.write(conn, queued[i + 1] as Exchange);
  }
  queued.length = 0;
}

/** Queues `ex` for writing on `conn` at the end of this turn of the event loop. */
export function writeSoon(conn: Conn, ex: Exchange): void {
  queued.push(conn, ex);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
}
