/** What k6/websockets needs around its sockets: payload and frame conversions, the engine's context extras. */
import { Blob as NodeBlob } from 'node:buffer';
import { Socket as NetSocket, type Socket } from 'node:net';
import type WS from 'ws';
import type { ModuleContext } from '../../contracts.ts';

/** The embedded runtime's extra context method (engine/modules/context.ts): bytes for the iteration's data_sent/data_received. */
export interface ByteCounter {
  countBytes(sent: number, received: number): void;
}
export function byteCounter(ctx: ModuleContext): ByteCounter | undefined {
  return 'countBytes' in ctx && typeof ctx.countBytes === 'function' ? (ctx as ModuleContext & ByteCounter) : undefined;
}
/** The embedded runtime's extra context method: fail the running iteration with an event handler's exception. */
export interface IterationFailer {
  failIteration(error: unknown): void;
}
export function iterationFailer(ctx: ModuleContext): IterationFailer | undefined {
  return 'failIteration' in ctx && typeof ctx.failIteration === 'function' ? (ctx as ModuleContext & IterationFailer) : undefined;
}

export function isBlob(v: unknown): v is NodeBlob {
  return v instanceof NodeBlob || (typeof Blob !== 'undefined' && v instanceof Blob);
}

/** Bytes of a send() payload; strings go as text frames. Blobs are read asynchronously (see `send`). */
export function binaryPayload(data: unknown): Buffer | undefined {
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

export function byteLength(data: WS.RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

export function toBuffer(data: WS.RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? Buffer.from(data) : data;
}

export function toArrayBuffer(b: Buffer): ArrayBuffer {
  const out = new ArrayBuffer(b.length);
  new Uint8Array(out).set(b);
  return out;
}

/** A socket that never connects: it fails with `reason` on the next tick, so `ws` reports it as a connection error. */
export function refusedSocket(reason: string): Socket {
  const socket = new NetSocket();
  process.nextTick(() => {
    socket.destroy(Object.assign(new Error(reason), { code: 'host-not-allowed' }));
  });
  return socket;
}
