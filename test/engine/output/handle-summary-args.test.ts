/**
 * handleSummary is called as k6 calls it: with `data` only. The summary report (thresholds' judged values,
 * per-group and per-scenario aggregates) comes as a second argument only to a script that asks for it by
 * exporting SUMMARY_REPORT_EXPORT = true, as the toolkit's bundles do; in both VU modes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SUMMARY_REPORT_EXPORT } from '../../../engine/output/summary-types.ts';
import { runSource } from '../conformance/run-helpers.ts';

const script = (asks: boolean): string => `export const options = { iterations: 1 };
${asks ? `export const ${SUMMARY_REPORT_EXPORT} = true;\n` : ''}export default function () {}
export function handleSummary(data, report) {
  const second = report === undefined ? 'none' : Object.keys(report).sort().join(',');
  return { stdout: 'handleSummary arguments: ' + String(arguments.length) + '; second: ' + second + '\\n' };
}
`;

for (const mode of ['async', 'sync'] as const) {
  void test(`${mode} VUs: a plain k6 script's handleSummary gets one argument, as on k6`, async () => {
    const r = await runSource(script(false), ['--vu-mode', mode]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /handleSummary arguments: 1; second: none/);
  });

  void test(`${mode} VUs: a script that exports ${SUMMARY_REPORT_EXPORT} = true gets the summary report second`, async () => {
    const r = await runSource(script(true), ['--vu-mode', mode]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /handleSummary arguments: 2; second: [\w,]*thresholdValues/);
  });
}
