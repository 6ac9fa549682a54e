/** Console output as k6 writes it: each argument's text (js/console.go valueString), space-separated. */

/** Go's json.Marshal escaping of a compacted JSON text: `<`, `>`, `&`, U+2028 and U+2029 as \u escapes. */
function goJsonEscape(text: string): string {
  return text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * k6's console value text (js/console.go valueString): a function is `[object Function]`, an Error its
 * `String()`, an object or array its JSON (Go-escaped), anything else its string form; an object that
 * JSON cannot encode (a cycle) falls back to its string form.
 */
export function consoleText(a: unknown): string {
  if (typeof a === 'string') return a;
  if (typeof a === 'function') return '[object Function]';
  if (a instanceof Error) return String(a);
  if (typeof a === 'object' && a !== null) {
    try {
      const json = JSON.stringify(a) as string | undefined;
      return json === undefined ? Object.prototype.toString.call(a) : goJsonEscape(json);
    } catch {
      return Object.prototype.toString.call(a);
    }
  }
  return String(a);
}

/** A console call's arguments as one line. */
export function formatArgs(args: unknown[]): string {
  return args.map(consoleText).join(' ');
}
