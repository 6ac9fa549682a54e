/**
 * A VU thread's side of the wire (protocol.ts): blocking calls to the I/O host, async calls, and the
 * messages that need no answer. Samples ride along with the next call (or are flushed on their own).
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { Sample, Tags } from '../contracts.ts';
import { ModuleUsageError } from '../modules/k6.ts';
import { ANSWERED, INTERRUPT, REPLY, type CallReply, type CallState, type ThreadMessage, type WireError } from './protocol.ts';

/** Thrown into the script when its iteration (or lifecycle call) was interrupted while it blocked. */
export class InterruptedError extends Error {
  constructor() {
    super('the iteration was interrupted');
    this.name = 'InterruptedError';
  }
}

/** An error from the host, rethrown with its name, message and code (and stack, for mapping). */
export function reviveError(w: WireError): Error {
  if (w.kind === 'interrupted') return new InterruptedError();
  const e = w.code !== undefined ? new ModuleUsageError(w.code, w.message) : new Error(w.message);
  e.name = w.name;
  if (w.stack !== undefined) e.stack = w.stack;
  return e;
}

export interface CallContext {
  /** Where the VU is (stage, iteration in the VU) and its tags (sent when changed). */
  state(): { stage: CallState['stage']; iterInVu: number; tags: Tags };
  countBytes(sent: number, received: number): void;
  /** Called when a blocking wait notices the interruption (the iteration's signal aborts). */
  onInterrupted(): void;
}

export class ThreadIo {
  readonly #port: MessagePort;
  readonly #ctl: Int32Array;
  #samples: Sample[] = [];
  #lastTags: Tags | undefined;
  #nextAsync = 1;
  readonly #async = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  ctx: CallContext | undefined;

  constructor(port: MessagePort, ctl: SharedArrayBuffer) {
    this.#port = port;
    this.#ctl = new Int32Array(ctl);
  }

  get interrupted(): boolean {
    return Atomics.load(this.#ctl, INTERRUPT) === 1;
  }

  /** Throws InterruptedError (and aborts the iteration's signal) when the running work was interrupted. */
  checkInterrupt(): void {
    if (this.interrupted) {
      this.ctx?.onInterrupted();
      throw new InterruptedError();
    }
  }

  addSamples(samples: readonly Sample[]): void {
    for (const s of samples) this.#samples.push(s);
    if (this.#samples.length >= 1000) this.flush();
  }

  takeSamples(): Sample[] | undefined {
    if (this.#samples.length === 0) return undefined;
    const s = this.#samples;
    this.#samples = [];
    return s;
  }

  post(m: ThreadMessage): void {
    this.#port.postMessage(m);
  }

  /** Posts the answer to the running iteration or lifecycle call, and marks it answered for the host (see ANSWERED). */
  answer(m: ThreadMessage): void {
    this.#port.postMessage(m);
    Atomics.store(this.#ctl, ANSWERED, 1);
  }

  flush(): void {
    const samples = this.takeSamples();
    if (samples !== undefined) this.post({ t: 'samples', samples });
  }

  #state(): CallState {
    const s = this.ctx?.state();
    if (s === undefined) return { stage: 'init', iterInVu: 0 };
    if (s.tags === this.#lastTags) return { stage: s.stage, iterInVu: s.iterInVu };
    this.#lastTags = s.tags;
    return { stage: s.stage, iterInVu: s.iterInVu, tags: s.tags };
  }

  /** A blocking call: the thread waits until the host answers. */
  call(op: string, args: unknown): unknown {
    const ctl = this.#ctl;
    Atomics.store(ctl, REPLY, 0);
    const samples = this.takeSamples();
    this.#port.postMessage({
      t: 'call',
      op,
      args,
      state: this.#state(),
      ...(samples === undefined ? {} : { samples }),
    } satisfies ThreadMessage);
    let got = receiveMessageOnPort(this.#port);
    while (got === undefined) {
      Atomics.wait(ctl, REPLY, 0, 1000);
      got = receiveMessageOnPort(this.#port);
    }
    const reply = got.message as CallReply;
    if (reply.bytes !== undefined) this.ctx?.countBytes(reply.bytes[0], reply.bytes[1]);
    if (!reply.ok) {
      const err = reviveError(reply.error);
      if (err instanceof InterruptedError) this.ctx?.onInterrupted();
      throw err;
    }
    return reply.value;
  }

  /** An async call: its answer arrives on the worker channel (`settleAsync`). */
  callAsync(op: string, args: unknown): Promise<unknown> {
    const id = this.#nextAsync++;
    const samples = this.takeSamples();
    const p = new Promise<unknown>((resolve, reject) => {
      this.#async.set(id, { resolve, reject });
    });
    this.#port.postMessage({
      t: 'asyncCall',
      id,
      op,
      args,
      state: this.#state(),
      ...(samples === undefined ? {} : { samples }),
    } satisfies ThreadMessage);
    return p;
  }

  settleAsync(id: number, ok: boolean, value: unknown): void {
    const w = this.#async.get(id);
    if (w === undefined) return;
    this.#async.delete(id);
    if (ok) {
      const r = value as { value: unknown; bytes?: readonly [number, number] };
      if (r.bytes !== undefined) this.ctx?.countBytes(r.bytes[0], r.bytes[1]);
      w.resolve(r.value);
    } else {
      w.reject(reviveError(value as WireError));
    }
  }

  /** k6's sleep(): blocks the thread; an interruption wakes it and throws. */
  sleep(ms: number): void {
    this.flush();
    const ctl = this.#ctl;
    const end = performance.now() + ms;
    for (;;) {
      this.checkInterrupt();
      const left = end - performance.now();
      if (left <= 0) return;
      Atomics.wait(ctl, INTERRUPT, 0, left);
    }
  }
}
