/** Public API of engine/thresholds: k6 threshold grammar, parsing with every issue, evaluation. */
export {
  compare,
  goQuote,
  parseGoFloat,
  parseThresholdExpression,
  sinkKey,
  supportedMethods,
  supportedMethodsText,
  type AggregationMethod,
  type Operator,
  type ParseExpressionResult,
  type ThresholdExpression,
} from './expression.ts';
export {
  THRESHOLD_EVAL_INTERVAL_MS,
  ThresholdSet,
  goDurationString,
  parseK6Duration,
  parseThresholds,
  thresholdMetricKeys,
  thresholdsAbortMessage,
  thresholdsCrossedMessage,
  type ThresholdDefinition,
  type ThresholdEvaluation,
  type ThresholdJsonConfig,
  type ThresholdOutcome,
  type ThresholdsByKey,
} from './set.ts';
export { checkThreshold, judgeThreshold, observedValue, unsupportedMethodMessage, type MetricAggregate } from './judge.ts';
