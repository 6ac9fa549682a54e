/** `--execution-segment` and `--execution-segment-sequence` (flag > K6_* variable > script option) read and checked. */
import type { Issue } from '../contracts.ts';
import { issue } from '../executors/common.ts';
import { ExecutionSegment, ExecutionTuple, parseSegmentSequence, type ExecutionSegmentSequence } from '../units/segments.ts';
import type { EnvVars } from './read.ts';

/** This instance's segment, the sequence it belongs to, and the tuple every scaling uses; the texts as given. */
export interface SegmentChoice {
  readonly segText: string | undefined;
  readonly seqText: string | undefined;
  readonly segment: ExecutionSegment;
  readonly sequence: ExecutionSegmentSequence;
  readonly tuple: ExecutionTuple;
}

export function resolveSegment(
  script: Record<string, unknown>,
  overrides: { readonly executionSegment?: string; readonly executionSegmentSequence?: string },
  vars: EnvVars,
  issues: Issue[],
): SegmentChoice {
  const segText =
    overrides.executionSegment ??
    vars.K6_EXECUTION_SEGMENT ??
    (typeof script.executionSegment === 'string' ? script.executionSegment : undefined);
  const seqText =
    overrides.executionSegmentSequence ??
    vars.K6_EXECUTION_SEGMENT_SEQUENCE ??
    (typeof script.executionSegmentSequence === 'string' ? script.executionSegmentSequence : undefined);
  let segment = ExecutionSegment.full();
  if (segText !== undefined) {
    const r = ExecutionSegment.parse(segText);
    if (r.ok) segment = r.value;
    else
      issues.push(
        issue(
          'invalid-segment',
          'executionSegment',
          `--execution-segment ${JSON.stringify(segText)}: ${r.message}; use e.g. 0:1/2, 1/3:2/3 or 50%:100%`,
        ),
      );
  }
  let sequence: ExecutionSegmentSequence = [];
  if (seqText !== undefined) {
    const r = parseSegmentSequence(seqText);
    if (r.ok) sequence = r.value;
    else
      issues.push(
        issue(
          'invalid-segment-sequence',
          'executionSegmentSequence',
          `--execution-segment-sequence ${JSON.stringify(seqText)}: ${r.message}; use e.g. 0,1/3,2/3,1`,
        ),
      );
  }
  if (sequence.length > 0 && !sequence.some((s) => s.equals(segment))) {
    issues.push(
      issue(
        'segment-not-in-sequence',
        'executionSegment',
        `provided segment ${segment.toString()} can't be found in sequence ${seqText ?? ''}; pick one of its segments`,
      ),
    );
  }
  const tupleResult = ExecutionTuple.create(segment, sequence.length > 0 && sequence.some((s) => s.equals(segment)) ? sequence : undefined);
  const tuple = tupleResult.ok ? tupleResult.value : ExecutionTuple.full();
  return { segText, seqText, segment, sequence, tuple };
}
