// ds.csr and ds.csc are public typed arrays: a caller can write anything into them. A fit on a dataset whose
// arrays were changed afterwards (indices out of range, indptr not monotone, NaN values, swapped arrays) must
// refuse with a RecsysError or give a well-formed model — never read out of bounds (issue 12, item 1).
import { Dataset, models, type Recommender } from '../../../ts/index.js';
import { EDGE_NUMBERS, showValue } from '../gen.js';
import { synthetic } from '../../helpers/synthetic.js';
import { checkRecs, type Target } from '../target.js';

// The native families; the deep models read the dataset in TS (the options target covers them).
const NATIVE = models.filter((m) => !['NeuMF', 'GMF', 'MLP', 'MultVAE', 'AutoRec', 'RecVAE', 'SASRec'].includes(m.name));
const SMALL: Record<string, Record<string, unknown>> = {
  BiasedMF: { epochs: 3 },
  SVDpp: { epochs: 2 },
  NMF: { epochs: 3 },
  BPR: { epochs: 2 },
  LightGCN: { epochs: 2 },
  ImplicitALS: { iterations: 2 },
  ExplicitALS: { epochs: 2 },
};

interface Edit {
  matrix: 'csr' | 'csc';
  field: 'indptr' | 'indices' | 'data' | 'times';
  at: number;
  value: number;
}
interface Case {
  model: string;
  seed: number;
  edits: Edit[];
  swap?: 'csr.indices<->csc.indices' | 'csr.indptr<->csc.indptr';
}

export const target: Target<Case> = {
  name: 'csr',
  setup: () => undefined,
  gen(g) {
    const model = g.pick(NATIVE).name;
    const edits: Edit[] = g.array(g.int(1, 3), () => {
      const field = g.weighted<Edit['field']>([
        [4, () => 'indices'],
        [3, () => 'indptr'],
        [2, () => 'data'],
        [0.5, () => 'times'],
      ]);
      const value = g.weighted<number>([
        [3, () => g.pick([-1, 12, 13, 16, 17, 1 << 28, 2 ** 31 - 1, -(2 ** 31), 1000, 0])],
        [2, () => g.int(-3, 30)],
        [1, () => g.pick([NaN, Infinity, -Infinity, ...EDGE_NUMBERS])],
      ]);
      return { matrix: g.pick(['csr', 'csc'] as const), field, at: g.int(0, 400), value };
    });
    return { model, seed: g.int(1, 1e6), edits, swap: g.bool(0.08) ? g.pick(['csr.indices<->csc.indices', 'csr.indptr<->csc.indptr'] as const) : undefined };
  },
  show: (c) =>
    `new ${c.model}({threads: 1, ...}).fit(ds) after ${c.edits.map((e) => `ds.${e.matrix}.${e.field}[${e.at} % length] = ${showValue(e.value)}`).join('; ')}${c.swap ? `; ${c.swap}` : ''} (data seed ${c.seed})`,
  run(c) {
    const ds: Dataset = synthetic({ users: 12, items: 16, minPerUser: 2, maxPerUser: 8, seed: c.seed });
    void ds.csc; // built and cached now, so the edits reach what the fit reads
    for (const e of c.edits) {
      const a = ds[e.matrix][e.field];
      if (a && a.length) a[e.at % a.length] = e.value;
    }
    if (c.swap) {
      const f = c.swap === 'csr.indices<->csc.indices' ? 'indices' : 'indptr';
      const t = ds.csr[f];
      (ds.csr as unknown as Record<string, unknown>)[f] = ds.csc[f];
      (ds.csc as unknown as Record<string, unknown>)[f] = t;
    }
    const entry = models.find((m) => m.name === c.model)!;
    const m: Recommender = entry.create({ threads: 1, seed: 3, ...SMALL[c.model] }).fit(ds);
    const has = (id: unknown) => ds.items.has(id as never);
    checkRecs(m.recommend(ds.users.id(0), { k: 5 }), { k: 5, has, what: 'recommend' });
    checkRecs(m.recommendBatch([ds.users.id(1), ds.users.id(2)], { k: 3 })[0], { k: 3, has, what: 'recommendBatch' });
  },
};
