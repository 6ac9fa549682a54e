// VU thread bootstrap for the tsx fallback (AGENTLOAD_WORKER_BUNDLE=0, or when the cached esbuild
// bundle of vu-thread.ts cannot be built; see threadBoot in engine/runtime/workers.ts).
import { register } from 'tsx/esm/api';

register();
await import('./vu-thread.ts');
