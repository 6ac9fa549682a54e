/**
 * `k6/websockets` and `k6/experimental/websockets` on the embedded engine: a WebSocket class per VU
 * with k6's API (browser-like events plus ping/pong, params headers/tags/compression) on top of `ws`.
 *
 * Semantics copied from k6 (grafana/k6 internal/js/modules/k6/websockets):
 * - a bad URL throws from the constructor; a failed connection fires `error` then `close`;
 * - `ws_sessions` and `ws_connecting` are emitted once per connection attempt, timed at its start;
 *   `ws_msgs_sent`/`ws_msgs_received`/`ws_ping` per message/pong; `ws_session_duration` at close;
 *   all carry the iteration's tags plus `status`, `subproto`, `url` (or `name` when set) and params tags;
 * - a close the script did not ask for, with a code other than 1000/1001, fires `error` before `close`;
 * - the iteration stays open until every socket it opened has closed; an interrupted iteration closes them;
 * - a listener that throws closes the socket and fails the iteration with that error.
 * Additions over k6 (harmless on k6 scripts): close events carry `code`, `reason` and `wasClean`.
 */
import { Blob as NodeBlob } from 'node:buffer';
import type { ModuleContext, ModuleFactory } from '../contracts.ts';
import type { K6Module } from './k6-types.ts';
import { VuSockets, VuWebSocket } from './websockets/socket.ts';

export { WebSocketError, type WebSocketEvent } from './websockets/params.ts';

/** The runtime calls a module's `Symbol.for('agentload.close')` export when the VU is closed. */
const MODULE_CLOSE = Symbol.for('agentload.close') as unknown as string;

/** The module for one VU: its own `WebSocket` class, bound to the VU's context. */
export const createWebSocketsModule: ModuleFactory = (ctx: ModuleContext) => {
  const vu = new VuSockets(ctx);
  class WebSocket extends VuWebSocket {
    constructor(url: unknown, protocols?: unknown, params?: unknown) {
      super(vu, url, protocols, params);
    }
  }
  const closeAll = (): void => {
    vu.terminateAll();
  };
  return { WebSocket, Blob: NodeBlob, default: { WebSocket, Blob: NodeBlob }, [MODULE_CLOSE]: closeAll } satisfies K6Module<
    typeof import('k6/websockets')
  >;
};
