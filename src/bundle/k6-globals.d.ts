// Globals the k6 runtime (and the embedded engine) provide to load scripts that @types/k6 does not declare.
// Part of the load-script compiler settings (tsconfig.k6.json); not seen by the Node-side tsconfig.json.

interface K6Console {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
  debug(...data: unknown[]): void;
}

// eslint-disable-next-line no-var
declare var console: K6Console;
