/** `k6/crypto`: hashes, HMAC, randomBytes, createHash/createHMAC, with k6's output encodings. */
import { createHash as nodeHash, createHmac as nodeHmac, randomBytes as nodeRandom, getHashes } from 'node:crypto';
import { ModuleUsageError } from './k6.ts';
import type { K6Module } from './k6-types.ts';

type Input = string | ArrayBuffer | ArrayBufferView;

const ALGORITHMS: Readonly<Record<string, string>> = {
  md4: 'md4',
  md5: 'md5',
  sha1: 'sha1',
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
  sha512_224: 'sha512-224',
  sha512_256: 'sha512-256',
  ripemd160: 'ripemd160',
};

function algorithm(name: string): string {
  const a = ALGORITHMS[name];
  if (a === undefined || !getHashes().includes(a)) {
    throw new ModuleUsageError(
      'unknown-hash',
      `k6/crypto: unsupported hash algorithm "${name}"; use one of ${Object.keys(ALGORITHMS).join(', ')}`,
    );
  }
  return a;
}

export function toBuffer(input: Input): Buffer {
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  if (input instanceof ArrayBuffer) return Buffer.from(input);
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
}

export function toArrayBuffer(b: Buffer): ArrayBuffer {
  const out = new ArrayBuffer(b.byteLength);
  new Uint8Array(out).set(b);
  return out;
}

function encode(digest: Buffer, encoding: string | undefined): string | ArrayBuffer {
  switch (encoding ?? 'hex') {
    case 'hex':
      return digest.toString('hex');
    case 'base64':
      return digest.toString('base64');
    case 'base64url':
      return digest.toString('base64url') + '='.repeat((4 - (digest.toString('base64url').length % 4)) % 4);
    case 'base64rawurl':
      return digest.toString('base64url');
    case 'binary':
      return toArrayBuffer(digest);
    default:
      throw new ModuleUsageError(
        'unknown-encoding',
        `k6/crypto: unsupported output encoding "${String(encoding)}"; use hex, base64, base64url, base64rawurl or binary`,
      );
  }
}

export function createCryptoModule(): Record<string, unknown> {
  const hash =
    (alg: string) =>
    (input: Input, enc?: string): string | ArrayBuffer =>
      encode(nodeHash(algorithm(alg)).update(toBuffer(input)).digest(), enc);
  return {
    hmac: (alg: string, secret: Input, data: Input, enc?: string) =>
      encode(nodeHmac(algorithm(alg), toBuffer(secret)).update(toBuffer(data)).digest(), enc),
    md4: hash('md4'),
    md5: hash('md5'),
    sha1: hash('sha1'),
    sha256: hash('sha256'),
    sha384: hash('sha384'),
    sha512: hash('sha512'),
    sha512_224: hash('sha512_224'),
    sha512_256: hash('sha512_256'),
    ripemd160: hash('ripemd160'),
    randomBytes: (n: number): ArrayBuffer => toArrayBuffer(nodeRandom(n)),
    createHash: (alg: string) => {
      const h = nodeHash(algorithm(alg));
      const self = {
        update(x: Input) {
          h.update(toBuffer(x));
          return self;
        },
        digest: (enc?: string) => encode(h.digest(), enc),
      };
      return self;
    },
    createHMAC: (alg: string, secret: Input) => {
      const h = nodeHmac(algorithm(alg), toBuffer(secret));
      const self = {
        update(x: Input) {
          h.update(toBuffer(x));
          return self;
        },
        digest: (enc?: string) => encode(h.digest(), enc),
      };
      return self;
    },
  } satisfies K6Module<typeof import('k6/crypto')>;
}
