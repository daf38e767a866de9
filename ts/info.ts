import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addon, type NativeInfo } from './native.js';

export interface RecsysInfo extends NativeInfo {
  version: string;
  node: string;
  /** Threads a fit with threads: 0 uses. */
  defaultThreads: number;
}

let version: string | undefined;
/** The package version (from package.json, read once). */
export function packageVersion(): string {
  if (version === undefined) {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..');
    version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  }
  return version;
}

/** Version, BLAS backend, threads and compiler flags of the loaded native addon. */
export function info(): RecsysInfo {
  const n = addon.info();
  return { version: packageVersion(), node: process.version, defaultThreads: n.hardwareThreads || 1, ...n };
}
