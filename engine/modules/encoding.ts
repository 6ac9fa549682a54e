/** `k6/encoding`: b64encode/b64decode with k6's std, rawstd, url and rawurl alphabets. */
import { toArrayBuffer, toBuffer } from './crypto.ts';
import { ModuleUsageError } from './k6.ts';
import type { K6Module } from './k6-types.ts';

type Variant = 'std' | 'rawstd' | 'url' | 'rawurl';

function variant(v: string | undefined): Variant {
  const x = v ?? 'std';
  if (x === '') return 'std';
  if (x === 'std' || x === 'rawstd' || x === 'url' || x === 'rawurl') return x;
  throw new ModuleUsageError('unknown-encoding', `k6/encoding: unsupported base64 variant "${x}"; use std, rawstd, url or rawurl`);
}

export function b64encode(input: string | ArrayBuffer | ArrayBufferView, enc?: string): string {
  const v = variant(enc);
  const b = toBuffer(input);
  if (v === 'std') return b.toString('base64');
  if (v === 'rawstd') return b.toString('base64').replace(/=+$/, '');
  const raw = b.toString('base64url');
  return v === 'rawurl' ? raw : raw + '='.repeat((4 - (raw.length % 4)) % 4);
}

export function b64decode(input: string, enc?: string, format?: string): string | ArrayBuffer {
  const v = variant(enc);
  const b = Buffer.from(input, v === 'url' || v === 'rawurl' ? 'base64url' : 'base64');
  return format === 's' ? b.toString('utf8') : toArrayBuffer(b);
}

export function createEncodingModule(): Record<string, unknown> {
  return { b64encode, b64decode } satisfies K6Module<typeof import('k6/encoding')>;
}
