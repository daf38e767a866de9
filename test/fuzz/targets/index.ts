// The fuzz targets by name (loaded lazily: a worker imports only its own) and how the case budget is split.
import type { Target } from '../target.js';

export interface TargetMeta {
  /** Share of a campaign's FUZZ_RUNS (normalised over all targets). Cheap targets get more cases. */
  weight: number;
  /** Cases in a plain `npm test` run (FUZZ_RUNS unset). */
  ciRuns: number;
  /** Time one case may take before it counts as a hang (ms). */
  budgetMs: number;
}

export const TARGETS: Record<string, TargetMeta> = {
  arrays: { weight: 30, ciRuns: 1500, budgetMs: 5_000 },
  csr: { weight: 6, ciRuns: 100, budgetMs: 10_000 },
  parse: { weight: 20, ciRuns: 500, budgetMs: 5_000 },
  options: { weight: 4, ciRuns: 80, budgetMs: 30_000 },
  modelfile: { weight: 14, ciRuns: 350, budgetMs: 10_000 },
  foldin: { weight: 12, ciRuns: 500, budgetMs: 10_000 },
  http: { weight: 14, ciRuns: 400, budgetMs: 5_000 },
};

/** The driver's own test target (test/fuzz/driver.test.ts): misbehaves on purpose; never part of a campaign. */
export const SELFTEST: TargetMeta = { weight: 0, ciRuns: 7, budgetMs: 2_000 };

export function targetMeta(name: string): TargetMeta | undefined {
  return name === 'selftest' ? SELFTEST : TARGETS[name];
}

export async function loadTarget(name: string): Promise<Target> {
  if (!targetMeta(name)) throw new Error(`unknown fuzz target '${name}' (targets: ${Object.keys(TARGETS).join(', ')})`);
  const loaders: Record<string, () => Promise<{ target: Target }>> = {
    arrays: () => import('./arrays.js'),
    csr: () => import('./csr.js'),
    parse: () => import('./parse.js'),
    options: () => import('./options.js'),
    modelfile: () => import('./modelfile.js'),
    foldin: () => import('./foldin.js'),
    http: () => import('./http.js'),
    selftest: () => import('./selftest.js'),
  };
  return (await loaders[name]!()).target;
}
