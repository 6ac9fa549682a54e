/**
 * `k6/experimental/fs`: `open(path)` (init code only) → a promise of a File read once per engine
 * instance and shared by every VU; `file.stat()` ({ name, size }), `file.read(buffer)` (bytes read, null
 * at the end), `file.seek(offset, whence)`, `file.readAll()` (k6 v1); `SeekMode` Start/Current/End.
 * Each VU's File has its own offset (k6: the data is shared, the file handle is not).
 */
import { readFileSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import type { EngineModuleContext } from './context.ts';
import { ModuleUsageError } from './k6.ts';
import type { K6Module } from './k6-types.ts';

export const SeekMode = Object.freeze({ Start: 0, Current: 1, End: 2 });

/** One VU's handle on a file's bytes. */
export class File {
  readonly path: string;
  readonly #data: Uint8Array;
  #offset = 0;
  constructor(path: string, data: Uint8Array) {
    this.path = path;
    this.#data = data;
  }
  /** The bytes (k6/experimental/csv reads them). */
  bytes(): Uint8Array {
    return this.#data;
  }
  stat(): Promise<{ name: string; size: number }> {
    return Promise.resolve({ name: basename(this.path), size: this.#data.byteLength });
  }
  read(buffer: unknown): Promise<number | null> {
    if (!(buffer instanceof Uint8Array))
      return Promise.reject(
        new ModuleUsageError('fs-bad-buffer', 'file.read(buffer): buffer must be a Uint8Array, e.g. new Uint8Array(size)'),
      );
    if (this.#offset >= this.#data.byteLength) return Promise.resolve(null);
    const n = Math.min(buffer.byteLength, this.#data.byteLength - this.#offset);
    buffer.set(this.#data.subarray(this.#offset, this.#offset + n));
    this.#offset += n;
    return Promise.resolve(n);
  }
  readAll(): Promise<ArrayBuffer> {
    const rest = this.#data.slice(this.#offset);
    this.#offset = this.#data.byteLength;
    return Promise.resolve(rest.buffer);
  }
  seek(offset: unknown, whence: unknown = SeekMode.Start): Promise<number> {
    const off = Number(offset);
    const base =
      whence === SeekMode.Current
        ? this.#offset
        : whence === SeekMode.End
          ? this.#data.byteLength
          : whence === SeekMode.Start
            ? 0
            : Number.NaN;
    if (Number.isNaN(base))
      return Promise.reject(
        new ModuleUsageError(
          'fs-bad-whence',
          `file.seek(offset, whence): whence must be SeekMode.Start, SeekMode.Current or SeekMode.End, got ${String(whence)}`,
        ),
      );
    const to = base + off;
    if (!Number.isInteger(off) || to < 0)
      return Promise.reject(
        new ModuleUsageError('fs-bad-offset', `file.seek(${String(offset)}): the resulting offset must be a whole number >= 0`),
      );
    this.#offset = to;
    return Promise.resolve(to);
  }
}

export function createFsModule(ctx: EngineModuleContext): Record<string, unknown> {
  function open(path: unknown): Promise<File> {
    if (ctx.stage() !== 'init')
      return Promise.reject(
        new ModuleUsageError(
          'fs-outside-init',
          `open(${JSON.stringify(path)}) from k6/experimental/fs is only available in the init context (top level of the script)`,
        ),
      );
    if (typeof path !== 'string' || path === '')
      return Promise.reject(
        new ModuleUsageError('fs-bad-path', `open(path): path must be a non-empty string, got ${JSON.stringify(path)}`),
      );
    const file = isAbsolute(path) ? path : resolve(ctx.scriptDir, path);
    const key = `k6/experimental/fs:${file}`;
    let data = ctx.shared.get(key) as Uint8Array | undefined;
    if (data === undefined) {
      try {
        data = new Uint8Array(readFileSync(file));
      } catch (e) {
        return Promise.reject(
          new ModuleUsageError('fs-open-failed', `open(${JSON.stringify(path)}): cannot read ${file}: ${(e as Error).message}`),
        );
      }
      ctx.shared.set(key, data);
    }
    return Promise.resolve(new File(file, data));
  }
  return { open, SeekMode, File } satisfies K6Module<typeof import('k6/experimental/fs')>;
}
