// One owner per parameter (issue 12): every model resolves its options through its spec (ts/models/params.ts):
// unknown options are refused with a "did you mean", prototype names are plain unknown options, model.params
// shows the resolved options with their defaults, and cross-field rules hold for every model that has them.
import { describe, expect, it } from 'vitest';
import {
  BaselineOnly,
  BiasedMF,
  EASE,
  ExplicitALS,
  FactorModel,
  ImplicitALS,
  KNNBaseline,
  KNNBasic,
  NMF,
  Popularity,
  PureSVD,
  Random,
  SVDpp,
  models,
} from '../../ts/index.js';
import { parseSets } from '../../ts/cli/common.js';
import { RecsysError } from '../../ts/errors.js';
import { addon } from '../../ts/native.js';
import { synthetic } from '../helpers/synthetic.js';

const everyClass: [string, (p: Record<string, unknown>) => unknown][] = [
  ...models.map((m) => [m.name, (p: Record<string, unknown>) => m.create(p)] as [string, (p: Record<string, unknown>) => unknown]),
  ['FactorModel', (p) => new FactorModel(p)],
];

function argError(f: () => unknown): RecsysError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(RecsysError);
    expect((err as RecsysError).code).toBe('E_ARG');
    return err as RecsysError;
  }
  throw new Error('expected an E_ARG');
}

describe('unknown options', () => {
  it.each(everyClass)('%s refuses a misspelt option and names the nearest known one', (name, create) => {
    const e = argError(() => create({ thread: 1 }));
    expect(e.message).toContain(name);
    expect(e.message).toContain("did you mean 'threads'");
  });

  it.each(everyClass)('%s refuses prototype names as unknown options (no TypeError, not ignored)', (_name, create) => {
    for (const key of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      const e = argError(() => create({ [key]: 1 }));
      expect(e.message).toContain(`unknown option "${key}"`);
    }
    // An own __proto__ key, as JSON.parse and --set make it.
    argError(() => create(JSON.parse('{"__proto__": {"factors": 3}}')));
  });

  it('--set __proto__=... reaches the model as an option (refused), not as a prototype', () => {
    const p = parseSets(['__proto__={"factors":3}', 'toString=1']);
    expect(Object.getPrototypeOf(p)).toBe(Object.prototype);
    expect(Object.keys(p)).toEqual(['__proto__', 'toString']);
    argError(() => new ImplicitALS(p));
  });

  it('accepts options whose value is undefined, and a null-prototype options object', () => {
    const p = Object.assign(Object.create(null) as Record<string, unknown>, { factors: 8, reg: undefined });
    expect(new ImplicitALS(p).params.factors).toBe(8);
    expect(new ImplicitALS(p).params.reg).toBe(0.01);
  });

  it('refuses non-object options', () => {
    for (const bad of [null, 3, 'x', [1]]) argError(() => new BiasedMF(bad as never));
  });
});

describe('model.params', () => {
  it('shows the resolved options, defaults included', () => {
    expect(new ImplicitALS({ factors: 8 }).params).toEqual({
      threads: 0,
      seed: 42,
      factors: 8,
      reg: 0.01,
      alpha: 1,
      iterations: 15,
      solver: 'cg',
      cgSteps: 3,
      blockSize: 32,
      blockSweeps: 1,
      regExponent: 0,
      regUnobserved: 1,
      binary: false,
      computeLoss: false,
      ann: 'auto',
      annThreshold: 500000,
      annM: 16,
      annEfConstruction: 100,
      annEfSearch: 100,
      annLandmarks: false,
    });
    expect(new Random().params).toEqual({ threads: 0, seed: 42 });
    expect(new Popularity({ threads: 2 }).params).toEqual({ threads: 2, seed: 42 });
    expect(new KNNBaseline().params.similarity).toBe('pearson_baseline');
    expect(new KNNBasic().params.similarity).toBe('msd');
    expect(new SVDpp().params).toMatchObject({ factors: 20, lr: 0.007, reg: 0.02 });
    expect(new BiasedMF().params).toMatchObject({ factors: 100, lr: 0.005, epochs: 20 });
    // Defaults derived from other options are shown; those that depend on the data are left out.
    expect(new BiasedMF({ lr: 0.01, reg: 0.1 }).params).toMatchObject({ lrBias: 0.01, regBias: 0.1 });
    expect(new BiasedMF({ lr: 0.01, lrBias: 0.002 }).params.lrBias).toBe(0.002);
    expect(new SVDpp({ lr: 0.003 }).params).toMatchObject({ lrY: 0.003, regY: 0.02 });
    expect(new BaselineOnly().params.epochs).toBe(10);
    expect(new BaselineOnly({ method: 'sgd' }).params.epochs).toBe(20);
    expect(new BaselineOnly({ method: 'sgd', epochs: 3 }).params.epochs).toBe(3);
    expect('ratingMin' in new BiasedMF().params).toBe(false);
    expect('factors' in new PureSVD().params).toBe(false);
    expect('maxMemoryBytes' in new EASE().params).toBe(false);
  });

  it('is frozen', () => {
    const m = new NMF();
    expect(Object.isFrozen(m.params)).toBe(true);
  });
});

describe('ranges and cross-field rules', () => {
  it.each([
    ['BaselineOnly', () => new BaselineOnly({ ratingMin: 5, ratingMax: 1 })],
    ['BiasedMF', () => new BiasedMF({ ratingMin: 5, ratingMax: 1 })],
    ['NMF', () => new NMF({ initLow: 2, initHigh: 1 })],
    ['SVDpp', () => new SVDpp({ lrY: 2, regY: 0.5 })],
  ])('%s refuses options that break a rule', (_n, f) => {
    expect(argError(f).message).toMatch(/must be/);
  });

  it('refuses reals a model file could not keep (float32 overflow)', () => {
    argError(() => new BiasedMF({ ratingMax: 1e39 }));
    argError(() => new ExplicitALS({ reg: 1e300 }));
  });
});

describe('the native seam', () => {
  it('native errors arrive as RecsysError with their code, sync and async, without re-wrapping', async () => {
    let err: unknown;
    try {
      addon.restoreModel('NoSuchKind', { users: 1, items: 1 }, {}, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RecsysError);
    expect(err).toMatchObject({ code: 'E_FORMAT', message: expect.stringMatching(/NoSuchKind/) });
    const bad = { rows: 1, cols: 1, indptr: Int32Array.of(0, 5), indices: Int32Array.of(0) };
    expect(() => addon.fitBPR(bad, {}, { async: false })).toThrow(RecsysError);
    const rejected = await addon
      .parseInteractions('/no/such/file.csv', { delimiter: ',', quote: false, header: false, fields: 2, columns: { user: 0, item: 1 }, duplicates: 'error' })
      .catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(RecsysError);
    expect((rejected as RecsysError).code).toMatch(/^E_/);
  });

  it('a restorer given no options (a TS bug, never a file) names the missing one', () => {
    const data = synthetic({ users: 10, items: 12, minPerUser: 2, maxPerUser: 5, seed: 3 });
    const h = new ImplicitALS({ factors: 2, iterations: 1, threads: 1 }).fit(data).nativeModel;
    expect(() => addon.restoreModel(h.kind, { users: h.nUsers, items: h.nItems }, h.state(), {})).toThrow(/ImplicitALS restore: option '\w+' is missing/);
  });
});
