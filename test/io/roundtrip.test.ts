import { readFileSync, statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  RecsysError,
  loadModel,
  loadModelAsync,
  readModelInfo,
  registerModelClass,
  Recommender,
  FactorModel,
  Dataset,
  type Id,
  ImplicitALS,
} from '../../ts/index.js';
import { dataFingerprint } from '../../ts/io/format.js';
import { mulberry32 } from '../helpers/random.js';
import { synthetic } from '../helpers/synthetic.js';
import { addon } from '../../ts/native.js';
import { fittedModels, factorModel, parseFile, stripTensor, tempDir } from './helpers.js';

const tmp = tempDir('recsys-io-');
afterAll(() => tmp.remove());

function tryCall<T>(f: () => T): T | string {
  try {
    return f();
  } catch (err) {
    if (err instanceof RecsysError) return err.code;
    throw err;
  }
}

describe('save -> loadModel round trip', () => {
  const all = fittedModels();
  it('covers every registry family and FactorModel', () => {
    expect(all.map((m) => m.name)).toEqual(expect.arrayContaining(['Random', 'Popularity', 'BaselineOnly', 'FactorModel']));
  });

  all.forEach((m, idx) => {
    it(`${m.name} (#${idx}): the loaded model is the same class and gives identical results`, () => {
      const path = tmp.path(`${m.name}-${idx}.rsm`);
      m.save(path);
      const l = loadModel(path);
      expect(l).toBeInstanceOf(m.constructor);
      expect(l.name).toBe(m.name);
      expect(l.params).toEqual(m.params);
      const users = m.trainData.users.ids as Id[];
      const items = m.trainData.items.ids as Id[];
      expect(l.trainData.users.ids).toEqual(users);
      expect(l.trainData.items.ids).toEqual(items);
      expect(l.trainData.csr.indptr).toEqual(m.trainData.csr.indptr);
      expect(l.trainData.csr.indices).toEqual(m.trainData.csr.indices);
      // Scores are compared exactly: the same state through the same native code.
      for (const u of users.slice(0, 12)) {
        expect(l.recommend(u, { k: 10 })).toEqual(m.recommend(u, { k: 10 }));
        expect(l.recommend(u, { k: 5, filterSeen: false, exclude: [items[0]!] })).toEqual(m.recommend(u, { k: 5, filterSeen: false, exclude: [items[0]!] }));
      }
      expect(l.recommendBatch(users, { k: 7 })).toEqual(m.recommendBatch(users, { k: 7 }));
      for (let p = 0; p < 20; p++) {
        const u = users[(p * 7) % users.length]!,
          i = items[(p * 11) % items.length]!;
        expect(l.predict(u, i)).toBe(m.predict(u, i));
      }
      expect(l.predict('nobody', 'nothing')).toBe(m.predict('nobody', 'nothing'));
      expect(tryCall(() => l.similarItems(items[1]!, 5))).toEqual(tryCall(() => m.similarItems(items[1]!, 5)));
      expect(tryCall(() => l.recommendForNewUser({ items: items.slice(0, 3) }, { k: 5 }))).toEqual(
        tryCall(() => m.recommendForNewUser({ items: items.slice(0, 3) }, { k: 5 })),
      );
      // Saving the loaded model again writes the same tensors and metadata (all but the time of writing).
      const again = tmp.path(`${m.name}-${idx}-again.rsm`);
      l.save(again);
      const a = parseFile(readFileSync(path));
      const b = parseFile(readFileSync(again));
      expect(Buffer.compare(Buffer.from(a.data), Buffer.from(b.data))).toBe(0);
      const ma = JSON.parse(a.header.__metadata__.recsys),
        mb = JSON.parse(b.header.__metadata__.recsys);
      delete ma.created;
      delete mb.created;
      expect(mb).toEqual(ma);
    });
  });

  it('loadModelAsync (worker thread) gives the same model as loadModel', async () => {
    for (const m of all) {
      const path = tmp.path(`${m.name}-async.rsm`);
      m.save(path);
      const a = await loadModelAsync(path);
      expect(a.name).toBe(m.name);
      const u = m.trainData.users.ids[2]!;
      expect(a.recommend(u, { k: 8 })).toEqual(loadModel(path).recommend(u, { k: 8 }));
    }
  });

  it('a loaded ImplicitALS keeps everything partialFit needs', () => {
    const m = all.find((x) => x.name === 'ImplicitALS') as ImplicitALS | undefined;
    if (!m) return; // the family is not in this build
    const path = tmp.path('als-partial.rsm');
    m.save(path);
    const l = loadModel<ImplicitALS>(path);
    const grown = synthetic({ users: 45, items: 60, minPerUser: 3, maxPerUser: 12, seed: 9, skew: true });
    const a = m.partialFit(grown),
      b = l.partialFit(grown);
    for (const u of grown.users.ids.slice(38)) expect(b.recommend(u, { k: 6 })).toEqual(a.recommend(u, { k: 6 }));
  });

  it('keeps the training values bit for bit (train.data) and the fingerprint; files without train.data load as before', () => {
    // Values that are not small integers, so that a rounding or a cast anywhere on the way would show.
    const rnd = mulberry32(21);
    const users: string[] = [],
      items: number[] = [],
      ratings: number[] = [];
    for (let u = 0; u < 25; u++)
      for (let i = u % 3; i < 30; i += 2 + (u % 4)) {
        users.push(`u${u}`);
        items.push(i);
        ratings.push(u === 3 ? 1e-30 : Math.fround(0.1 + rnd() * 7.3));
      }
    const data = Dataset.fromArrays({ users, items, ratings });
    const m = new ImplicitALS({ factors: 4, iterations: 4, alpha: 3, threads: 1, seed: 2 }).fit(data);
    const path = tmp.path('values.rsm');
    m.save(path);
    const { header } = parseFile(readFileSync(path));
    expect(header['train.data']).toMatchObject({ dtype: 'F32', shape: [data.nnz] });
    const l = loadModel<ImplicitALS>(path);
    expect(l.trainData.hasRatings).toBe(true);
    const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(bytes(l.trainData.csr.data!).equals(bytes(m.trainData.csr.data!))).toBe(true);
    expect(l.trainData.userValues(3)).toEqual(Float32Array.from(l.trainData.userItems(3), () => 1e-30));
    // The fingerprint: the file's, the loaded model's and a fresh hash of the loaded arrays all agree.
    const fp = dataFingerprint(m.trainData);
    expect(readModelInfo(path).meta.data.fingerprint).toBe(fp);
    expect(dataFingerprint(l.trainData)).toBe(fp);
    const c = l.trainData.csr;
    expect(dataFingerprint(new Dataset(l.trainData.users, l.trainData.items, { ...c }))).toBe(fp);
    // The same file as a writer before train.data made it: it loads exactly as such files always did.
    const old = tmp.path('values-old.rsm');
    stripTensor(path, old, 'train.data');
    expect(parseFile(readFileSync(old)).header['train.data']).toBeUndefined();
    const o = loadModel<ImplicitALS>(old);
    expect(o.trainData.hasRatings).toBe(false);
    expect(o.trainData.csr.indptr).toEqual(m.trainData.csr.indptr);
    expect(o.trainData.csr.indices).toEqual(m.trainData.csr.indices);
    expect(o.recommendBatch(['u0', 'u7'], { k: 6 })).toEqual(m.recommendBatch(['u0', 'u7'], { k: 6 }));
    expect(dataFingerprint(o.trainData)).toBe(fp);
    // A model fitted on binary data writes no train.data.
    const bin = new ImplicitALS({ factors: 4, iterations: 2, threads: 1 }).fit(Dataset.fromArrays({ users, items }));
    bin.save(tmp.path('binary.rsm'));
    expect(parseFile(readFileSync(tmp.path('binary.rsm'))).header['train.data']).toBeUndefined();
    expect(loadModel(tmp.path('binary.rsm')).trainData.hasRatings).toBe(false);
  });

  it('keeps string, numeric and mixed ids with their types (7 and "7" stay distinct)', () => {
    const m = factorModel(4, 5, 3, 2);
    const mixed = FactorModel.fromFactors({
      users: [7, '7', 'x', 2.5],
      items: ['a', 1, '1', -3, 'é'],
      factors: 3,
      userFactors: m.userFactors!.slice(0, 12),
      itemFactors: m.itemFactors!.slice(0, 15),
    });
    const path = tmp.path('mixed.rsm');
    mixed.save(path);
    const l = loadModel(path);
    expect(l.trainData.users.ids).toEqual([7, '7', 'x', 2.5]);
    expect(l.trainData.items.ids).toEqual(['a', 1, '1', -3, 'é']);
    expect(l.recommend('7', { k: 5 })).toEqual(mixed.recommend('7', { k: 5 }));
    expect(l.recommend(7, { k: 5 })).toEqual(mixed.recommend(7, { k: 5 }));
  });

  it('writes metadata that says what the model is', () => {
    const m = all.find((x) => x.name === 'BaselineOnly')!;
    const path = tmp.path('meta.rsm');
    m.save(path);
    const info = readModelInfo(path);
    expect(info.size).toBe(statSync(path).size);
    expect(info.formatVersion).toBe(2);
    expect(info.checksum).toMatch(/^xxh64:[0-9a-f]{16}$/);
    expect(info.meta).toMatchObject({
      class: 'BaselineOnly',
      kind: 'BaselineOnly',
      users: m.nativeModel.nUsers,
      items: m.nativeModel.nItems,
      params: { threads: 1, seed: 3 },
      data: { users: m.trainData.nUsers, items: m.trainData.nItems, interactions: m.trainData.nnz },
    });
    expect(info.meta.data.fingerprint).toMatch(/^xxh64:[0-9a-f]{16}$/);
    expect(Date.parse(info.meta.created)).toBeGreaterThan(Date.parse('2024-01-01'));
    // The same data gives the same fingerprint; other data another.
    const other = all.find((x) => x.name === 'Random')!;
    other.save(tmp.path('meta2.rsm'));
    expect(readModelInfo(tmp.path('meta2.rsm')).meta.data.fingerprint).toBe(info.meta.data.fingerprint);
    const f = factorModel(30, 50, 8, 11);
    f.save(tmp.path('meta3.rsm'));
    expect(readModelInfo(tmp.path('meta3.rsm')).meta.data.fingerprint).not.toBe(info.meta.data.fingerprint);
  });

  it('is a safetensors file whose factors are plain little-endian tensors', () => {
    const m = factorModel(30, 50, 8, 11);
    const path = tmp.path('st.rsm');
    m.save(path);
    const bytes = readFileSync(path);
    const { header, data } = parseFile(bytes);
    const n = Number(bytes.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    expect(header.__metadata__.format).toBe('recsys-model');
    const t = header.item_factors;
    expect(t).toMatchObject({ dtype: 'F32', shape: [50, 8] });
    const [b, e] = t.data_offsets;
    const v = new Float32Array(data.buffer.slice(data.byteOffset + b, data.byteOffset + e));
    expect(v).toEqual(m.itemFactors);
    expect(header['ids.items']).toMatchObject({ dtype: 'I32', shape: [50] });
  });

  it('rebuilds a native model from state() with restoreModel, and refuses bad state', () => {
    const m = factorModel(6, 9, 4, 3);
    const h = m.nativeModel;
    const r = addon.restoreModel(h.kind, { users: h.nUsers, items: h.nItems }, h.state(), m.params);
    expect(r.recommend(2, 9)).toEqual(h.recommend(2, 9));
    const bad = h.state();
    bad.item_factors!.shape = [9, 3];
    expect(() => addon.restoreModel(h.kind, { users: 6, items: 9 }, bad, m.params)).toThrow(/shape|values/);
    const nan = h.state();
    (nan.user_factors!.data as Float32Array)[5] = NaN;
    expect(() => addon.restoreModel(h.kind, { users: 6, items: 9 }, nan, m.params)).toThrow(/non-finite/);
    expect(() => addon.restoreModel('NoSuchKind', { users: 6, items: 9 }, h.state(), m.params)).toThrow(/NoSuchKind/);
    expect(() => addon.restoreModel(h.kind, { users: 7, items: 9 }, h.state(), m.params)).toThrow(/shape/);
    expect(addon.restorableKinds()).toEqual(expect.arrayContaining(['FactorModel', 'Popularity', 'Random', 'BaselineOnly']));
  });

  it('refuses to save unfitted models or classes loadModel would not know, and loads registered extra classes', () => {
    expect(() => new FactorModel().save(tmp.path('x.rsm'))).toThrow(/not fitted/);
    class Custom extends FactorModel {
      override readonly name = 'CustomFactors' as 'FactorModel';
    }
    const base = factorModel(5, 6, 2, 1);
    const c = new Custom();
    Recommender.attachState(c, base.nativeModel, base.trainData);
    expect(() => c.save(tmp.path('c.rsm'))).toThrow(/CustomFactors cannot be saved/);
    registerModelClass('CustomFactors', (p) => new Custom(p));
    c.save(tmp.path('c.rsm'));
    const l = loadModel(tmp.path('c.rsm'));
    expect(l).toBeInstanceOf(Custom);
    expect(l.recommend('user-1')).toEqual(base.recommend('user-1'));
  });
});
