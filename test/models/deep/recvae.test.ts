// RecVAE: the composite prior's log-density and the loss against a plain float64 reference (values, and the
// gradients of TensorFlow.js's autodiff against central differences of the reference); fits that reduce the
// loss and learn planted taste groups; seeded fits; fold-in; state and model-file round trips.
import { beforeAll, describe, expect, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs';
import { join } from 'node:path';
import { perUserSplit } from '../../../ts/data/split.js';
import { plantedDataset } from '../../../ts/data/synthetic.js';
import { evaluate } from '../../../ts/eval/evaluate.js';
import { loadModel } from '../../../ts/io/load.js';
import { Popularity } from '../../../ts/models/baseline.js';
import { initDeepBackend, tfSync, type Tf } from '../../../ts/models/deep/backend.js';
import { compositePriorLogDensity, recVaeLoss } from '../../../ts/models/deep/losses.js';
import { RecVAE } from '../../../ts/models/deep/recvae.js';
import { models } from '../../../ts/models/registry.js';
import type { FitProgress } from '../../../ts/native.js';
import { mulberry32 } from '../../helpers/random.js';
import { code } from '../../helpers/rejection.js';
import { TempDir } from '../../helpers/tmpdir.js';

let tf: Tf;
beforeAll(async () => {
  await initDeepBackend();
  tf = tfSync();
});

const rnd = mulberry32(33);
const vec = (n: number, scale = 1) => Array.from({ length: n }, () => (rnd() * 2 - 1) * scale);

function numericGrad(f: (x: number[]) => number, x: number[], h = 1e-5): number[] {
  return x.map((_, j) => {
    const a = [...x];
    const b = [...x];
    a[j]! += h;
    b[j]! -= h;
    return (f(a) - f(b)) / (2 * h);
  });
}

function expectClose(actual: ArrayLike<number>, expected: number[], tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let j = 0; j < expected.length; j++) expect(Math.abs(actual[j]! - expected[j]!)).toBeLessThan(tol * Math.max(1, Math.abs(expected[j]!)));
}

// The reference: float64, written from the paper's formula (a weighted sum of three normal densities), not from
// the logsumexp the implementation uses.
const W = [3 / 20, 3 / 4, 1 / 10];
const normalPdf = (z: number, mu: number, logvar: number) => Math.exp(-0.5 * ((z - mu) ** 2 / Math.exp(logvar))) / Math.sqrt(2 * Math.PI * Math.exp(logvar));
const priorRef = (z: number, mu: number, lv: number) => Math.log(W[0]! * normalPdf(z, 0, 0) + W[1]! * normalPdf(z, mu, lv) + W[2]! * normalPdf(z, 0, 10));

describe('RecVAE composite prior', () => {
  const b = 3;
  const k = 4;
  // Some coordinates far from the old posterior (its density underflows to 0 in float32: logsumexp must cope).
  const z = [...vec(b * k - 2, 2), 40, -25];
  const mu = vec(b * k);
  const lv = vec(b * k, 1.5);

  it('has the log-density of the three-component mixture, per coordinate, also far in the tails', () => {
    const out = compositePriorLogDensity(tf, tf.tensor2d(z, [b, k]), tf.tensor2d(mu, [b, k]), tf.tensor2d(lv, [b, k])).dataSync();
    expectClose(
      out,
      z.map((zj, j) => priorRef(zj, mu[j]!, lv[j]!)),
      1e-4,
    );
  });

  it('has the gradient of the reference in z, and in the old posterior mean and log-variance', () => {
    // Weighted sum of the coordinates, so that each coordinate's gradient is checked separately.
    const c = vec(b * k);
    const ref = (zz: number[], mm: number[], vv: number[]) => zz.reduce((s, zj, j) => s + c[j]! * priorRef(zj, mm[j]!, vv[j]!), 0);
    const ct = tf.tensor2d(c, [b, k]);
    const f = (a: TF.Tensor, m: TF.Tensor, v: TF.Tensor) =>
      tf.sum(tf.mul(compositePriorLogDensity(tf, a as TF.Tensor2D, m as TF.Tensor2D, v as TF.Tensor2D), ct));
    const zs = z.slice(0, b * k - 2).concat([3, -2.5]); // moderate tails: the float64 reference's finite differences stay exact
    const [gz, gm, gv] = tf
      .grads(f)([tf.tensor2d(zs, [b, k]), tf.tensor2d(mu, [b, k]), tf.tensor2d(lv, [b, k])])
      .map((t) => t.dataSync());
    expectClose(
      gz!,
      numericGrad((x) => ref(x, mu, lv), zs),
      1e-3,
    );
    expectClose(
      gm!,
      numericGrad((x) => ref(zs, x, lv), mu),
      1e-3,
    );
    expectClose(
      gv!,
      numericGrad((x) => ref(zs, mu, x), lv),
      1e-3,
    );
  });

  it('the loss is the multinomial NLL plus gamma |I_u| times log q(z|x) - log p(z), mean over users', () => {
    const n = 5;
    const x = [1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1];
    const logits = vec(b * n, 2);
    const qMu = vec(b * k);
    const qLv = vec(b * k, 0.5);
    const kw = [0.005 * 3, 0.005 * 1, 0.005 * 5];
    let want = 0;
    for (let u = 0; u < b; u++) {
      const row = logits.slice(u * n, (u + 1) * n);
      const lse = Math.log(row.reduce((s, l) => s + Math.exp(l), 0));
      for (let i = 0; i < n; i++) want -= x[u * n + i]! * (row[i]! - lse);
      let kl = 0;
      for (let d = 0; d < k; d++) {
        const j = u * k + d;
        kl += -0.5 * (qLv[j]! + Math.log(2 * Math.PI) + (z[j]! - qMu[j]!) ** 2 / Math.exp(qLv[j]!)) - priorRef(z[j]!, mu[j]!, lv[j]!);
      }
      want += kw[u]! * kl;
    }
    want /= b;
    const zt = tf.tensor2d(z, [b, k]);
    const prior = compositePriorLogDensity(tf, zt, tf.tensor2d(mu, [b, k]), tf.tensor2d(lv, [b, k]));
    const r = recVaeLoss(
      tf,
      tf.tensor2d(logits, [b, n]),
      tf.tensor2d(x, [b, n]),
      zt,
      tf.tensor2d(qMu, [b, k]),
      tf.tensor2d(qLv, [b, k]),
      prior,
      tf.tensor1d(kw),
    );
    expect(Math.abs(r.loss.dataSync()[0]! - want)).toBeLessThan(1e-5 * Math.abs(want));
  });
});

describe('RecVAE', () => {
  const data = plantedDataset({ users: 240, items: 120, groups: 4, perUser: 24, affinity: 0.85, seed: 5 });
  const { train, test } = perUserSplit(data, { testFraction: 0.25, seed: 3 });
  const small = { hidden: 32, latent: 8, batchSize: 64, lr: 0.003 };
  const ndcg = (m: Parameters<typeof evaluate>[0]) => evaluate(m, test, { k: 10, metrics: ['ndcg'] })['ndcg@10']!;
  let m: RecVAE;
  const progress: FitProgress[] = [];
  beforeAll(async () => {
    m = await new RecVAE({ ...small, epochs: 12, seed: 4 }).fitAsync(train, { onProgress: (p) => progress.push(p) });
  });

  it('training reduces the loss and learns the planted groups (clearly better than Popularity)', () => {
    expect(progress.map((p) => p.step)).toEqual(Array.from({ length: 12 }, (_, j) => j + 1));
    expect(progress.at(-1)!.loss!).toBeLessThan(progress[0]!.loss! * 0.9);
    expect(ndcg(m)).toBeGreaterThan(ndcg(new Popularity().fit(train)) * 3);
  });

  it('is seeded: the same seed gives the same weights, another seed others; no tensors leak', () => {
    const live = tf.memory().numTensors;
    const a = new RecVAE({ ...small, epochs: 2, seed: 7 }).fit(train).state();
    expect(tf.memory().numTensors).toBe(live);
    const b = new RecVAE({ ...small, epochs: 2, seed: 7, threads: 1 }).fit(train).state();
    const c = new RecVAE({ ...small, epochs: 2, seed: 8 }).fit(train).state();
    for (const name of ['encoder_0_weight', 'encoder_2_ln_scale', 'decoder_weight']) expect(b[name]!.data).toEqual(a[name]!.data);
    expect(c['decoder_weight']!.data).not.toEqual(a['decoder_weight']!.data);
  });

  it('alternates: the encoder passes leave the decoder alone, the decoder pass the encoder', () => {
    class Probe extends RecVAE {
      trainer() {
        return this.makeTrainer(tf, train);
      }
    }
    const tr = new Probe({ ...small, encoderPasses: 2, batchSize: 1000 }).trainer();
    const w = tr.weights;
    const plan = tr.epoch(0);
    expect(plan.steps).toBe(3);
    const snap = () => ({ enc: w.get('encoder_3_weight').slice(), dec: w.get('decoder_weight').slice() });
    const s0 = snap();
    plan.step(0);
    plan.step(1);
    const s1 = snap();
    expect(s1.dec).toEqual(s0.dec);
    expect(s1.enc).not.toEqual(s0.enc);
    plan.step(2);
    const s2 = snap();
    expect(s2.enc).toEqual(s1.enc);
    expect(s2.dec).not.toEqual(s1.dec);
  });

  it('folds in a new user: the same items score as the trained user with those items', () => {
    const u = 11;
    const items = Array.from(train.userItems(u), (i) => train.items.id(i));
    expect(m.recommendForNewUser({ items }, { k: 8 })).toEqual(m.recommend(train.users.id(u), { k: 8 }));
    expect(m.similarItems(train.items.id(0), 3)).toHaveLength(3);
    expect(m.similarUsers(train.users.id(0), 3)).toHaveLength(3);
  });

  it('state() -> fromState() and save() -> loadModel() give the same model', () => {
    const users = Int32Array.of(0, 5, 77, 239);
    const copy = RecVAE.fromState(m.state(), { users: train.users, items: train.items, params: m.params });
    expect(copy.scoreUsersDense(users)).toEqual(m.scoreUsersDense(users));
    const dir = new TempDir();
    try {
      const path = join(dir.dir, 'recvae.rsm');
      m.save(path);
      const back = loadModel<RecVAE>(path);
      expect(back.name).toBe('RecVAE');
      expect(back.params).toEqual(m.params);
      expect(back.scoreUsersDense(users)).toEqual(m.scoreUsersDense(users));
      expect(back.recommendBatch([train.users.id(3), train.users.id(9)], { k: 6 })).toEqual(m.recommendBatch([train.users.id(3), train.users.id(9)], { k: 6 }));
    } finally {
      dir.remove();
    }
    // A state whose tensors do not fit the parameters is refused.
    const bad = m.state();
    bad['encoder_1_weight'] = { shape: [33, 32], data: new Float32Array(33 * 32) };
    expect(code(() => RecVAE.fromState(bad, { users: train.users, items: train.items, params: m.params }))).toBe('E_ARG');
  });

  it('is in the registry, and refuses bad parameters with E_ARG', () => {
    expect(models.find((e) => e.name === 'RecVAE')?.tasks).toEqual(['ranking']);
    expect(code(() => new RecVAE({ dropout: 1 }))).toBe('E_ARG');
    expect(code(() => new RecVAE({ gamma: -1 }))).toBe('E_ARG');
    expect(code(() => new RecVAE({ encoderPasses: 0 }))).toBe('E_ARG');
    expect(code(() => new RecVAE({ hidden: [600] as unknown as number }))).toBe('E_ARG');
  });

  it('a fit that diverges is E_STATE, and the model stays unfitted', () => {
    const d = new RecVAE({ ...small, lr: 1e30, epochs: 1, batchSize: 100000 });
    expect(code(() => d.fit(train))).toBe('E_STATE');
    expect(code(() => d.recommend(train.users.id(0)))).toBe('E_NOT_FITTED');
  });
});
