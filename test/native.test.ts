// The native fit seam (ts/native.ts) holds no defaults: every option a native fit reads is required (E_ARG naming
// it when left out), and a model given no options is fitted with exactly the ParamSpec's defaults.
import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import * as r from '../ts/index.js';
import type { Recommender } from '../ts/models/base.js';
import type { ParamValue } from '../ts/models/params.js';
import { addon, type NativeModel } from '../ts/native.js';
import { autoDensity } from '../ts/models/sansa.js';
import { thrown } from './helpers/rejection.js';
import { synthetic } from './helpers/synthetic.js';

const data = synthetic({ users: 24, items: 16, minPerUser: 3, maxPerUser: 8, seed: 5 });
const { csr, csc } = data;
const run = { async: false };
const sync = (m: NativeModel | Promise<NativeModel>) => m as NativeModel;

interface Case {
  make: (p?: object) => Recommender;
  /** The raw native fit of the family, given the options it is to read. */
  fit: (params: object) => NativeModel;
  /** Options the model sends that this native fit does not read (it needs no value for them). */
  unread?: readonly string[];
}

const cases: Record<string, Case> = {
  ImplicitALS: { make: (p) => new r.ImplicitALS(p), fit: (p) => sync(addon.fitImplicitALS(csr, csc, p, run)) },
  BPR: { make: (p) => new r.BPR(p), fit: (p) => sync(addon.fitBPR(csr, p, run)) },
  ItemKNN: { make: (p) => new r.ItemKNN(p), fit: (p) => sync(addon.fitItemKNN(csr, csc, p, run)), unread: ['seed'] },
  EASE: { make: (p) => new r.EASE(p), fit: (p) => sync(addon.fitEASE(csr, p, run)), unread: ['seed'] },
  SANSA: { make: (p) => new r.SANSA(p), fit: (p) => sync(addon.fitSANSA(csr, csc, p, run)), unread: ['seed'] },
  PureSVD: { make: (p) => new r.PureSVD(p), fit: (p) => sync(addon.fitPureSVD(csr, p, run)) },
  LightGCN: { make: (p) => new r.LightGCN(p), fit: (p) => sync(addon.fitLightGCN(csr, p, run)) },
  Popularity: { make: (p) => new r.Popularity(p), fit: (p) => sync(addon.fitPopularity(csr, p, run)), unread: ['threads', 'seed'] },
  Random: { make: (p) => new r.Random(p), fit: (p) => sync(addon.fitRandom(csr, p, run)), unread: ['threads', 'maxMemoryBytes'] },
  BaselineOnly: { make: (p) => new r.BaselineOnly(p), fit: (p) => sync(addon.fitBaselineOnly(csr, csc, p, run)), unread: ['seed'] },
  BiasedMF: { make: (p) => new r.BiasedMF(p), fit: (p) => sync(addon.fitBiasedMF(csr, p, run)) },
  SVDpp: { make: (p) => new r.SVDpp(p), fit: (p) => sync(addon.fitSVDpp(csr, p, run)) },
  ExplicitALS: { make: (p) => new r.ExplicitALS(p), fit: (p) => sync(addon.fitExplicitALS(csr, csc, p, run)) },
  NMF: { make: (p) => new r.NMF(p), fit: (p) => sync(addon.fitNMF(csr, csc, p, run)) },
  SlopeOne: { make: (p) => new r.SlopeOne(p), fit: (p) => sync(addon.fitSlopeOne(csr, csc, p, run)), unread: ['seed'] },
  KNNBasic: { make: (p) => new r.KNNBasic(p), fit: (p) => sync(addon.fitKNN(csr, csc, { ...p, mode: 'basic' }, run)), unread: ['seed'] },
  KNNBaseline: { make: (p) => new r.KNNBaseline(p), fit: (p) => sync(addon.fitKNN(csr, csc, { ...p, mode: 'baseline' }, run)), unread: ['seed'] },
};

/** What the model's fit hands the native side (Recommender.nativeParams is protected). */
function nativeParams(m: Recommender): Record<string, unknown> {
  return (m as unknown as { nativeParams(d: r.Dataset): Record<string, unknown> }).nativeParams(data);
}

describe('the native fit seam has no defaults', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: every option it reads is required (E_ARG naming it when left out)`, () => {
      const full = nativeParams(c.make({ threads: 1 }));
      expect(c.fit(full).nUsers).toBe(data.nUsers);
      const unread: string[] = [];
      for (const key of Object.keys(full)) {
        const { [key]: _left, ...rest } = full;
        let err: unknown;
        try {
          c.fit(rest);
        } catch (e) {
          err = e;
        }
        if (err === undefined) unread.push(key);
        else {
          expect(err).toBeInstanceOf(r.RecsysError);
          const { code, message } = err as r.RecsysError;
          expect({ key, code, message }).toEqual({ key, code: 'E_ARG', message: `option '${key}' is required` });
        }
      }
      // The options a fit does not read are the ones listed (not some option it silently defaults).
      expect(unread.sort()).toEqual([...(c.unread ?? [])].sort());
    });
  }

  it('the internal seams name a missing option too', () => {
    const sampled = () => addon.sampleEpoch(csr, { negatives: 2, seed: 1, epoch: 0, threads: 1 } as never);
    expect(thrown(sampled).message).toBe("option 'shuffle' is required");
    const step = () => addon.optimizerStep(new Float32Array(1), new Float32Array(1), undefined, undefined, { method: 'sgd', lr: 0.1 } as never);
    expect(thrown(step).message).toBe("option 'beta1' is required");
    const svd = () => addon.truncatedSVD(csr, { k: 2 } as never);
    expect(thrown(svd).message).toBe("option 'oversample' is required");
  });
});

/** Every option of the model written out with the value its spec (or the data, for data-dependent ones) gives. */
function explicitDefaults(m: Recommender): Record<string, unknown> {
  const spec = m.paramSpec.params;
  const out: Record<string, ParamValue> = {};
  for (const [key, s] of Object.entries(spec)) if (s.default !== undefined) out[key] = s.default;
  for (const [key, s] of Object.entries(spec)) if (s.derive) out[key] = s.derive(out);
  const ratings = csr.data!;
  const dataDependent: Record<string, ParamValue> = {
    ratingMin: Math.min(...ratings),
    ratingMax: Math.max(...ratings),
    factors: Math.min(32, data.nUsers, data.nItems), // PureSVD
    density: autoDensity(data.nItems, 10_000_000), // SANSA
    maxMemoryBytes: totalmem() / 2,
  };
  for (const key of Object.keys(spec)) if (out[key] === undefined) out[key] = dataDependent[key]!;
  return { ...out, threads: 1 };
}

describe('the defaults a fit uses are the ParamSpec ones', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(`${name} with no options equals ${name} with every default passed explicitly`, () => {
      const implicit = c.make({ threads: 1 });
      const given = explicitDefaults(implicit);
      expect(Object.values(given)).not.toContain(undefined);
      const explicit = c.make(given);
      const a = implicit.fit(data).exportState();
      const b = explicit.fit(data).exportState();
      expect(Object.keys(b.tensors).sort()).toEqual(Object.keys(a.tensors).sort());
      for (const [t, v] of Object.entries(a.tensors)) expect(b.tensors[t], `${name} ${t}`).toEqual(v);
    });
  }
});
