/** headerValue (engine/modules/http/exchange.ts) finds a request header whatever its case, exactly as `name.toLowerCase() === lower` would. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeRequested, headerValue } from '../../../engine/modules/http/exchange.ts';

void test('headerValue: any ASCII case matches, other names of the same length do not, non-ASCII names as toLowerCase', () => {
  assert.equal(headerValue({ 'User-Agent': 'x', CONNECTION: 'Close' }, 'connection'), 'Close');
  assert.equal(headerValue({ 'User-Agent': 'x' }, 'connection'), undefined);
  assert.equal(headerValue({ Authorization: 'a' }, 'authorization'), 'a');
  assert.equal(headerValue({ 'Connectio-': 'a', 'connection ': 'b' }, 'connection'), undefined);
  assert.equal(closeRequested({ Connection: 'CLOSE' }), true);
  assert.equal(closeRequested({ 'User-Agent': 'k6' }), false);
  // U+212A KELVIN SIGN lower-cases to an ASCII 'k', as toLowerCase does.
  const names = ['\u212Aeep', 'KEEP', 'kee\u212A', '\u0130eep', 'keep'];
  for (const n of names) assert.equal(headerValue({ [n]: 'v' }, 'keep'), n.toLowerCase() === 'keep' ? 'v' : undefined, JSON.stringify(n));
});
