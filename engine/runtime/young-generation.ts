/**
 * The entry points start the process running the engine with its young generation fixed at 16 MB
 * semi-spaces (scripts/young-generation.mjs). V8 flags hold for every isolate created in the process,
 * and each isolate reads them when it is created: a run resets them before it starts any thread, so sync
 * VU threads (one isolate per VU, thousands of them) and --workers threads keep V8's own young generation,
 * which starts small and grows, instead of each taking 32 MB.
 */
import { setFlagsFromString } from 'node:v8';

let released = false;

/** Sets the semi-space flags back to V8's defaults (0: unset) for isolates created from now on; the calling isolate keeps its own. */
export function releaseYoungGenerationFlags(): void {
  if (released) return;
  released = true;
  setFlagsFromString('--min-semi-space-size=0');
  setFlagsFromString('--max-semi-space-size=0');
}
