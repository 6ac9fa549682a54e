/** The shapes shared by the k6 JSON ingest modules (ingest.ts, ingest-read.ts, k6-line-parser.ts). */

import type { MetricType, ValueType } from '../../engine/contracts.ts';
import type { Agg } from './aggregate.ts';

export interface SubmetricDef {
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface MetricDef {
  readonly name: string;
  readonly type: MetricType;
  readonly contains: ValueType;
  readonly thresholds: string[];
  readonly submetrics: SubmetricDef[];
}

export interface FileInfo {
  readonly path: string;
  lines: number;
  points: number;
  badLines: number;
  /** Set when the file ends in an incomplete line (a killed run) or a cut gzip stream. */
  truncated: boolean;
  firstTime: number;
  lastTime: number;
}

/** Per-metric shortcuts for the byte fast path. */
export interface MetricSlot {
  readonly def: MetricDef;
  readonly perTag: Map<number, Agg>;
  /** The same aggregates as perTag, by tag set id (dense, no hashing). */
  readonly byTag: (Agg | undefined)[];
  /** The bucket aggregate last used, valid while bucketStart and bucketGen still hold. */
  bucketStart: number;
  bucketGen: number;
  bucketAgg: Agg | undefined;
  /** Raw name bytes as they appear in lines (no escapes: those lines take the other paths). */
  readonly nameBytes: Buffer;
  /** The metric of the fast-path line that last followed one of this metric: the next line's first guess. */
  next: MetricSlot | undefined;
  /** Whether the metric also keeps a time series per tag set (TAG_SERIES_METRIC). */
  readonly tagSeries: boolean;
}
