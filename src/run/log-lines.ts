/**
 * The engine's log lines as people read them: k6 writes logrus logfmt (`time="…" level=error msg="…\n\tat …"
 * source=stacktrace`) when its output is not a terminal, with a stack trace's frames escaped onto one line.
 * The run command shows them as k6 does on a terminal, `ERRO[0003] message  key=value`, the frames on lines
 * of their own. Anything that is not such a line (progress, other output) passes through untouched.
 */
import { Writable } from 'node:stream';

const LEVELS: Readonly<Record<string, string>> = {
  debug: 'DEBU',
  info: 'INFO',
  warning: 'WARN',
  warn: 'WARN',
  error: 'ERRO',
  fatal: 'FATA',
  panic: 'PANI',
};

/** One logfmt value: a bare word or a JSON-style quoted string (k6 quotes with Go's %q, which JSON reads). */
function readValue(line: string, at: number): { value: string; end: number } | undefined {
  if (line[at] !== '"') {
    const end = line.indexOf(' ', at);
    return { value: line.slice(at, end < 0 ? line.length : end), end: end < 0 ? line.length : end };
  }
  for (let i = at + 1; i < line.length; i++) {
    if (line[i] === '\\') {
      i++;
      continue;
    }
    if (line[i] === '"') {
      try {
        return { value: JSON.parse(line.slice(at, i + 1)) as string, end: i + 1 };
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** `time="…" level=… msg="…" k=v` → its fields in order; undefined when the line is not logfmt of that shape. */
export function parseLogfmt(line: string): { key: string; value: string }[] | undefined {
  if (!line.startsWith('time=')) return undefined;
  const out: { key: string; value: string }[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ') i++;
    if (i >= line.length) break;
    const eq = line.indexOf('=', i);
    if (eq < 0) return undefined;
    const key = line.slice(i, eq);
    if (!/^[A-Za-z_][\w.-]*$/.test(key)) return undefined;
    const v = readValue(line, eq + 1);
    if (v === undefined) return undefined;
    out.push({ key, value: v.value });
    i = v.end;
  }
  return out.some((f) => f.key === 'level') && out.some((f) => f.key === 'msg') ? out : undefined;
}

/** A logfmt line made readable (`ERRO[0003] msg  k=v`, multi-line messages on their own lines); other lines as they are. */
export function readableLogLine(line: string, startedAt: number): string {
  const fields = parseLogfmt(line);
  if (fields === undefined) return line;
  const get = (k: string): string => fields.find((f) => f.key === k)?.value ?? '';
  const level = LEVELS[get('level')] ?? get('level').slice(0, 4).toUpperCase();
  const t = Date.parse(get('time'));
  const secs = Number.isFinite(t) ? Math.max(0, Math.round((t - startedAt) / 1000)) : 0;
  const rest = fields
    .filter((f) => f.key !== 'time' && f.key !== 'level' && f.key !== 'msg')
    .map((f) => `${f.key}=${/[\s"]/.test(f.value) ? JSON.stringify(f.value) : f.value}`);
  const [first = '', ...more] = get('msg').replace(/\r\n/g, '\n').replace(/\s+$/, '').split('\n');
  const head = `${level}[${String(secs).padStart(4, '0')}] ${first}${rest.length > 0 ? `  ${rest.join(' ')}` : ''}`;
  return [head, ...more.map((l) => (l.startsWith('\t') || l.startsWith(' ') ? `    ${l.trimStart()}` : `    ${l}`))].join('\n');
}

/**
 * A stream that writes the engine's stderr to `out` with logfmt lines made readable. A partial line is held
 * only while it looks like a log line (so progress frames, which end without a newline, are never delayed).
 */
export class ReadableLog extends Writable {
  #pending = '';
  readonly #startedAt: number;
  constructor(
    readonly out: NodeJS.WritableStream & { readonly columns?: number },
    startedAt = Date.now(),
  ) {
    super();
    this.#startedAt = startedAt;
  }

  get columns(): number | undefined {
    return this.out.columns;
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    let text = this.#pending + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    this.#pending = '';
    let out = '';
    for (;;) {
      const nl = text.indexOf('\n');
      if (nl < 0) break;
      out += `${readableLogLine(text.slice(0, nl), this.#startedAt)}\n`;
      text = text.slice(nl + 1);
    }
    if (text.startsWith('time=')) this.#pending = text;
    else out += text;
    if (out === '') {
      cb();
      return;
    }
    this.out.write(out, () => {
      cb();
    });
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.#pending === '') {
      cb();
      return;
    }
    this.out.write(readableLogLine(this.#pending, this.#startedAt), () => {
      cb();
    });
    this.#pending = '';
  }
}
