/**
 * One k6 WebSocket's metrics (engine/modules/websockets.ts has k6's semantics): `ws_sessions` and
 * `ws_connecting` once per connection attempt, the session's other metrics with its tags (the VU's and
 * params.tags, `url`, then `status` and `subproto` once the handshake answered), and its bytes as the
 * iteration's data_sent/data_received.
 */
import type { Socket } from 'node:net';
import type { ModuleContext, Sample, Tags } from '../../contracts.ts';
import type { ByteCounter } from './frames.ts';

export class SessionMetrics {
  readonly #ctx: ModuleContext;
  readonly #counter: ByteCounter | undefined;
  readonly #iterTags: Tags;
  #tags: Tags;
  readonly #startWall: number;
  readonly #startMono: number;
  #reported = false;

  /** Starts the session's clock; `tags` are the session's before the handshake answers. */
  constructor(ctx: ModuleContext, counter: ByteCounter | undefined, iterTags: Tags, tags: Tags) {
    this.#ctx = ctx;
    this.#counter = counter;
    this.#iterTags = iterTags;
    this.#tags = tags;
    this.#startWall = ctx.clock.wallNow();
    this.#startMono = ctx.clock.now();
  }

  /** Whether ws_sessions/ws_connecting were emitted for this attempt. */
  get reported(): boolean {
    return this.#reported;
  }

  /** The handshake's outcome, once: ws_sessions and ws_connecting, tagged with its status and subprotocol. */
  connected(status: string, subproto: string): void {
    if (this.#reported) return;
    this.#reported = true;
    this.#tags = Object.freeze({ ...this.#tags, status, subproto });
    const samples: Sample[] = [
      { metric: 'ws_sessions', time: this.#startWall, value: 1, tags: this.#tags },
      { metric: 'ws_connecting', time: this.#startWall, value: this.#ctx.clock.now() - this.#startMono, tags: this.#tags },
    ];
    this.#ctx.emit(samples);
  }

  emit(metric: string, value: number, time = this.#ctx.clock.wallNow()): void {
    this.#ctx.emit([{ metric, time, value, tags: this.#tags }]);
  }

  /** ws_session_duration: from the start of the connection attempt until now. */
  sessionEnded(): void {
    this.emit('ws_session_duration', this.#ctx.clock.now() - this.#startMono);
  }

  /** The socket's bytes: counted into the iteration's totals under the engine, else emitted as data_sent/data_received. */
  traffic(s: Socket | undefined): void {
    if (s === undefined) return;
    if (this.#counter !== undefined && this.#ctx.stage() !== 'init') {
      this.#counter.countBytes(s.bytesWritten, s.bytesRead);
      return;
    }
    const time = this.#ctx.clock.wallNow();
    this.#ctx.emit([
      { metric: 'data_sent', time, value: s.bytesWritten, tags: this.#iterTags },
      { metric: 'data_received', time, value: s.bytesRead, tags: this.#iterTags },
    ]);
  }
}
