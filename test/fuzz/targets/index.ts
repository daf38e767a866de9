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

export async function loadTarget(name: string): Promise<Target> {
  if (!(name in TARGETS)) throw new Error(`unknown fuzz target '${name}' (targets: ${Object.keys(TARGETS).join(', ')})`);
  const m = (await import(`./${name}.js`)) as { target: Target };
  return m.target;
}
