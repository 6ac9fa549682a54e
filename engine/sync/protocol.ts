/**
 * The synchronous VU mode's wire: what a VU thread and the engine thread (its I/O host) tell each other.
 *
 * - A VU thread makes a blocking call (`http.get`, `sleep`, `ws.connect`'s event wait) by posting a
 *   `call` on its call port and waiting with `Atomics.wait` on `ctl[REPLY]`; the host answers on the same
 *   port, then sets `ctl[REPLY]` and notifies. The thread reads the answer with `receiveMessageOnPort`.
 * - Everything else the thread sends (samples, logs, iteration results) goes on the same port without
 *   an answer, so it arrives in order with the calls.
 * - The host starts iterations, lifecycle functions and delivers async results on the worker's own
 *   channel (`parentPort` in the thread), handled by the thread's event loop.
 * - `ctl[INTERRUPT]` is 1 while the running iteration (or lifecycle call) is interrupted; the host
 *   notifies it, which wakes a `sleep()`.
 * - `ctl[ANSWERED]` is 1 once the thread has posted its answer to the running iteration or lifecycle call
 *   (the script code has returned); the host sets it to 0 when it starts one. The host stops a thread that
 *   does not answer an interruption in time (script code in a tight loop) only while this is 0: an answer
 *   already posted is on its way behind a busy event loop, and stopping the thread would lose its samples.
 */
import type { MessagePort } from 'node:worker_threads';
import type { MetricType, Sample, Tags, ValueType } from '../contracts.ts';
import type { ScriptSource } from '../runtime/compile.ts';

export const REPLY = 0;
export const INTERRUPT = 1;
export const ANSWERED = 2;
export const CTL_WORDS = 3;

/** A SharedArray built by VU 0, shared by every VU thread: JSON of each element, read on access (as k6 does). */
export interface SharedArrayData {
  readonly name: string;
  /** UTF-8 JSON of the elements, back to back. */
  readonly bytes: SharedArrayBuffer;
  /** Offsets of the elements in `bytes` (length + 1 entries). */
  readonly offsets: SharedArrayBuffer;
}

/** What a VU thread gets at start (workerData). */
export interface ThreadInit {
  readonly source: ScriptSource;
  readonly imports: readonly string[];
  readonly idInTest: number;
  readonly idInInstance: number;
  readonly env: Readonly<Record<string, string>>;
  readonly options: unknown;
  readonly runTags: Tags;
  readonly ctl: SharedArrayBuffer;
  readonly calls: MessagePort;
  readonly shared: readonly SharedArrayData[];
  readonly metrics: readonly { readonly name: string; readonly type: MetricType; readonly contains: ValueType }[];
  /** setup() data as JSON text (undefined before setup, or without one). */
  readonly dataText: string | undefined;
  /** The run's host allowlist (engine/net/host-policy.ts) for the connections the thread makes itself (k6/websockets, k6/x/sql); undefined: no check. */
  readonly allowedHosts: readonly string[] | undefined;
}

/** The iteration a thread runs (IterationContext without functions; startTime as wall-clock ms). */
export interface ThreadIteration {
  readonly scenario: {
    readonly name: string;
    readonly executor: string;
    readonly exec: string;
    readonly tags: Tags;
    readonly env: Readonly<Record<string, string>>;
    readonly startWall: number;
  };
  readonly iterationInInstance: number;
  readonly iterationInTest: number;
}

/** Host → thread, on the worker channel. */
export type HostMessage =
  | { readonly t: 'iter'; readonly it: ThreadIteration }
  | {
      readonly t: 'life';
      readonly name: 'setup' | 'teardown' | 'handleSummary';
      readonly stage: 'setup' | 'teardown' | 'summary';
      readonly argText: string | undefined;
      /** handleSummary's second argument (the summary report), as JSON. */
      readonly extraText?: string | undefined;
    }
  | { readonly t: 'data'; readonly text: string | undefined }
  | { readonly t: 'interrupt' }
  | { readonly t: 'async'; readonly id: number; readonly ok: boolean; readonly value: unknown }
  /** Before the thread is ended: it answers `drained` a macrotask later, after what Node reports of its last one (an unhandled rejection's log line). */
  | { readonly t: 'drain' };

/** What the host needs with every call: where the VU is (for the VU's cookie jar, tags of its requests). */
export interface CallState {
  readonly stage: 'init' | 'setup' | 'iteration' | 'teardown' | 'summary';
  readonly iterInVu: number;
  /** The VU's current tags, sent only when they changed since the last call. */
  readonly tags?: Tags;
}

/** Thread → host, on the call port. `call` expects an answer; the rest do not. */
export type ThreadMessage =
  | { readonly t: 'call'; readonly op: string; readonly args: unknown; readonly state: CallState; readonly samples?: readonly Sample[] }
  | {
      readonly t: 'asyncCall';
      readonly id: number;
      readonly op: string;
      readonly args: unknown;
      readonly state: CallState;
      readonly samples?: readonly Sample[];
    }
  | { readonly t: 'samples'; readonly samples: readonly Sample[] }
  | { readonly t: 'log'; readonly text: string }
  | { readonly t: 'warnOnce'; readonly key: string; readonly message: string }
  | { readonly t: 'define'; readonly name: string; readonly type: MetricType; readonly contains: ValueType }
  | { readonly t: 'abort'; readonly reason: string }
  | { readonly t: 'fail'; readonly reason: string }
  | { readonly t: 'ready' }
  | { readonly t: 'drained' }
  | { readonly t: 'initFailed'; readonly code: number; readonly message: string }
  | {
      readonly t: 'iterDone';
      readonly kind: 'completed' | 'failed' | 'interrupted';
      readonly error?: string;
      readonly samples?: readonly Sample[];
    }
  | {
      readonly t: 'lifeDone';
      readonly ok: boolean;
      readonly value?: unknown;
      readonly error?: WireError;
      readonly samples?: readonly Sample[];
    };

/** An error crossing threads: enough to rethrow it with the same name, message and code. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
  readonly kind?: 'interrupted' | 'aborted' | 'timeout';
}

/** The answer to a `call`. */
export type CallReply =
  | { readonly ok: true; readonly value: unknown; readonly bytes?: readonly [number, number] }
  | { readonly ok: false; readonly error: WireError; readonly bytes?: readonly [number, number] };

export function toWireError(e: unknown): WireError {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return {
      name: e.name,
      message: e.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(e.stack === undefined ? {} : { stack: e.stack }),
    };
  }
  return { name: 'Error', message: String(e) };
}
