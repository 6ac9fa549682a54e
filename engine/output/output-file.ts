/**
 * Where a line-based output (`--out json`, `--out csv`) writes: a file, gzip-compressed when its name ends
 * in `.gz`, or stdout for `-` (or an empty name), as k6 does. `close()` flushes and ends the file and
 * rejects with one line naming the output and the path if anything failed; stdout is never closed. A gzip
 * stream is sync-flushed within `gzipSyncMs` of a write (default 800 ms), so a killed run loses at most its
 * last second: zlib otherwise keeps compressed output in its own buffer until that fills.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip, type Gzip } from 'node:zlib';
import { toError } from '../../shared/errors.ts';

export class OutputFile {
  readonly path: string;
  readonly toStdout: boolean;
  readonly #file: WriteStream | undefined;
  readonly #gzip: Gzip | undefined;
  readonly #stdout: NodeJS.WritableStream | undefined;
  readonly #gzipSyncMs: number;
  #syncTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #error: Error | undefined;

  constructor(path: string, stdout: NodeJS.WritableStream = process.stdout, gzipSyncMs = 800) {
    this.path = path;
    this.#gzipSyncMs = gzipSyncMs;
    this.toStdout = path === '' || path === '-';
    if (this.toStdout) {
      this.#stdout = stdout;
      this.#file = undefined;
      this.#gzip = undefined;
      return;
    }
    this.#stdout = undefined;
    this.#file = createWriteStream(path);
    this.#file.on('error', (err) => (this.#error ??= err));
    this.#gzip = path.endsWith('.gz') ? createGzip() : undefined;
    this.#gzip?.on('error', (err) => (this.#error ??= err));
    this.#gzip?.pipe(this.#file);
  }

  write(chunk: string): void {
    const gzip = this.#gzip;
    if (gzip !== undefined) {
      gzip.write(chunk);
      // What the compressor holds reaches the file within gzipSyncMs (a Z_SYNC_FLUSH ends a complete deflate block).
      if (this.#syncTimer === undefined) {
        this.#syncTimer = setTimeout(() => {
          this.#syncTimer = undefined;
          if (!this.#closed) gzip.flush();
        }, this.#gzipSyncMs);
        this.#syncTimer.unref();
      }
    } else if (this.#file !== undefined) this.#file.write(chunk);
    else this.#stdout?.write(chunk);
  }

  /** Ends the file; `flag` names the output in the error (`--out json`). */
  async close(flag: string): Promise<void> {
    this.#closed = true;
    if (this.#syncTimer !== undefined) clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
    if (this.#file === undefined) return;
    const finished = once(this.#file, 'close');
    if (this.#gzip !== undefined) this.#gzip.end();
    else this.#file.end();
    try {
      await finished;
    } catch (err: unknown) {
      this.#error ??= toError(err);
    }
    if (this.#error !== undefined) {
      throw new Error(`${flag}: writing ${this.path} failed: ${this.#error.message}; check the path is writable`, { cause: this.#error });
    }
  }
}
