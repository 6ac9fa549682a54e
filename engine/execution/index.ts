/**
 * Test execution: execution segments (k6's exact split between instances and workers),
 * the pure test plan and run header, and the scheduler that runs every scenario.
 *
 * Order of use (runtime): resolveOptions → planExecution(options.scenarios, options.tuple) →
 * initialise plan.maxPlannedVUs VUs → describeTest(plan) for the header → setup() →
 * new TestRun(plan, rt).run() → teardown → summary. ProgressDisplay draws k6's live bars on a TTY.
 */

export * from '../units/segments.ts';
export * from './execution-plan.ts';
export * from './scheduler.ts';
export * from './progress.ts';
