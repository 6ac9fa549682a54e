/**
 * Starts the Slack reply sink (`src/slack-sink/main.ts`) as a child of the run (children.ts), so the replies
 * it times are not delayed by the load generator's event loop, and it stops with the run however it ends.
 */
import { join } from 'node:path';
import type { SlackSink } from './adapters.ts';
import { ChildGroup, SYSTEM_ENV } from './children.ts';

export interface SinkProcessOptions {
  /** Toolkit root: where `src/slack-sink/main.ts` is. */
  readonly root: string;
  readonly group?: ChildGroup;
  readonly abort?: AbortSignal;
  readonly onStderr?: (line: string) => void;
}

const LISTENING = /listening on (http:\/\/\S+)/;
const API = /SLACK_API_URL=(http:\/\/\S+)/;

export async function startSlackSinkProcess(o: SinkProcessOptions): Promise<SlackSink> {
  const env: Record<string, string> = { SLACK_SINK_HOST: '127.0.0.1', SLACK_SINK_PORT: '0' };
  for (const name of SYSTEM_ENV) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  let url = '';
  const child = await (o.group ?? new ChildGroup()).start(
    {
      name: 'the Slack reply sink',
      node: true,
      command: join(o.root, 'src', 'slack-sink', 'main.ts'),
      args: [],
      cwd: o.root,
      env,
      onStdout: (line) => {
        url = LISTENING.exec(line)?.[1] ?? url;
      },
      ready: API,
      ...(o.onStderr === undefined ? {} : { onStderr: o.onStderr }),
    },
    o.abort,
  );
  return { url, apiUrl: child.ready?.[1] ?? `${url}/api`, close: () => child.stop() };
}
