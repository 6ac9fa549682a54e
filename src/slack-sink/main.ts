/**
 * Runs the Slack reply sink alone, e.g. for a real bot: point the bot's Slack API base URL at the printed
 * `SLACK_API_URL`, and the script at `SLACK_SINK_URL`.
 *
 *   node --import tsx src/slack-sink/main.ts        # HOST=127.0.0.1 PORT=0 (free port) by default
 *   SLACK_SINK_PORT=9999 SLACK_SINK_TOKEN=xoxb-... node --import tsx src/slack-sink/main.ts
 */
import { EXIT_CODES } from '../../shared/exit-codes.ts';
import { startSlackSink } from './index.ts';

const port = Number(process.env.SLACK_SINK_PORT ?? '0');
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`SLACK_SINK_PORT must be a port number 0..65535, got ${JSON.stringify(process.env.SLACK_SINK_PORT)}`);
  process.exit(EXIT_CODES.invalidConfig);
}
const late = Number(process.env.SLACK_SINK_LATE_MS ?? '30000');
const token = process.env.SLACK_SINK_TOKEN;
// No top-level await: this file is also loaded as a CommonJS bundle (children.ts, engine/runtime/prebuilt.ts).
async function main(): Promise<void> {
  const sink = await startSlackSink({
    host: process.env.SLACK_SINK_HOST ?? '127.0.0.1',
    port,
    lateAfterMs: Number.isFinite(late) && late > 0 ? late : 30_000,
    ...(token !== undefined && token !== '' ? { token } : {}),
  });
  console.log(`agentload slack sink listening on ${sink.url}`);
  console.log(`  give the bot   SLACK_API_URL=${sink.apiUrl}`);
  console.log(`  give the script SLACK_SINK_URL=${sink.url}`);
  const stop = (): void => {
    const s = sink.stats();
    console.log(`slack sink: ${JSON.stringify(s)}`);
    void sink.close().then(() => {
      process.exitCode = EXIT_CODES.ok;
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
main().catch((e: unknown) => {
  console.error(`slack sink failed to start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
