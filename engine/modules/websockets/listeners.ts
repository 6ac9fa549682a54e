/**
 * A k6 WebSocket's event handlers: the one `on<type>` property per event type and the listeners added
 * with addEventListener, which k6 calls in that order (engine/modules/websockets/socket.ts dispatches).
 */
import { EVENT_TYPES, WebSocketError, type EventType, type Listener } from './params.ts';

export class SocketListeners {
  readonly #on = new Map<EventType, Listener>();
  readonly #added = new Map<EventType, Listener[]>();

  /** The `on<type>` property's value. */
  on(type: EventType): Listener | null {
    return this.#on.get(type) ?? null;
  }

  /** Sets `on<type>`; null or undefined removes it, anything else not callable throws as k6 does. */
  setOn(type: EventType, f: unknown): void {
    if (f === null || f === undefined) {
      this.#on.delete(type);
      return;
    }
    if (typeof f !== 'function') {
      throw new WebSocketError('ws-bad-handler', `a value for 'on${type}' should be callable, got ${typeof f}`);
    }
    this.#on.set(type, f as Listener);
  }

  /** addEventListener: a handler that is not callable throws; an unknown event type is not added (false: the caller warns). */
  add(type: string, handler: unknown): boolean {
    if (typeof handler !== 'function') {
      throw new WebSocketError('ws-bad-handler', `handler for event type ${JSON.stringify(type)} isn't a callable function`);
    }
    if (!(EVENT_TYPES as readonly string[]).includes(type)) return false;
    const t = type as EventType;
    const list = this.#added.get(t) ?? [];
    list.push(handler as Listener);
    this.#added.set(t, list);
    return true;
  }

  /** The handlers an event of `type` calls, in k6's order: `on<type>` first, then the added listeners. */
  handlers(type: EventType): readonly Listener[] {
    const on = this.#on.get(type);
    const added = this.#added.get(type) ?? [];
    return on === undefined ? added : [on, ...added];
  }
}
