/**
 * `k6/experimental/csv`: `csv.parse(file, options?)` → a promise of a SharedArray of records (built once
 * per engine instance), and `new csv.Parser(file, options?)` whose `next()` resolves `{ done, value }`
 * record by record. Options as k6 documents them: `delimiter` (','), `asObjects` (records keyed by the
 * header line, which is then skipped), `skipFirstLine`, `fromLine` and `toLine` (0-based line numbers,
 * `toLine` included). Parsing follows RFC 4180 as Go's encoding/csv does (quoted fields, "" escapes,
 * CRLF or LF); csv-parse does the parsing.
 */
import { parse } from 'csv-parse/sync';
import type { EngineModuleContext } from './context.ts';
import { File } from './fs.ts';
import { toError } from '../../shared/errors.ts';
import { ModuleUsageError } from './k6.ts';
import type { K6Module } from './k6-types.ts';

interface CsvOptions {
  delimiter: string;
  asObjects: boolean;
  skipFirstLine: boolean;
  fromLine: number | undefined;
  toLine: number | undefined;
}

function readOptions(raw: unknown): CsvOptions {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const line = (k: string): number | undefined => {
    const v = o[k];
    if (v === undefined || v === null) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new ModuleUsageError('csv-bad-options', `csv options.${k} must be a whole number >= 0, got ${JSON.stringify(v)}`);
    return n;
  };
  const delimiter = o.delimiter === undefined ? ',' : typeof o.delimiter === 'string' ? o.delimiter : JSON.stringify(o.delimiter);
  if (delimiter.length !== 1)
    throw new ModuleUsageError('csv-bad-options', `csv options.delimiter must be one character, got ${JSON.stringify(o.delimiter)}`);
  return {
    delimiter,
    asObjects: o.asObjects === true,
    skipFirstLine: o.skipFirstLine === true,
    fromLine: line('fromLine'),
    toLine: line('toLine'),
  };
}

function fileOf(file: unknown, what: string): File {
  if (!(file instanceof File))
    throw new ModuleUsageError(
      'csv-bad-file',
      `${what}: the first argument must be a file from k6/experimental/fs open(), e.g. const file = await open('data.csv')`,
    );
  return file;
}

/** Every record the options select, as arrays of strings or objects keyed by the header. */
function records(file: File, opts: CsvOptions): (string[] | Record<string, string>)[] {
  const rows: string[][] = parse(Buffer.from(file.bytes()), {
    delimiter: opts.delimiter,
    relax_column_count: true,
    skip_empty_lines: true,
    bom: true,
  });
  let header: string[] | undefined;
  let start = opts.fromLine ?? 0;
  if (opts.asObjects) {
    header = rows[0] ?? [];
    start = Math.max(start, 1);
  } else if (opts.skipFirstLine) {
    start = Math.max(start, 1);
  }
  const end = opts.toLine === undefined ? rows.length : Math.min(rows.length, opts.toLine + 1);
  const out: (string[] | Record<string, string>)[] = [];
  for (let i = start; i < end; i++) {
    const r = rows[i] ?? [];
    if (header === undefined) out.push(r);
    else out.push(Object.fromEntries(header.map((h, j) => [h, r[j] ?? ''])));
  }
  return out;
}

export function createCsvModule(ctx: EngineModuleContext): Record<string, unknown> {
  function parseFile(file: unknown, options?: unknown): Promise<readonly unknown[]> {
    try {
      const f = fileOf(file, 'csv.parse(file)');
      const opts = readOptions(options);
      const key = `k6/experimental/csv:${f.path}:${JSON.stringify(opts)}`;
      const cached = ctx.shared.get(key) as readonly unknown[] | undefined;
      if (cached !== undefined) return Promise.resolve(cached);
      const rows = Object.freeze(records(f, opts).map((r) => Object.freeze(r)));
      ctx.shared.set(key, rows);
      return Promise.resolve(rows);
    } catch (e) {
      return Promise.reject(toError(e));
    }
  }
  class Parser {
    readonly #rows: (string[] | Record<string, string>)[];
    #next = 0;
    constructor(file: unknown, options?: unknown) {
      this.#rows = records(fileOf(file, 'new csv.Parser(file)'), readOptions(options));
    }
    next(): Promise<{ done: boolean; value: string[] | Record<string, string> | undefined }> {
      const value = this.#rows[this.#next];
      if (value === undefined) return Promise.resolve({ done: true, value: undefined });
      this.#next++;
      return Promise.resolve({ done: false, value });
    }
  }
  return { parse: parseFile, Parser } satisfies K6Module<typeof import('k6/experimental/csv')>;
}
