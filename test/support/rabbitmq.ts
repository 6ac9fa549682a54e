/**
 * A throw-away RabbitMQ broker for tests: Debian's rabbitmq-server on free loopback ports in a temporary
 * folder, with its own node name, cookie and epmd (never the machine's service). One broker per test file:
 * a start takes seconds (10-25 s on a busy 2-core machine), so share it with `before`/`after`.
 *
 * Needs the `rabbitmq-server` package (scripts/setup-system.sh installs it). Same launcher as the run
 * command's (src/rabbitmq/broker.ts): `stop()`/`start()` restart it on the same data, `kill()` is kill -9.
 */
import { startRabbitmq, type Broker } from '../../src/rabbitmq/broker.ts';

export type { Broker } from '../../src/rabbitmq/broker.ts';

export async function startBroker(): Promise<Broker> {
  const lines: string[] = [];
  try {
    return await startRabbitmq({
      onLine: (l) => {
        lines.push(l);
        if (lines.length > 50) lines.shift();
      },
    });
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${lines.join('\n')}`);
  }
}
