/**
 * The child's half of "children die with the run": noticing that the process that started it is gone.
 * Two signals, either is enough: the IPC channel to the parent closes (the kernel closes it when the
 * parent dies, SIGKILL included), or the parent pid is no longer the parent (the child was re-parented
 * to init or a subreaper) or no longer exists. Used by child-preload.ts (every Node child of a run) and
 * child-guard.ts (the wrapper around non-Node commands such as k6); spawned by children.ts.
 */

/** Set by children.ts for the child: the pid of the run that started it. */
export const PARENT_PID_VAR = 'AGENTLOAD_PARENT_PID';

/** How often the parent pid is checked when there is no IPC channel to notice it sooner. */
export const PARENT_POLL_MS = 250;

/**
 * Calls `onGone(reason)` once when the parent is gone. Keeps nothing alive: the IPC channel and the
 * poll timer are unreferenced, so a child that is otherwise done still exits. Returns a stop function.
 */
export function watchParent(onGone: (reason: string) => void, parentPid = Number(process.env[PARENT_PID_VAR] ?? process.ppid)): () => void {
  let done = false;
  const fire = (reason: string): void => {
    if (done) return;
    done = true;
    stop();
    onGone(reason);
  };
  const onDisconnect = (): void => {
    fire('the IPC channel to the parent closed');
  };
  const channel = process.channel;
  if (channel !== undefined) {
    channel.unref();
    process.on('disconnect', onDisconnect);
  }
  const timer = setInterval(() => {
    if (process.ppid !== parentPid) {
      fire(`re-parented to pid ${String(process.ppid)}`);
      return;
    }
    try {
      process.kill(parentPid, 0);
    } catch {
      fire(`parent pid ${String(parentPid)} is gone`);
    }
  }, PARENT_POLL_MS);
  timer.unref();
  function stop(): void {
    clearInterval(timer);
    process.off('disconnect', onDisconnect);
  }
  return stop;
}

/** Signals this process's group when it leads one (children.ts starts each child as a group leader), else itself. */
export function signalOwnGroup(signal: NodeJS.Signals): void {
  try {
    process.kill(-process.pid, signal);
  } catch {
    process.kill(process.pid, signal);
  }
}
