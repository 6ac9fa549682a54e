/**
 * Where the recorded k6 v0.49 reference outputs are: `test/fixtures/k6-reference/` (see its README). The one
 * path every test reads them from, so a clone of this repository alone runs every test.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const K6_REFERENCE_DIR = fileURLToPath(new URL('../fixtures/k6-reference/', import.meta.url));

/** `test/fixtures/k6-reference/<name>`. */
export function k6ReferenceFile(name: string): string {
  return join(K6_REFERENCE_DIR, name);
}
