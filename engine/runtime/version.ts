/** The engine's name and version (the package version). */
import { readFileSync } from 'node:fs';

export const ENGINE_NAME = 'agentload-engine';

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const ENGINE_VERSION: string = readVersion();
