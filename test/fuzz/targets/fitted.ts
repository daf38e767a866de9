// Small fitted models of every class loadModel knows (every registry family, FactorModel with and without
// fold-in), saved once per fuzz run into FUZZ_CACHE_DIR (set by the driver) so restarted workers reuse them.
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FactorModel, loadModel, models, type Recommender } from '../../../ts/index.js';
import { factorModel, smallDeepParams } from '../../io/helpers.js';
import { synthetic } from '../../helpers/synthetic.js';

const SMALL: Record<string, Record<string, unknown>> = {
  BiasedMF: { epochs: 3, factors: 4 },
  SVDpp: { epochs: 2, factors: 4 },
  NMF: { epochs: 3, factors: 4 },
  BPR: { epochs: 2, factors: 4 },
  LightGCN: { epochs: 2, factors: 4 },
  ImplicitALS: { iterations: 2, factors: 4 },
  ExplicitALS: { epochs: 2, factors: 4 },
  PureSVD: { factors: 4 },
};

/** Paths of saved models, one per class (name -> path), fitted on first use. */
export function fittedFiles(): Map<string, string> {
  const dir = process.env.FUZZ_CACHE_DIR ?? mkdtempSync(join(tmpdir(), 'recsys-fuzz-models-'));
  mkdirSync(dir, { recursive: true });
  const data = synthetic({ users: 20, items: 30, minPerUser: 3, maxPerUser: 10, seed: 5, skew: true });
  const out = new Map<string, string>();
  const build: [string, () => Recommender][] = models.map((e) => [
    e.name,
    () => e.create({ threads: 1, seed: 3, ...SMALL[e.name], ...smallDeepParams(e.name) }).fit(data),
  ]);
  build.push(['FactorModel', () => factorModel(15, 25, 4, 11)]);
  build.push([
    'FactorModel+foldIn',
    () => {
      const f = factorModel(15, 25, 4, 12);
      return FactorModel.fromFactors({
        users: f.trainData.users,
        items: f.trainData.items,
        factors: 4,
        userFactors: f.userFactors!,
        itemFactors: f.itemFactors!,
        foldIn: { implicit: true, alpha: 2, reg: 0.05, scaleReg: false },
      });
    },
  ]);
  for (const [name, make] of build) {
    const path = join(dir, `${name}.rsm`);
    if (!existsSync(path)) make().save(path);
    out.set(name, path);
  }
  return out;
}

/** The fitted models themselves (loaded from the files above). */
export function fittedModels(): Map<string, Recommender> {
  return new Map([...fittedFiles()].map(([name, path]) => [name, loadModel(path)]));
}
