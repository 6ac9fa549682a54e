/**
 * Preloaded (`node --import tsx --import .../child-preload.ts`) into every Node child a run starts
 * (children.ts), and into the run itself under the `agentload` binary: when the parent is gone, however
 * it ended (SIGKILL included), this process stops too. It gets SIGTERM first, so its own shutdown runs
 * (the bundled platform closes its server and database; a run stops its engine and children); whatever
 * is still alive in its process group after the grace period is killed.
 */
import { PARENT_PID_VAR, signalOwnGroup, watchParent } from './parent-watch.ts';

const GRACE_VAR = 'AGENTLOAD_CHILD_GRACE_MS';
const parent = process.env[PARENT_PID_VAR];
/** How long this process may take to stop by itself once its parent is gone. */
const graceMs = Number(process.env[GRACE_VAR] ?? '5000');
// Meant for this process only: processes it starts get their own from children.ts.
Reflect.deleteProperty(process.env, PARENT_PID_VAR);
Reflect.deleteProperty(process.env, GRACE_VAR);

if (parent !== undefined) {
  watchParent(() => {
    process.on('exit', () => {
      signalOwnGroup('SIGKILL');
    }); // its own children too, once it is done
    setTimeout(
      () => {
        signalOwnGroup('SIGKILL');
      },
      Number.isFinite(graceMs) ? graceMs : 5000,
    ).unref();
    signalOwnGroup('SIGTERM');
  }, Number(parent));
}
