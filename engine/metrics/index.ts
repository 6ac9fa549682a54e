/** Public API of engine/metrics: registry, sinks (bounded-memory trends), aggregation. */
export {
  BUILTIN_METRICS,
  MetricError,
  MetricRegistry,
  isMetricType,
  isValidMetricName,
  isValueType,
  type MetricErrorCode,
} from './registry.ts';
export {
  CounterSink,
  GaugeSink,
  RateSink,
  TrendSink,
  TREND_RELATIVE_ERROR,
  createSink,
  exactPercentile,
  mergeSink,
  parseTrendStat,
  type CounterSnapshot,
  type GaugeSnapshot,
  type RateSnapshot,
  type Sink,
  type SinkSnapshot,
  type TrendSnapshot,
  type TrendStatName,
} from './sinks.ts';
export { addRowTo, samplesOfRow } from './sample-row.ts';
export { parseMetricKey, sameTags, type ParsedMetricKey, type ParseMetricKeyResult } from './submetric.ts';
export {
  Aggregator,
  AggregatorError,
  type AggregatorOptions,
  type AggregatorSnapshot,
  type CheckRecord,
  type MetricState,
  type SubmetricInfo,
} from './aggregator.ts';
