// Worker thread bootstrap: registers tsx in this thread (loader hooks do not carry over from the
// main thread), then loads the TypeScript worker entry.
import { register } from 'tsx/esm/api';

register();
await import('./worker-entry.ts');
