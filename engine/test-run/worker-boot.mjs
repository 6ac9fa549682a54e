// Worker thread bootstrap for the tsx fallback (AGENTLOAD_WORKER_BUNDLE=0, or when the cached
// esbuild bundle of worker-entry.ts cannot be built; see workerBoot in workers.ts): registers tsx in
// this thread (loader hooks do not carry over from the main thread), then loads the TypeScript entry.
import { register } from 'tsx/esm/api';

register();
await import('./worker-entry.ts');
