// Model format version 1 still loads: test/fixtures/model-v1 holds files of nine families written by the
// format-1 code (generate.ts) and their answers then; the loader maps their option tensors to named options
// (ts/io/v1.ts) and must answer exactly the same. A loaded version-1 model saves as version 2.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, readModelInfo } from '../../ts/index.js';
import { MODEL_FORMAT_VERSION } from '../../ts/io/format.js';
import { tempDir } from './helpers.js';

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
