/**
 * Cookie syntax as Go's net/http reads and writes it (k6's rules, used by cookies.ts): one `name=value`
 * pair of a Cookie header with Go's value sanitising, a Set-Cookie line as `readSetCookies` parses it,
 * the cookie dates Go accepts, and `expires` in ms as k6 reports it. Pure functions, no state.
 */

/** What k6 reports as `expires` for a cookie without (a parseable) Expires: Go's zero time, UnixNano()/1e6. */
export const K6_NO_EXPIRES = -6795364578871;

/** A Set-Cookie line as Go's net/http reads it. maxAge: 0 = absent, -1 = "<= 0", else seconds. expiresSec: undefined = none. */
export interface GoCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  secure: boolean;
  httpOnly: boolean;
  maxAge: number;
  expiresSec: number | undefined;
}

export function appendCookie(header: string, name: string, value: string): string {
  const pair = `${name.replace(/[\r\n]/g, '-')}=${sanitizeValue(value)}`;
  return header === '' ? pair : `${header}; ${pair}`;
}

/** Go's sanitizeCookieValue: drop invalid bytes, quote a value containing a space or a comma. */
function sanitizeValue(v: string): string {
  let out = v;
  for (let i = 0; i < v.length; i++) {
    if (!validValueCode(v.charCodeAt(i))) {
      out = Array.from(v)
        .filter((ch) => ch.length === 1 && validValueCode(ch.charCodeAt(0)))
        .join('');
      break;
    }
  }
  return out.includes(' ') || out.includes(',') ? `"${out}"` : out;
}

function validValueCode(b: number): boolean {
  return b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x3b && b !== 0x5c;
}

// Set-Cookie parsing, as Go's net/http readSetCookies

function isAsciiSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

function trimAscii(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isAsciiSpace(s.charCodeAt(a))) a++;
  while (b > a && isAsciiSpace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
export function isToken(s: string): boolean {
  return TOKEN.test(s);
}

export function parseCookieValue(raw: string, allowQuotes: boolean): string | undefined {
  let v = raw;
  if (allowQuotes && v.length > 1 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
  for (let i = 0; i < v.length; i++) if (!validValueCode(v.charCodeAt(i))) return undefined;
  return v;
}

/** One Set-Cookie line → cookie, or undefined when Go would drop it (no "=", invalid name or value). */
export function parseSetCookie(line: string): GoCookie | undefined {
  const parts = trimAscii(line).split(';');
  const first = trimAscii(parts[0] ?? '');
  const eq = first.indexOf('=');
  if (eq < 0) return undefined;
  const name = trimAscii(first.slice(0, eq));
  if (!isToken(name)) return undefined;
  const value = parseCookieValue(first.slice(eq + 1), true);
  if (value === undefined) return undefined;
  const c: GoCookie = { name, value, domain: '', path: '', secure: false, httpOnly: false, maxAge: 0, expiresSec: undefined };
  for (let i = 1; i < parts.length; i++) {
    const part = trimAscii(parts[i] ?? '');
    if (part === '') continue;
    const aeq = part.indexOf('=');
    const attr = (aeq < 0 ? part : part.slice(0, aeq)).toLowerCase();
    const val = parseCookieValue(aeq < 0 ? '' : part.slice(aeq + 1), false);
    if (val === undefined) continue;
    switch (attr) {
      case 'secure':
        c.secure = true;
        break;
      case 'httponly':
        c.httpOnly = true;
        break;
      case 'domain':
        c.domain = val;
        break;
      case 'path':
        c.path = val;
        break;
      case 'max-age': {
        if (!/^[+-]?\d+$/.test(val)) break;
        const secs = Number(val);
        if (secs !== 0 && val.startsWith('0')) break;
        c.maxAge = secs <= 0 ? -1 : secs;
        break;
      }
      case 'expires':
        c.expiresSec = parseGoCookieDate(val);
        break;
      default:
        break;
    }
  }
  return c;
}

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
// Go's time.RFC1123 "Mon, 02 Jan 2006 15:04:05 MST" and net/http's "Mon, 02-Jan-2006 15:04:05 MST".
// The zone: GMT with an optional hour offset, or an abbreviation (3-5 capitals) that Go reads as UTC.
const COOKIE_DATE = /^([A-Za-z]{3}), (\d{2})([ -])([A-Za-z]{3})\3(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) (?:GMT([+-]\d{1,2})|[A-Z]{3,5})$/;

/**
 * Seconds since the epoch, or undefined when Go's parser would reject the date (then the cookie has no
 * expiry). `dashes` also accepts "Mon, 02-Jan-2006 15:04:05 MST" (Set-Cookie does, CookieJar.set does not).
 */
export function parseGoCookieDate(s: string, dashes = true): number | undefined {
  const m = COOKIE_DATE.exec(s);
  if (m === null) return undefined;
  const [, wd, dd, sep, mon, yyyy, hh, mi, ss, gmtOffset] = m;
  if (sep === '-' && !dashes) return undefined;
  if (wd === undefined || !DAYS.includes(wd.toLowerCase())) return undefined;
  const month = MONTHS.indexOf((mon ?? '').toLowerCase());
  const year = Number(yyyy),
    day = Number(dd),
    hour = Number(hh),
    min = Number(mi),
    sec = Number(ss);
  if (month < 0 || hour > 23 || min > 59 || sec > 59 || day < 1) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(year, month, day);
  if (d.getUTCMonth() !== month) return undefined; // day out of range for the month
  const offsetHours = gmtOffset === undefined ? 0 : Number(gmtOffset);
  if (offsetHours < -23 || offsetHours > 23) return undefined;
  return Math.floor(d.getTime() / 1000) + hour * 3600 + min * 60 + sec - offsetHours * 3600;
}

const GO_ZERO_TIME_SEC = -62135596800n; // 0001-01-01T00:00:00Z

/** Go's `t.UnixNano() / 1e6` for a whole-second time (int64 wrap-around included, as k6 reports it). */
export function goUnixMillis(sec: number | undefined): number {
  const s = sec === undefined ? GO_ZERO_TIME_SEC : BigInt(sec);
  return Number(BigInt.asIntN(64, s * 1_000_000_000n) / 1_000_000n);
}
