// SASRec on small generated sessions: causality of the encoder, the loss falls, seeded fits are identical, it learns
// a sequential pattern that no set-based model can see, and it saves and loads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as TF from '@tensorflow/tfjs';
import { Dataset } from '../../../ts/data/dataset.js';
import { evaluateSequential, sequentialSplit } from '../../../ts/eval/sequential.js';
import { loadModel } from '../../../ts/io/load.js';
import { initDeepBackend } from '../../../ts/models/deep/backend.js';
import { SASRec, logSumExpRows, logSumExpWith, type SASRecParams } from '../../../ts/models/deep/sasrec.js';
import { tfSync } from '../../../ts/models/deep/backend.js';
import { Popularity } from '../../../ts/models/baseline.js';
import type { FitProgress } from '../../../ts/native.js';
import { Rng } from '../../../ts/rng.js';
import { code } from '../../helpers/rejection.js';
import { tempDir } from '../../io/helpers.js';

beforeAll(async () => {
  await initDeepBackend();
});

/** Sessions that walk the catalogue: after item i comes i + 1 (70%) or a random item. */
function walks(nUsers: number, nItems: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const users: number[] = [];
  const items: number[] = [];
  const times: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    const len = 6 + rng.below(10);
    const seen = new Set<number>();
    let i = rng.below(nItems);
    for (let t = 0; seen.size < len && t < 200; t++) {
      if (!seen.has(i)) {
        seen.add(i);
        users.push(u);
        items.push(i);
        times.push(t);
      }
      i = rng.below(10) < 7 ? (i + 1) % nItems : rng.below(nItems);
    }
  }
  return Dataset.fromArrays({ users, items, timestamps: times });
}

const small: SASRecParams = { maxLength: 8, hidden: 16, blocks: 2, dropout: 0.1, epochs: 30, batchSize: 32, lr: 0.005, seed: 7 };
const data = walks(150, 40, 1);
const dir = tempDir('sasrec-');
afterAll(() => dir.remove());

describe('SASRec', () => {
  let m: SASRec;
  const losses: number[] = [];
  beforeAll(() => {
    m = new SASRec(small).fit(data, { onProgress: (p: FitProgress) => losses.push(p.loss!) });
  });

  it('the training loss decreases', () => {
    expect(losses.length).toBe(30);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.8);
  });

  it('is causal: changing a later item does not change the outputs at earlier positions', () => {
    const pa = m._positions([3, 4, 5, 6]);
    const pb = m._positions([3, 4, 5, 30]);
    expect(pa.length).toBe(4);
    for (let t = 0; t < 3; t++) expect(Array.from(pb[t]!)).toEqual(Array.from(pa[t]!));
    expect(Array.from(pb[3]!)).not.toEqual(Array.from(pa[3]!));
    // An earlier change reaches every later position.
    const pc = m._positions([3, 9, 5, 6]);
    for (let t = 1; t < 4; t++) expect(Array.from(pc[t]!)).not.toEqual(Array.from(pa[t]!));
    expect(Array.from(pc[0]!)).toEqual(Array.from(pa[0]!));
  });

  it('learns the walk: after item i it recommends i + 1, and beats Popularity on the sequential protocol', () => {
    let right = 0;
    for (const i of [2, 9, 15, 22, 30]) if (m.recommendForNewUser({ items: [i - 2, i - 1, i] }, { k: 1 })[0]!.item === i + 1) right++;
    expect(right).toBeGreaterThanOrEqual(4);
    const split = sequentialSplit(data);
    const s = new SASRec({ ...small, epochs: 20 }).fit(split.trainValid);
    const r = evaluateSequential(s, split.test, data.nItems, { sequences: split.sequences });
    const p = evaluateSequential(new Popularity().fit(split.trainValid), split.test, data.nItems, { sequences: split.sequences });
    expect(r['ndcg@10']).toBeGreaterThan(p['ndcg@10']! + 0.15);
  });

  it('is deterministic for a seed; the sampled losses and all-window training train too', () => {
    const a = new SASRec({ ...small, epochs: 2 }).fit(data);
    const b = new SASRec({ ...small, epochs: 2 }).fit(data);
    expect(a.scoreUsersDense(Int32Array.of(0, 1))).toEqual(b.scoreUsersDense(Int32Array.of(0, 1)));
    for (const loss of ['sampled', 'bce', 'gbce'] as const) {
      const l: number[] = [];
      new SASRec({ ...small, loss, negatives: 8, epochs: 10, windows: loss === 'sampled' ? 'all' : 'last' }).fit(data, {
        onProgress: (p) => l.push(p.loss!),
      });
      expect(l[l.length - 1]!).toBeLessThan(l[0]!);
    }
  });

  it('saves and loads: same scores and recommendations', () => {
    m.save(dir.path('s.recsys'));
    const back = loadModel<SASRec>(dir.path('s.recsys'));
    expect(back.scoreUsersDense(Int32Array.of(0, 5))).toEqual(m.scoreUsersDense(Int32Array.of(0, 5)));
    expect(back.recommend(3, { k: 5 })).toEqual(m.recommend(3, { k: 5 }));
    expect(back.recommendForNewUser({ items: [1, 2, 3] })).toEqual(m.recommendForNewUser({ items: [1, 2, 3] }));
    const copy = SASRec.fromState(m.state(), { users: m.trainData.users, items: m.trainData.items, params: m.params });
    expect(copy.scoreUsersDense(Int32Array.of(2))).toEqual(m.scoreUsersDense(Int32Array.of(2)));
  });

  it("the output layer's log-sum-exp has tfjs's own value and gradient", () => {
    const tf = tfSync();
    const rng = new Rng(2);
    const z = tf.tensor2d(
      Float32Array.from({ length: 4 * 7 }, () => rng.uniform() * 6 - 3),
      [4, 7],
    );
    const wts = tf.tensor1d([1, -2, 0.5, 3]);
    const ours = tf.grad((x: TF.Tensor) => tf.sum(tf.mul(logSumExpRows(tf, x as TF.Tensor2D), wts)))(z);
    const theirs = tf.grad((x: TF.Tensor) => tf.sum(tf.mul(tf.logSumExp(x, 1), wts)))(z);
    const a = ours.dataSync();
    const b = theirs.dataSync();
    for (let j = 0; j < a.length; j++) expect(a[j]).toBeCloseTo(b[j]!, 5);
    const v1 = logSumExpRows(tf, z).dataSync();
    const v2 = tf.logSumExp(z, 1).dataSync();
    for (let j = 0; j < 4; j++) expect(v1[j]).toBeCloseTo(v2[j]!, 5);
    // The same with the first column apart (the sampled loss's label logit beside its negatives).
    const zs = z.dataSync();
    const col = tf.tensor1d(Array.from({ length: 4 }, (_, r) => zs[r * 7]!));
    const rest = tf.tensor2d(
      Array.from({ length: 24 }, (_, j) => zs[Math.floor(j / 6) * 7 + 1 + (j % 6)]!),
      [4, 6],
    );
    const [gp, gz] = tf.grads((p: TF.Tensor, x: TF.Tensor) => tf.sum(tf.mul(logSumExpWith(tf, p as TF.Tensor1D, x as TF.Tensor2D), wts)))([col, rest]);
    const want = b;
    for (let r = 0; r < 4; r++) {
      expect(gp!.dataSync()[r]).toBeCloseTo(want[r * 7]!, 5);
      for (let c = 0; c < 6; c++) expect(gz!.dataSync()[r * 6 + c]).toBeCloseTo(want[r * 7 + c + 1]!, 5);
    }
    const v3 = logSumExpWith(tf, col, rest).dataSync();
    for (let j = 0; j < 4; j++) expect(v3[j]).toBeCloseTo(v2[j]!, 5);
  });

  it('refuses bad options', () => {
    expect(code(() => new SASRec({ maxLength: 0 }))).toBe('E_ARG');
    expect(code(() => new SASRec({ loss: 'x' as never }))).toBe('E_ARG');
    expect(code(() => new SASRec({ gbceT: 2 }))).toBe('E_ARG');
  });
});
