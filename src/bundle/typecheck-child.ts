/**
 * The type check's own process (started by typecheck-cache.ts, pre-built): reads a CheckRequest as
 * JSON on stdin, checks incrementally (TypeScript's state in `<entry>.tsbuildinfo`), writes the cache
 * entry and prints the diagnostics as JSON on stdout. Its memory goes back to the system when it ends.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeAtomic } from '../../engine/runtime/prebuilt.ts';
import { checkKey, inPackage, keyInputs, pruneChecks, readOrUndefined, type CheckEntry, type CheckRequest } from './typecheck-cache.ts';
import { typecheckIncremental, type CheckReads } from './typecheck.ts';

function main(): void {
  const req = JSON.parse(readFileSync(0, 'utf8')) as CheckRequest;
  const reads: CheckReads = { read: new Map(), missing: new Set() };
  const config = join(req.root, 'tsconfig.k6.json');
  reads.read.set(config, readFileSync(config, 'utf8'));
  const diagnostics = typecheckIncremental(req.files, {
    root: req.root,
    cwd: req.cwd,
    javascript: req.javascript,
    buildInfo: `${req.entry.replace(/\.json$/, '')}.tsbuildinfo`,
    reads,
  });
  // The key is made of the files' bytes now (package files: their package.json), and is only written when
  // those are what the check read: a file edited while it ran leaves no entry (the next run checks again).
  const inputs = keyInputs(reads.read.keys());
  const unchanged = [...reads.read].every(
    ([f, seen]) =>
      readOrUndefined(f)
        ?.toString('utf8')
        .replace(/^\uFEFF/, '') === seen,
  );
  const key = unchanged ? checkKey(req, inputs, readOrUndefined) : undefined;
  if (key !== undefined) {
    const entry: CheckEntry = {
      key,
      inputs,
      missing: [...reads.missing]
        .filter((f) => !inPackage(f))
        .map((f) => resolve(f))
        .sort(),
      diagnostics,
    };
    writeAtomic(req.entry, JSON.stringify(entry));
    pruneChecks(dirname(req.entry), req.entry);
  }
  process.stdout.write(JSON.stringify(diagnostics));
}

main();
