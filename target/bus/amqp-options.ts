/** The RabbitMQ bus's settings and options (target/bus/amqp.ts), and what a publish that cannot reach the broker throws. */
import type { BusFaults, BusMessage } from '../bus.ts';
import { TargetError } from '../errors.ts';
import type { SequenceSource } from './sequence.ts';

export type AmqpDelivery = 'at-least-once' | 'at-most-once';

/** The bus's settings from the platform's variables (target/bus/select.ts). */
export interface AmqpSettings {
  /** Prefix of the exchange and queue names. */
  readonly namespace: string;
  readonly delivery: AmqpDelivery;
  /** Unacknowledged messages per subscription. */
  readonly prefetch: number;
  /** Heartbeat the client asks for, seconds: a silent (partitioned) connection is declared dead after ~2 of them. */
  readonly heartbeatS: number;
  /** How long a publish waits for the broker's confirm. */
  readonly confirmTimeoutMs: number;
  /** How long a publish waits for a connection while the broker is unreachable. */
  readonly connectTimeoutMs: number;
}

export interface AmqpBusOptions extends AmqpSettings {
  /** `amqp://user:pass@host:port/vhost`; never logged (redact it). */
  readonly url: string;
  readonly faults: () => BusFaults;
  readonly sequence: SequenceSource;
  readonly onError: (e: unknown, m?: BusMessage) => void;
  /** Connection state changes, for logs. */
  readonly onState?: (state: 'connected' | 'disconnected', detail: string) => void;
}

/** A publish that could not reach the broker (no connection, no confirm): the HTTP layer answers 503 `BUS_UNAVAILABLE`. */
export class BusUnavailableError extends TargetError {
  constructor(message: string) {
    super(503, 'BUS_UNAVAILABLE', message);
    this.name = 'BusUnavailableError';
  }
}

/** `p`, or a BusUnavailableError naming `what` once `ms` have passed. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new BusUnavailableError(`${what} after ${ms} ms`));
      }, ms);
    }),
  ]).finally(() => {
    clearTimeout(timer);
  });
}
