/**
 * The names of the metrics k6 records for every HTTP request. Node-free: the engine's summary (bundled into
 * scripts), the report and the benches share it; engine/metrics/registry.ts declares their types.
 */

/** A request's sub-timings, in k6's order: blocked, then the connection and TLS set-up, then the exchange. */
export const HTTP_SUB_TIMINGS = [
  'http_req_blocked',
  'http_req_connecting',
  'http_req_tls_handshaking',
  'http_req_sending',
  'http_req_waiting',
  'http_req_receiving',
] as const;

/** Every per-request HTTP metric: the count, the duration, the sub-timings and the failure rate. */
export const HTTP_REQ_METRICS = ['http_reqs', 'http_req_duration', ...HTTP_SUB_TIMINGS, 'http_req_failed'] as const;
