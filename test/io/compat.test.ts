// Model format version 1 still loads: test/fixtures/model-v1 holds files of nine families written by the
// format-1 code (generate.ts) and their answers then; the loader maps their option tensors to named options
// (ts/io/v1.ts) and must answer exactly the same. A loaded version-1 model saves as version 2.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BaselineOnly, BiasedMF, SVDpp, loadModel, readModelInfo, type Recommender } from '../../ts/index.js';
import { MODEL_FORMAT_VERSION } from '../../ts/io/format.js';
import { synthetic } from '../helpers/synthetic.js';
import { rewrite, tempDir } from './helpers.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/model-v1');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, { recommend: unknown; predict: number; foldIn: unknown }>;
const tmp = tempDir('recsys-compat-');
afterAll(() => tmp.remove());

function answers(path: string) {
  const model = loadModel(path);
  let foldIn: unknown;
  try {
    foldIn = model.recommendForNewUser({ items: ['i0', 'i3', 'i5'], ratings: [5, 2, 4] }, { k: 5 });
  } catch (err) {
    foldIn = (err as { code?: string }).code;
  }
  return { model, got: { recommend: model.recommend('u1', { k: 5 }), predict: model.predict('u2', 'i4'), foldIn } };
}

// The answers were recorded with OpenBLAS; the built-in kernels sum in another order, so scores match to float
// precision rather than bit for bit (the items and error codes exactly).
function expectSameAnswers(got: unknown, want: unknown): void {
  if (typeof want === 'number') {
    expect(typeof got).toBe('number');
    expect(Math.abs((got as number) - want)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(want)));
  } else if (Array.isArray(want)) {
    expect(Array.isArray(got) && got.length === want.length).toBe(true);
    want.forEach((w, j) => expectSameAnswers((got as unknown[])[j], w));
  } else if (want !== null && typeof want === 'object') {
    expect(Object.keys(got as object).sort()).toEqual(Object.keys(want).sort());
    for (const [key, w] of Object.entries(want)) expectSameAnswers((got as Record<string, unknown>)[key], w);
  } else expect(got).toEqual(want);
}

describe('model files of format version 1', () => {
  it.each(Object.keys(expected))('%s loads and answers as the format-1 code did', (name) => {
    const path = join(dir, `${name}.rsm`);
    expect(readModelInfo(path).formatVersion).toBe(1);
    const { model, got } = answers(path);
    expect(model.name).toBe(name);
    expectSameAnswers(JSON.parse(JSON.stringify(got)), expected[name]);
    // Options the file kept only in tensors are named options now (and checked by the spec).
    expect(model.params.seed).toBe(7);
    // Saved again, it is a version-2 file with the same answers.
    const again = tmp.path(`${name}.rsm`);
    model.save(again);
    expect(readModelInfo(again).formatVersion).toBe(MODEL_FORMAT_VERSION);
    expectSameAnswers(JSON.parse(JSON.stringify(answers(again).got)), expected[name]);
  });
});

// Options derived from other options (lrBias from lr, BaselineOnly's epochs from method) are stored since the
// native side stopped deriving them. Files written before leave them out: loading derives them the same way.
describe('model files without derived options', () => {
  const data = synthetic({ users: 20, items: 15, minPerUser: 3, maxPerUser: 8, seed: 4 });
  const cases: [string, Recommender, string[]][] = [
    ['BiasedMF', new BiasedMF({ factors: 3, epochs: 3, lr: 0.02, reg: 0.05, threads: 1 }), ['lrBias', 'regBias']],
    ['SVDpp', new SVDpp({ factors: 3, epochs: 3, lr: 0.01, reg: 0.03, threads: 1 }), ['lrBias', 'regBias', 'lrY', 'regY']],
    ['BaselineOnly', new BaselineOnly({ method: 'sgd', threads: 1 }), ['epochs']],
  ];
  it.each(cases)('%s loads with them derived and answers the same', (_name, model, derived) => {
    model.fit(data);
    const path = tmp.path(`${model.name}-derived.rsm`);
    const old = tmp.path(`${model.name}-old.rsm`);
    model.save(path);
    rewrite(path, old, (_h, meta) => {
      for (const key of derived) {
        expect(meta.params[key]).toBe(model.params[key as keyof typeof model.params]);
        delete meta.params[key];
      }
    });
    const loaded = loadModel(old);
    expect(loaded.params).toEqual(model.params);
    if (model.name !== 'BaselineOnly') {
      // Fold-in runs SGD with the derived rates: the same answer only if they came back right. (Within float
      // rounding: the built-in kernels' SIMD tails may sum in another order for another allocation; a wrong rate
      // moves scores far more.)
      const newUser = { items: ['i0', 'i3', 'i5'], ratings: [5, 2, 4] };
      const a = loaded.recommendForNewUser(newUser, { k: 5 }),
        b = model.recommendForNewUser(newUser, { k: 5 });
      expect(a.map((r) => r.item)).toEqual(b.map((r) => r.item));
      a.forEach((r, j) => expect(r.score).toBeCloseTo(b[j]!.score, 5));
    }
    expect(loaded.predict('u2', 'i4')).toBe(model.predict('u2', 'i4'));
  });
});
