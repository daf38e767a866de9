// Run by validation.test.ts in a child process (a segfault there is a failed test, not a dead vitest worker).
// Each case corrupts one array that a native entry point reads and prints one JSON line: the case and what the
// call threw ({ name, code, message }), or { name, code: 'none' } when it did not throw.
import * as r from '../../ts/index.js';
import { addon as typedAddon } from '../../ts/native.js';

const addon = typedAddon as any;
import { synthetic } from '../helpers/synthetic.js';

// Both matrices built up front (ds.csc is computed from ds.csr on first use), so that the corrupted one reaches
// the fit's own checks.
const fresh = () => {
  const d = synthetic({ users: 60, items: 40, minPerUser: 3, maxPerUser: 12, seed: 7 });
  void d.csc;
  return d;
};

// VALIDATION_CASE=<name> runs one case (to see what one case does on its own, e.g. on an older build).
const only = process.env.VALIDATION_CASE;

async function report(name: string, fn: () => unknown): Promise<void> {
  if (only && name !== only) return;
  let out: { name: string; code: string; message?: string };
  try {
    await fn();
    out = { name, code: 'none' };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    out = { name, code: err.code ?? 'none', message: err.message };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

type Fit = { fit(d: r.Dataset): unknown };
const families: Array<[string, () => Fit, boolean]> = [
  // [name, factory, reads the transposed matrix]
  ['ImplicitALS', () => new r.ImplicitALS({ threads: 1, factors: 4, iterations: 2 }), true],
  ['ImplicitALS-cholesky', () => new r.ImplicitALS({ threads: 1, factors: 4, iterations: 2, solver: 'cholesky' }), true],
  ['ImplicitALS-block', () => new r.ImplicitALS({ threads: 1, factors: 4, iterations: 2, solver: 'block', blockSize: 3 }), true],
  ['ItemKNN', () => new r.ItemKNN({ threads: 1 }), true],
  ['KNNBasic', () => new r.KNNBasic({ threads: 1 }), true],
  ['KNNWithMeans', () => new r.KNNWithMeans({ threads: 1 }), true],
  ['KNNBaseline', () => new r.KNNBaseline({ threads: 1 }), true],
  ['SlopeOne', () => new r.SlopeOne({ threads: 1 }), true],
  ['ExplicitALS', () => new r.ExplicitALS({ threads: 1, factors: 4, epochs: 2 }), true],
  ['NMF', () => new r.NMF({ threads: 1, factors: 4, epochs: 2 }), true],
  ['BaselineOnly', () => new r.BaselineOnly({ threads: 1 }), true],
  ['BaselineOnly-sgd', () => new r.BaselineOnly({ threads: 1, method: 'sgd' }), true],
  ['Popularity', () => new r.Popularity(), false],
  ['BPR', () => new r.BPR({ threads: 1, factors: 4, epochs: 2 }), false],
  ['EASE', () => new r.EASE({ threads: 1 }), false],
  ['SANSA', () => new r.SANSA({ threads: 1 }), true],
  ['PureSVD', () => new r.PureSVD({ threads: 1, factors: 4 }), false],
  ['LightGCN', () => new r.LightGCN({ threads: 1, factors: 4, epochs: 2 }), false],
  ['BiasedMF', () => new r.BiasedMF({ threads: 1, factors: 4, epochs: 2 }), false],
  ['SVDpp', () => new r.SVDpp({ threads: 1, factors: 4, epochs: 2 }), false],
];

for (const [name, make, transposed] of families) {
  await report(`${name} train.indices`, () => {
    const ds = fresh();
    ds.csr.indices[5] = 1 << 28;
    make().fit(ds);
  });
  // Popularity reads indices only (one counting pass, each index checked as it is counted), never indptr.
  if (name !== 'Popularity')
    await report(`${name} train.indptr`, () => {
      const ds = fresh();
      ds.csr.indptr[3] = 1 << 20;
      make().fit(ds);
    });
  if (!transposed) continue;
  await report(`${name} trainTransposed.indices`, () => {
    const ds = fresh();
    ds.csc.indices[5] = 1 << 28;
    make().fit(ds);
  });
  await report(`${name} trainTransposed.indptr`, () => {
    const ds = fresh();
    ds.csc.indptr[4] = -3;
    make().fit(ds);
  });
  await report(`${name} trainTransposed.rows`, () => {
    const ds = fresh();
    const c = ds.csc;
    // A consistent matrix of the wrong shape: one row fewer than train has columns.
    ds.csc.rows = c.rows - 1;
    (c as { indptr: Int32Array }).indptr = c.indptr.slice(0, c.rows + 1);
    make().fit(ds);
  });
}

// ImplicitALS.partialFit reads both matrices again.
await report('ImplicitALS.partialFit trainTransposed.indices', () => {
  const m = new r.ImplicitALS({ threads: 1, factors: 4, iterations: 1 });
  m.fit(fresh());
  const ds = fresh();
  ds.csc.indices[2] = -1;
  m.partialFit(ds);
});

// Entry points below the models.
const ds = fresh();
const bad = () => {
  const c = fresh().csr;
  return { ...c, indices: Int32Array.from(c.indices, (x, p) => (p === 7 ? 1 << 28 : x)) };
};
const model = new r.ImplicitALS({ threads: 1, factors: 4, iterations: 1 });
model.fit(ds);

const native = (model as any).handle;
const users = Int32Array.from({ length: 60 }, (_, i) => i);
await report('recommendBatch seen', () => native.recommendBatch(users, 5, bad(), undefined, undefined, 1));
await report('topkRows seen', () => addon.topkRows(new Float32Array(60 * 40), 40, 5, users, bad(), undefined, undefined, 1));
// Every option spelled out (the native side has no defaults), so that only the corrupted array is wrong.
const rows = { binary: false, normalize: false, dropout: 0, seed: 42, epoch: 0 };
const metrics = { gain: 'binary', auc: false, negatives: 0, seed: 42, threads: 1 };
await report('sampleEpoch train', () => addon.sampleEpoch(bad(), { negatives: 4, seed: 42, epoch: 0, shuffle: true, threads: 1 }));
await report('sampleNegatives train', () => addon.sampleNegatives(bad(), users, { seed: 42, epoch: 0, threads: 1 }));
await report('denseRows matrix', () => addon.denseRows(bad(), users, { ...rows, threads: 1 }));
await report('csrRows matrix', () => addon.csrRows(bad(), users, rows));
await report('transpose matrix', () => addon.transpose(bad()));
await report('truncatedSVD matrix', () => addon.truncatedSVD(bad(), { k: 2, oversample: 10, powerIterations: 4, seed: 42, threads: 1 }));
await report('rankingMetrics test', () => addon.rankingMetrics(new Float32Array(60 * 40), 40, users, undefined, bad(), Int32Array.of(5), metrics));
await report('rankingMetrics train', () => addon.rankingMetrics(new Float32Array(60 * 40), 40, users, bad(), fresh().csr, Int32Array.of(5), metrics));
await report('embeddingBag entries.indices', () =>
  addon.embeddingBag(new Float32Array(40), 4, { rowOf: Int32Array.of(0), indices: Int32Array.of(1 << 28), values: Float32Array.of(1) }, 1),
);
await report('optimizerRowsStep rows', () =>
  addon.optimizerRowsStep(new Float32Array(40), undefined, undefined, 4, Int32Array.of(1 << 28), new Float32Array(4), {
    method: 'sgd',
    lr: 0.1,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    l2: 0,
    step: 1,
  }),
);

// An async fit checks (and then uses) a native copy of the structure, not the JS arrays.
await report('ImplicitALS-async trainTransposed.indices', async () => {
  const ds = fresh();
  ds.csc.indices[5] = 1 << 28;
  await new r.ImplicitALS({ threads: 1, factors: 4, iterations: 1 }).fitAsync(ds);
});
await report('ItemKNN-async train.indptr', async () => {
  const ds = fresh();
  ds.csr.indptr[3] = 1 << 20;
  await new r.ItemKNN({ threads: 1 }).fitAsync(ds);
});
