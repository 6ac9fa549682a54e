/** The value conversions of k6's Selection: data-* keys and values, Go's query escaping. */
// golint's initialisms, which k6's snaker turns into upper case in data() keys (data-user-id → userID).
const INITIALISMS = new Set([
  'ACL',
  'API',
  'ASCII',
  'CPU',
  'CSS',
  'DNS',
  'EOF',
  'GUID',
  'HTML',
  'HTTP',
  'HTTPS',
  'ID',
  'IP',
  'JSON',
  'LHS',
  'QPS',
  'RAM',
  'RHS',
  'RPC',
  'SLA',
  'SMTP',
  'SQL',
  'SSH',
  'TCP',
  'TLS',
  'TTL',
  'UDP',
  'UI',
  'UID',
  'UUID',
  'URI',
  'URL',
  'UTF8',
  'VM',
  'XML',
  'XMPP',
  'XSRF',
  'XSS',
]);

/** `num-a` → `numA`, `user-id` → `userID` (k6's attrToProperty). */
export function attrToProperty(s: string): string {
  const i = s.indexOf('-');
  if (i === -1) return s;
  const rest = s
    .slice(i + 1)
    .split(/[-_]/)
    .filter((w) => w !== '')
    .map((w) => {
      const up = w.toUpperCase();
      return INITIALISMS.has(up) ? up : up.slice(0, 1) + w.slice(1);
    });
  return s.slice(0, i) + rest.join('');
}

/** `testB` → `test-b`, `userID` → `user-id` (k6's propertyToAttr). */
export function propertyToAttr(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase();
}

/** k6's data attribute conversion: JSON for `{`/`[`, booleans, numbers that round-trip, '' / null / undefined → undefined. */
export function dataValue(v: string): unknown {
  if (v === '' || v === 'null' || v === 'undefined') return undefined;
  if (v.startsWith('{') || v.startsWith('[')) {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (v === 'NaN') return NaN;
  const n = Number(v);
  return v.trim() === v && Number.isFinite(n) && String(n) === v ? n : v;
}

/** Go's url.QueryEscape: unreserved kept, space as '+', the rest %XX. */
export function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}
