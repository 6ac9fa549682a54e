// The Node.js flags that fix V8's young generation of the process running the engine's load at its
// largest size from the start (16 MB semi-spaces, V8's default maximum on 64-bit Node.js 20), so its RSS
// does not step up ~30 MB minutes into a long run when V8 grows the young generation under steady load
// (docs/engine.md, "Memory over time"). They are V8 flags, which hold for every isolate of the process:
// the engine resets them when a run starts (engine/runtime/young-generation.ts), so threads started
// later (sync VU threads, --workers threads) keep V8's own small, growing young generation.
// Applied by `npm run k6` (package.json, literally), the agentload binary (bin/agentload.mjs) and
// `npm run bench:soak`; AGENTLOAD_YOUNG_GENERATION=grow leaves them out of the latter two.
export const YOUNG_GENERATION_FLAGS = ['--min-semi-space-size=16', '--max-semi-space-size=16'];

/** The flags, or none when `env` opts out (AGENTLOAD_YOUNG_GENERATION=grow). */
export function youngGenerationFlags(env) {
  return env.AGENTLOAD_YOUNG_GENERATION === 'grow' ? [] : YOUNG_GENERATION_FLAGS;
}
