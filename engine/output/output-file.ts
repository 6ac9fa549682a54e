/**
 * Where a line-based output (`--out json`, `--out csv`) writes: a file, gzip-compressed when its name ends
 * in `.gz`, or stdout for `-` (or an empty name), as k6 does. `close()` flushes and ends the file and
 * rejects with one line naming the output and the path if anything failed; stdout is never closed.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip, type Gzip } from 'node:zlib';

export class OutputFile {
  readonly path: string;
  readonly toStdout: boolean;
  readonly #file: WriteStream | undefined;
  readonly #gzip: Gzip | undefined;
  readonly #stdout: NodeJS.WritableStream | undefined;
  #error: Error | undefined;

  constructor(path: string, stdout: NodeJS.WritableStream = process.stdout) {
    this.path = path;
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
    if (this.#gzip !== undefined) this.#gzip.write(chunk);
    else if (this.#file !== undefined) this.#file.write(chunk);
    else this.#stdout?.write(chunk);
  }

  /** Ends the file; `flag` names the output in the error (`--out json`). */
  async close(flag: string): Promise<void> {
    if (this.#file === undefined) return;
    const finished = once(this.#file, 'close');
    if (this.#gzip !== undefined) this.#gzip.end();
    else this.#file.end();
    try {
      await finished;
    } catch (err: unknown) {
      this.#error ??= err instanceof Error ? err : new Error(String(err));
    }
    if (this.#error !== undefined) {
      throw new Error(`${flag}: writing ${this.path} failed: ${this.#error.message}; check the path is writable`, { cause: this.#error });
    }
  }
}
