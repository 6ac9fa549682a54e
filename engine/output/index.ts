/**
 * Public API of engine/output. `text-summary.ts` and `summary-types.ts` are Node-free (import
 * them directly from script bundles); the rest runs in Node.js.
 */
export { JsonOutput, formatRfc3339Nano, goJsonString, sortedStringMapJson, type JsonOutputOptions } from './json.ts';
export {
  DEFAULT_SUMMARY_TREND_STATS,
  buildSummaryData,
  buildSummaryExport,
  buildSummaryReport,
  k6Id,
  summaryExportJson,
  type SummaryExport,
  type SummaryExportGroup,
  type SummaryInput,
} from './summary.ts';
export type {
  SummaryCheck,
  SummaryData,
  SummaryGroup,
  SummaryMetric,
  SummaryMetricType,
  SummaryReport,
  SummaryReportGroup,
  SummaryValueType,
} from './summary-types.ts';
export { compareMetricNames, humanizeValue, strWidth, textSummary, type TextSummaryOptions } from './text-summary.ts';
export { thresholdsAbortMessage, thresholdsCrossedMessage } from '../thresholds/index.ts';
