/** k6-style (logrus text) log lines: `time="2026-11-23T15:58:23Z" level=error msg="..." key=value`. */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

function quoteIfNeeded(v: string): string {
  return /^[A-Za-z0-9\-._/@^+]+$/.test(v) ? v : JSON.stringify(v);
}

export function formatLogLine(level: LogLevel, msg: string, fields: Readonly<Record<string, string>> = {}, when = new Date()): string {
  const time = when.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const lvl = level === 'warn' ? 'warning' : level;
  let line = `time="${time}" level=${lvl} msg=${JSON.stringify(msg)}`;
  for (const [k, v] of Object.entries(fields)) line += ` ${k}=${quoteIfNeeded(v)}`;
  return `${line}\n`;
}

export class Logger {
  readonly #warned = new Set<string>();
  constructor(
    readonly out: NodeJS.WritableStream,
    readonly verbose = false,
  ) {}
  log(level: LogLevel, msg: string, fields?: Readonly<Record<string, string>>): void {
    if (level === 'debug' && !this.verbose) return;
    this.out.write(formatLogLine(level, msg, fields));
  }
  warnOnce(key: string, msg: string, fields?: Readonly<Record<string, string>>): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.log('warn', msg, fields);
  }
}
