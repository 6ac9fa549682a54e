/** k6's start-of-run banner and header (execution, script, output, scenarios). */

export const BANNER =
  [
    '',
    '          /\\      |‾‾| /‾‾/   /‾‾/   ',
    '     /\\  /  \\     |  |/  /   /  /    ',
    '    /  \\/    \\    |     (   /   ‾‾\\  ',
    '   /          \\   |  |\\  \\ |  (‾)  | ',
    '  / __________ \\  |__| \\__\\ \\_____/ .io',
    '',
  ].join('\n') + '\n';

export interface HeaderInput {
  readonly script: string;
  /** e.g. `json (out.json)`, or '-' */
  readonly output: string;
  /** `(100.00%) 3 scenarios, 13 max VUs, 41s max duration (incl. graceful stop):` */
  readonly scenariosLine: string;
  /** `api: 20.00 iterations/s for 4s (...)`, sorted by name */
  readonly scenarioLines: readonly string[];
  /** The synchronous VU mode's line (agentload extension), when that mode runs. */
  readonly vuMode?: string;
}

export function formatHeader(h: HeaderInput): string {
  const lines = [
    `     execution: local`,
    `        script: ${h.script}`,
    `        output: ${h.output}`,
    ...(h.vuMode === undefined ? [] : [`       vu mode: ${h.vuMode}`]),
    '',
    `     scenarios: ${h.scenariosLine}`,
    ...h.scenarioLines.map((l) => `              * ${l}`),
    '',
  ];
  return `${lines.join('\n')}\n`;
}
