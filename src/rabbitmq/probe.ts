/** Whether a RabbitMQ broker answers at `url` (an AMQP handshake, then close): the run's pre-flight check. */
import { connect } from 'amqplib';

/** Resolves when the broker accepted a connection; rejects with the reason (refused, timeout, auth) otherwise. */
export async function probeAmqp(url: string, timeoutMs = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const attempt = connect(url, { timeout: timeoutMs });
  try {
    const c = await Promise.race([
      attempt,
      new Promise<never>((_r, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`no answer within ${timeoutMs} ms`));
        }, timeoutMs + 500);
      }),
    ]);
    await c.close();
  } finally {
    clearTimeout(timer);
    // A connection that completes after the timeout must not stay open.
    void attempt.then((c) => c.close()).catch(() => undefined);
  }
}
