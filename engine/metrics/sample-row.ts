/**
 * Rows of samples (contracts.ts `SampleRow`: one time, one tag set, a value per metric) as Sample objects,
 * for the sinks that keep or write each sample (--out json, csv, Prometheus, a worker's forwarding);
 * the aggregator takes a row as it is.
 */
import type { Sample, SampleRow, SampleSink } from '../contracts.ts';

/** The row's samples in order. */
export function samplesOfRow(row: SampleRow): Sample[] {
  const { metrics, values, time, tags } = row;
  const out: Sample[] = [];
  for (let i = 0; i < values.length; i++) out.push({ metric: metrics[i] ?? '', time, value: values[i] ?? 0, tags });
  return out;
}

/** Gives `sink` the row: as a row when it takes rows, else as samples. */
export function addRowTo(sink: SampleSink, row: SampleRow): void {
  if (sink.addRow !== undefined) sink.addRow(row);
  else sink.add(samplesOfRow(row));
}
