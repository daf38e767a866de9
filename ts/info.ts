import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addon, type NativeInfo } from './native.js';
import { PACKAGE_ROOT } from './package_root.cjs';

export interface RecsysInfo extends NativeInfo {
  version: string;
  node: string;
  /** Threads a fit with threads: 0 uses. */
  defaultThreads: number;
}

interface PackageJson {
  version: string;
  peerDependencies: Record<string, string>;
}

let pkg: PackageJson | undefined;
/** recsys's own package.json (read once). */
export function packageJson(): PackageJson {
  pkg ??= JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as PackageJson;
  return pkg;
}

/** The package version (from package.json). */
export function packageVersion(): string {
  return packageJson().version;
}

/** Version, BLAS backend, threads and compiler flags of the loaded native addon. */
export function info(): RecsysInfo {
  const n = addon.info();
  return { version: packageVersion(), node: process.version, defaultThreads: n.hardwareThreads || 1, ...n };
}

/**
 * The TensorFlow.js backend the deep models (NeuMF, AutoRec, MultVAE) run on, choosing it if none was chosen
 * yet. This loads TensorFlow.js; info() does not. E_DEPENDENCY (with the npm install line) when TensorFlow.js, an
 * optional peer of recsys, is not installed.
 */
export async function deepInfo(): Promise<import('./models/deep/backend.js').DeepBackendInfo> {
  const { initDeepBackend } = await import('./models/deep/backend.js');
  return initDeepBackend();
}
