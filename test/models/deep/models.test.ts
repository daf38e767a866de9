// The deep models end to end on small generated data with planted taste groups: each learns the structure
// (clearly beats Popularity through the same evaluate() as the native models), state() -> fromState() gives the
// same scores, fits are seeded, fitAsync reports progress and can be cancelled.
import { beforeAll, describe, expect, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs';
import { Dataset } from '../../../ts/data/dataset.js';
import { perUserSplit } from '../../../ts/data/split.js';
import { plantedDataset } from '../../../ts/data/synthetic.js';
import { evaluate } from '../../../ts/eval/evaluate.js';
import { BaselineOnly, Popularity } from '../../../ts/models/baseline.js';
import { AutoRec } from '../../../ts/models/deep/autorec.js';
import { initDeepBackend, tfSync } from '../../../ts/models/deep/backend.js';
import type { DeepRecommender } from '../../../ts/models/deep/base.js';
import { MultVAE } from '../../../ts/models/deep/multvae.js';
import { GMF, MLP, NeuMF } from '../../../ts/models/deep/ncf.js';
import type { FitProgress } from '../../../ts/native.js';
import { RecsysError } from '../../../ts/errors.js';
import { code } from '../../helpers/rejection.js';
import { TempDir } from '../../helpers/tmpdir.js';
import { join } from 'node:path';
import { loadModel } from '../../../ts/io/load.js';

beforeAll(async () => {
  await initDeepBackend();
});

const data = plantedDataset({ users: 240, items: 120, groups: 4, perUser: 24, affinity: 0.85, seed: 5 });
const { train, test } = perUserSplit(data, { testFraction: 0.25, seed: 3 });
const ndcg = (m: Parameters<typeof evaluate>[0]) => evaluate(m, test, { k: 10, metrics: ['ndcg'] })['ndcg@10']!;
const popularity = ndcg(new Popularity().fit(train));

type Make = () => DeepRecommender<any>;
const models: [string, Make][] = [
  ['GMF', () => new GMF({ factors: 16, epochs: 12, l2: 1e-4, lr: 0.005, batchSize: 256 })],
  ['MLP', () => new MLP({ layers: [32, 16, 8], epochs: 12, lr: 0.005, batchSize: 256 })],
  ['NeuMF', () => new NeuMF({ factors: 8, layers: [16, 8], epochs: 12, lr: 0.005, batchSize: 256 })],
  ['MultVAE', () => new MultVAE({ hidden: [64], latent: 16, epochs: 60, batchSize: 64, lr: 0.003 })],
  ['AutoRec', () => new AutoRec({ hidden: 24, epochs: 40, lr: 0.01, batchSize: 16 })],
];

describe.each(models)('%s', (_name, make) => {
  let m: DeepRecommender<any>;
  beforeAll(() => {
    m = make().fit(train);
  });

  it('learns the planted groups: clearly better than Popularity', () => {
    const v = ndcg(m);
    expect(v).toBeGreaterThan(popularity * 3);
  });

  it('state() -> fromState() gives the same scores and recommendations', () => {
    const Cls = m.constructor as unknown as typeof GMF;
    // Models that score from the training interactions carry them in their state; the others take `seen`.
    const carries = 'interactions_indptr' in m.state();
    const copy = Cls.fromState(m.state(), {
      users: train.users,
      items: train.items,
      params: m.params,
      seen: carries ? undefined : train,
    }) as DeepRecommender<any>;
    const users = Int32Array.of(0, 5, 77, 239);
    expect(copy.scoreUsersDense(users)).toEqual(m.scoreUsersDense(users));
    expect(copy.recommend(train.users.id(5), { k: 5 })).toEqual(m.recommend(train.users.id(5), { k: 5 }));
    expect(copy.predictDense(Int32Array.of(3, 9), Int32Array.of(4, 100))).toEqual(m.predictDense(Int32Array.of(3, 9), Int32Array.of(4, 100)));
    // A state whose tensors do not fit the parameters is refused.
    const shapes = m.state();
    const name = Object.keys(shapes).find((k) => shapes[k]!.shape.length === 2)!;
    shapes[name] = { shape: [shapes[name]!.shape[0]! + 1, shapes[name]!.shape[1]!], data: new Float32Array(0) };
    expect(code(() => Cls.fromState(shapes, { users: train.users, items: train.items, params: m.params }))).toBe('E_ARG');
  });

  it('save() -> loadModel() gives the same model (class, scores, recommendations, predictions)', () => {
    const dir = new TempDir();
    try {
      const path = join(dir.dir, `${m.name}.rsm`);
      m.save(path);
      const back = loadModel<DeepRecommender<any>>(path);
      expect(back.name).toBe(m.name);
      expect(back.params).toEqual(m.params);
      const users = Int32Array.of(1, 50, 200);
      expect(back.scoreUsersDense(users)).toEqual(m.scoreUsersDense(users));
      expect(back.recommendBatch([train.users.id(3), train.users.id(9)], { k: 6 })).toEqual(m.recommendBatch([train.users.id(3), train.users.id(9)], { k: 6 }));
      expect(back.predict(train.users.id(2), train.items.id(7))).toBe(m.predict(train.users.id(2), train.items.id(7)));
    } finally {
      dir.remove();
    }
  });

  it('recommend, recommendBatch and scores agree; seen items are left out; no tensors leak', () => {
    const live = tfSync().memory().numTensors;
    const u = 7;
    const recs = m.recommend(train.users.id(u), { k: 10 });
    const batch = m.recommendBatch([train.users.id(u)], { k: 10 })[0]!;
    expect(batch).toEqual(recs);
    const seen = new Set(train.userItems(u));
    for (const r of recs) expect(seen.has(train.items.index(r.item))).toBe(false);
    const s = m.scoreUsersDense(Int32Array.of(u));
    expect(recs[0]!.score).toBeCloseTo(s[train.items.index(recs[0]!.item)]!, 5);
    m.predictDense(Int32Array.of(1, 2, -1), Int32Array.of(0, 1, 2));
    expect(tfSync().memory().numTensors).toBe(live);
  });
});

describe('deep model fits', () => {
  it('are seeded: the same seed gives the same weights, another seed others; no tensors leak', () => {
    const tf = tfSync();
    const live = tf.memory().numTensors;
    const a = new GMF({ factors: 8, epochs: 2, seed: 7 }).fit(train).state();
    expect(tf.memory().numTensors).toBe(live);
    const b = new GMF({ factors: 8, epochs: 2, seed: 7, threads: 1 }).fit(train).state();
    const c = new GMF({ factors: 8, epochs: 2, seed: 8 }).fit(train).state();
    expect(b.item_embedding!.data).toEqual(a.item_embedding!.data);
    expect(c.item_embedding!.data).not.toEqual(a.item_embedding!.data);
  });

  it('fitAsync reports each epoch with its loss and validation metric, and keeps the best epoch', async () => {
    const seen: FitProgress[] = [];
    const m = await new GMF({ factors: 8, epochs: 4, validation: 0.2, lr: 0.01 }).fitAsync(train, { onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => p.step)).toEqual([1, 2, 3, 4]);
    for (const p of seen) {
      expect(p.phase).toBe('epoch');
      expect(p.total).toBe(4);
      expect(p.loss).toBeGreaterThan(0);
      expect(p.validation?.metric).toBe('ndcg@10');
    }
    expect(seen[3]!.loss!).toBeLessThan(seen[0]!.loss!);
    expect(m.fitted).toBe(true);
    const a = await new AutoRec({ hidden: 8, epochs: 3, validation: 0.2 }).fitAsync(train, { onProgress: (p) => seen.push(p) });
    expect(seen.at(-1)!.validation?.metric).toBe('rmse');
    expect(a.predict(train.users.id(0), train.items.id(0))).toBeGreaterThanOrEqual(1);
  });

  it('stops early when the validation metric stops improving', async () => {
    const steps: number[] = [];
    // A huge learning rate makes later epochs worse than the first.
    await new GMF({ factors: 8, epochs: 30, validation: 0.2, patience: 2, lr: 0.5 }).fitAsync(train, { onProgress: (p) => steps.push(p.step) });
    expect(steps.length).toBeLessThan(30);
  });

  it('fitAsync can be cancelled, and leaves the event loop free meanwhile', async () => {
    const ctrl = new AbortController();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const p = new MultVAE({ hidden: [32], latent: 8, epochs: 1000 }).fitAsync(train, {
      signal: ctrl.signal,
      onProgress: (pr) => pr.step === 40 && ctrl.abort(),
    });
    await expect(p).rejects.toMatchObject({ code: 'E_CANCELLED' });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });

  it('MultVAE folds in a new user: the same items score as the trained user with those items', () => {
    const m = new MultVAE({ hidden: [32], latent: 8, epochs: 3 }).fit(train);
    const u = 11;
    const items = Array.from(train.userItems(u), (i) => train.items.id(i));
    expect(m.recommendForNewUser({ items }, { k: 8 })).toEqual(m.recommend(train.users.id(u), { k: 8 }));
    expect(m.similarItems(train.items.id(0), 3)).toHaveLength(3);
    expect(m.similarUsers(train.users.id(0), 3)).toHaveLength(3);
  });

  it('NeuMF pre-trains GMF and MLP first when asked, then fuses them', () => {
    const phases = new Set<string>();
    const m = new NeuMF({ factors: 8, layers: [16, 8], epochs: 2, pretrain: true, pretrainEpochs: 2 }).fit(train, { onProgress: (p) => phases.add(p.phase) });
    expect([...phases]).toEqual(['pretrain-gmf', 'pretrain-mlp', 'epoch']);
    expect(m.state()['output_weight']!.shape).toEqual([16, 1]);
  });

  it('AutoRec: the split graph (native gather, chain rule through dy) has the dense I-AutoRec gradient', () => {
    const tf = tfSync();
    const small = plantedDataset({ users: 12, items: 9, groups: 3, perUser: 4, seed: 2 });
    const h = 3;
    class Probe extends AutoRec {
      trainer() {
        return this.makeTrainer(tf, small, small);
      }
    }
    const model = new Probe({ hidden: h, optimizer: 'sgd', lr: 1, l2: 0, batchSize: small.nItems });
    const tr = model.trainer();
    const w = tr.weights;
    const before = (n: string) => w.get(n).slice();
    const V = before('encoder_weight');
    const mu = before('encoder_bias');
    const W = before('decoder_weight');
    const bd = before('decoder_bias');
    // Dense reference: R (items x users) with mask, loss sum M (sigmoid(R V + mu) W^T + b - R)^2 / rated items.
    const nI = small.nItems;
    const nU = small.nUsers;
    const R = new Float32Array(nI * nU);
    const M = new Float32Array(nI * nU);
    const csc = small.csc;
    for (let i = 0; i < nI; i++)
      for (let p = csc.indptr[i]!; p < csc.indptr[i + 1]!; p++) {
        R[i * nU + csc.indices[p]!] = csc.data![p]!;
        M[i * nU + csc.indices[p]!] = 1;
      }
    let active = 0;
    for (let i = 0; i < nI; i++) if (csc.indptr[i + 1]! > csc.indptr[i]!) active++;
    const Rt = tf.tensor2d(R, [nI, nU]);
    const Mt = tf.tensor2d(M, [nI, nU]);
    const loss = (v: TF.Tensor, m: TF.Tensor, wd: TF.Tensor, b: TF.Tensor) => {
      const hid = tf.sigmoid(tf.add(tf.matMul(Rt, v as TF.Tensor2D), m));
      const out = tf.add(tf.matMul(hid, wd as TF.Tensor2D, false, true), b);
      return tf.div<TF.Scalar>(tf.sum(tf.mul(Mt, tf.square(tf.sub(out, Rt)))), active);
    };
    const grads = tf
      .grads(loss)([tf.tensor2d(V, [nU, h]), tf.tensor1d(mu), tf.tensor2d(W, [nU, h]), tf.tensor1d(bd)])
      .map((t) => t.dataSync());
    // Items with ratings form the one batch of the epoch (an unrated item adds nothing to the dense loss either).
    const order = tr.epoch(0);
    expect(order.steps).toBe(1);
    order.step(0);
    const after = [w.get('encoder_weight'), w.get('encoder_bias'), w.get('decoder_weight'), w.get('decoder_bias')];
    [V, mu, W, bd].forEach((start, t) => {
      for (let j = 0; j < start.length; j++) expect(start[j]! - after[t]![j]!).toBeCloseTo(grads[t]![j]!, 3);
    });
  });

  it('AutoRec predicts ratings better than BaselineOnly on planted data and falls back to the baseline for unknowns', () => {
    const ds = plantedDataset({ users: 200, items: 100, groups: 4, perUser: 20, seed: 9 });
    const split = perUserSplit(ds, { testFraction: 0.2, seed: 1 });
    const a = new AutoRec({ hidden: 24, epochs: 40, lr: 0.01, batchSize: 16 }).fit(split.train);
    const b = new BaselineOnly().fit(split.train);
    const ra = evaluate(a, split.test, { metrics: ['rmse'] }).rmse!;
    const rb = evaluate(b, split.test, { metrics: ['rmse'] }).rmse!;
    expect(ra).toBeLessThan(rb * 0.95);
    expect(a.predict('nobody', split.train.items.id(3))).toBeCloseTo(b.predict('nobody', split.train.items.id(3)), 4);
  });

  it('refuse bad parameters and unsupported calls with typed errors', () => {
    expect(code(() => new NeuMF({ layers: [15, 8] }))).toBe('E_ARG');
    expect(code(() => new NeuMF({ epochs: 0 }))).toBe('E_ARG');
    expect(code(() => new MultVAE({ dropout: 1 }))).toBe('E_ARG');
    expect(code(() => new AutoRec({ validation: 1 }))).toBe('E_ARG');
    expect(code(() => new GMF({ optimizer: 'rmsprop' as 'sgd' }))).toBe('E_ARG');
    expect(code(() => new GMF().recommend(1))).toBe('E_NOT_FITTED');
    const g = new GMF({ factors: 4, epochs: 1 }).fit(train);
    expect(code(() => g.recommendForNewUser({ items: [train.items.id(0)] }))).toBe('E_UNSUPPORTED');
    const noRatings = Dataset.fromArrays({ users: [1, 1, 2], items: [1, 2, 2] });
    expect(code(() => new AutoRec({ epochs: 1 }).fit(noRatings))).toBe('E_ARG');
    expect(new RecsysError('E_ARG', 'x')).toBeInstanceOf(Error);
  });
});
