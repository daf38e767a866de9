// Issue 12, item 10: a model that saves must load. Random option sets drawn from each model's own spec (in and
// out of range): construction refuses with E_ARG, or the fit succeeds or refuses with a RecsysError; a fitted
// model saves (or refuses a diverged state with E_STATE), and every saved file loads with the same params and
// the same answers.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, models } from '../../ts/index.js';
import { RecsysError } from '../../ts/errors.js';
import type { ParamSpec } from '../../ts/models/params.js';
import { synthetic } from '../helpers/synthetic.js';
import { tempDir } from '../io/helpers.js';

const tmp = tempDir('recsys-params-prop-');
afterAll(() => tmp.remove());
const data = synthetic({ users: 15, items: 20, minPerUser: 2, maxPerUser: 8, seed: 4 });

/** Values for one option: mostly valid and small (fits stay fast), sometimes at or past its limits. */
function values(s: ParamSpec): fc.Arbitrary<unknown> {
  const bad = fc.constantFrom<unknown>(NaN, Infinity, '1', null, [], {});
  if ('int' in s) {
    const [lo, hi] = s.int;
    return fc.oneof({ weight: 40, arbitrary: fc.integer({ min: lo, max: Math.min(hi, lo + 4) }) }, fc.constantFrom(lo - 1, hi + 1, lo + 0.5), bad);
  }
  if ('real' in s) {
    const [lo, hi] = s.real;
    const top = Math.min(hi, 1);
    const large = [1e3, 1e6, 1e12, 1e30, hi].filter((v) => v <= hi && v >= lo);
    return fc.oneof(
      { weight: 30, arbitrary: fc.double({ min: Math.max(lo, -1), max: Math.max(top, Math.max(lo, -1)), noNaN: true }) },
      { weight: 4, arbitrary: fc.constantFrom(lo, ...large) },
      fc.constantFrom(lo - 1, hi * 10, 1e39, -1e39, 1e300),
      bad,
    );
  }
  if ('bool' in s) return fc.oneof({ weight: 40, arbitrary: fc.boolean() }, bad);
  if ('oneOf' in s) return fc.oneof({ weight: 40, arbitrary: fc.constantFrom(...s.oneOf) }, fc.constant('nope'), bad);
  return fc.oneof({ weight: 40, arbitrary: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 3 }) }, bad);
}

const native = models.filter((m) => !['NeuMF', 'GMF', 'MLP', 'MultVAE', 'AutoRec', 'RecVAE', 'SASRec'].includes(m.name));

describe('construct, fit, save, load', () => {
  it.each(native.map((m) => [m.name, m] as const))('%s: every option set that saves, loads', (name, entry) => {
    const spec = entry.create({}).paramSpec.params;
    const arb = fc.record(
      Object.fromEntries(
        Object.entries(spec)
          .filter(([k]) => k !== 'threads')
          .map(([k, s]) => [k, values(s)]),
      ),
      { requiredKeys: [] },
    );
    const outcome = { refused: 0, fitRefused: 0, saveRefused: 0, loaded: 0 };
    fc.assert(
      fc.property(
        arb,
        fc.nat(9).map((n) => n === 0),
        (options, typo) => {
          const params: Record<string, unknown> = { ...options, threads: 1 };
          if (typo) params.bogus = 1;
          let model;
          try {
            model = entry.create(params);
          } catch (err) {
            expect(err).toBeInstanceOf(RecsysError);
            expect((err as RecsysError).code).toBe('E_ARG');
            outcome.refused++;
            return;
          }
          expect(typo).toBe(false);
          try {
            model.fit(data);
          } catch (err) {
            expect(err, String(err)).toBeInstanceOf(RecsysError);
            outcome.fitRefused++;
            if (process.env.PROP_DEBUG) console.log(name, JSON.stringify(params), String(err));
            return;
          }
          const path = tmp.path(`${name}.rsm`);
          try {
            model.save(path);
          } catch (err) {
            expect(err, String(err)).toBeInstanceOf(RecsysError);
            expect((err as RecsysError).code).toBe('E_STATE');
            outcome.saveRefused++;
            return;
          }
          const loaded = loadModel(path);
          expect(loaded.params).toEqual(model.params);
          expect(loaded.recommend('u1', { k: 5 })).toEqual(model.recommend('u1', { k: 5 }));
          expect(loaded.predict('u2', 'i3')).toEqual(model.predict('u2', 'i3'));
          outcome.loaded++;
        },
      ),
      { numRuns: 60 },
    );
    expect(outcome.loaded, JSON.stringify(outcome)).toBeGreaterThan(0);
  });
});
