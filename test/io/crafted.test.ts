// Crafted model files with a valid checksum (issue 12, item 3): sizes and counts a file states are checked
// against the tensors it holds and against the ranges the constructors enforce before anything is allocated, and
// a file whose class and state kind disagree is refused. Each file is loaded in a child process with a data-size
// limit and a timeout: before the fix these allocated gigabytes or folded a user in for ever.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FactorModel, loadModel, models } from '../../ts/index.js';
import { synthetic } from '../helpers/synthetic.js';
import { factorModel, rewrite, tempDir } from './helpers.js';

const tmp = tempDir('recsys-crafted-');
afterAll(() => tmp.remove());
const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, 'fixtures/load-child.ts');
const v1 = join(here, '../fixtures/model-v1');

const data = synthetic({ users: 30, items: 40, minPerUser: 3, maxPerUser: 10, seed: 9 });
function saved(name: string, params: Record<string, unknown> = {}): string {
  const path = tmp.path(`${name}.rsm`);
  models
    .find((m) => m.name === name)!
    .create({ threads: 1, ...params })
    .fit(data)
    .save(path);
  return path;
}

// Under the sanitizer run (npm run test:asan) ASan reserves terabytes of shadow address space at start, so a data
// limit would stop the child before it runs: there the 30 s timeout and the refusals themselves are what is checked.
const dataLimit = process.env.RECSYS_SANITIZER ? '' : 'ulimit -d 1048576 && ';

/** Loads `path` in a child limited to 1 GiB of data (not under ASan) and 30 s; returns what it printed. */
function loadInChild(path: string): { ok?: boolean; code?: string; message?: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync('bash', ['-c', `${dataLimit}exec "${process.execPath}" --import tsx "${child}" "${path}"`], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  const ms = Date.now() - t0;
  if (r.error || r.status !== 0) throw new Error(`child failed (status ${r.status}, ${r.error?.message ?? ''}): ${r.stderr.slice(-2000)}`);
  return { ...JSON.parse(r.stdout.trim().split('\n').pop()!), ms };
}

/** A FactorModel with implicit fold-in settings (alpha 2, reg 0.05), saved to tmp/`name`; returns its path. */
function savedFoldInModel(name: string): string {
  const f = factorModel(15, 25, 4, 12);
  const path = tmp.path(name);
  const foldIn = { implicit: true, alpha: 2, reg: 0.05, scaleReg: false };
  FactorModel.fromFactors({
    users: f.trainData.users,
    items: f.trainData.items,
    factors: 4,
    userFactors: f.userFactors!,
    itemFactors: f.itemFactors!,
    foldIn,
  }).save(path);
  return path;
}

function expectRefused(path: string, message: RegExp): void {
  const r = loadInChild(path);
  expect(r, JSON.stringify(r)).toMatchObject({ code: 'E_FORMAT' });
  expect(r.message).toMatch(message);
}

describe('crafted model files', () => {
  it.each(['KNNBaseline', 'SlopeOne', 'KNNBasic', 'EASE', 'ItemKNN', 'BiasedMF', 'SANSA'])(
    '%s: a huge item count in the metadata is refused before any allocation',
    (name) => {
      const src = saved(name);
      const p = tmp.path(`${name}-items.rsm`);
      for (const [users, items] of [
        [undefined, 2147483646],
        [2147483646, undefined],
        [undefined, 41],
      ] as const) {
        rewrite(src, p, (_h, m) => {
          if (users !== undefined) m.users = users;
          if (items !== undefined) m.items = items;
        });
        expectRefused(p, /larger than its id maps/);
      }
    },
  );

  it.each([
    ['BiasedMF', 2 ** 31],
    ['SVDpp', 2 ** 31],
    ['NMF', 2 ** 31],
    ['BPR', 2 ** 31],
    ['NMF', -1],
    ['BiasedMF', 1.5],
  ])('%s: epochs = %d in a format-2 file is refused by the spec', (name, epochs) => {
    const src = saved(name, { epochs: 2 });
    const p = tmp.path(`${name}-epochs.rsm`);
    rewrite(src, p, (_h, m) => void (m.params.epochs = epochs));
    expectRefused(p, /parameters are not valid here .*epochs must be an integer/);
  });

  it.each([
    ['BiasedMF', 'sgd_options', 0],
    ['SVDpp', 'sgd_options', 0],
    ['NMF', 'nmf_options', 0],
    ['ImplicitALS', 'options', 3],
  ])('%s: a huge epoch count in a format-1 options tensor is refused by the same spec', (name, tensor, at) => {
    const p = tmp.path(`${name}-v1-epochs.rsm`);
    rewrite(join(v1, `${name}.rsm`), p, (h, _m, d) => {
      new DataView(d.buffer, d.byteOffset).setInt32(h[tensor].data_offsets[0] + 4 * at, 2 ** 31 - 1, true);
    });
    expectRefused(p, /parameters are not valid here .*(epochs|iterations) must be an integer/);
  });

  it.each(['NMF', 'ImplicitALS', 'BiasedMF'])('%s: finite factors so large that scores would overflow are refused', (name) => {
    // Found by the fuzz suite: item_factors[64] = 3e38 loaded, then recommend answered a score of Infinity.
    const src = saved(name);
    const p = tmp.path(`${name}-huge-factor.rsm`);
    rewrite(src, p, (h, _m, d) => {
      new DataView(d.buffer, d.byteOffset).setFloat32(h.item_factors.data_offsets[0], 3e38, true);
    });
    expectRefused(p, /item_factors' holds values so large that scores would overflow/);
  });

  it.each([
    // Found by the fuzz suite: neighbor_scores[56] = 3e38 (seed 2720205316, case 14208) and B[64] = 3e38 (seed
    // 1797331691, case 13083) loaded, then recommend answered a score of Infinity.
    ['ItemKNN', 'neighbor_scores'],
    ['SANSA', 'encoder_values'],
    ['EASE', 'B'],
    ['LightGCN', 'item_layers'],
  ])('%s: finite weights in %s so large that scores would overflow are refused', (name, tensor) => {
    const src = saved(name);
    const p = tmp.path(`${name}-huge-weight.rsm`);
    rewrite(src, p, (h, _m, d) => {
      new DataView(d.buffer, d.byteOffset).setFloat32(h[tensor].data_offsets[0], 3e38, true);
    });
    expectRefused(p, new RegExp(`'${tensor}' holds values so large that scores would overflow`));
  });

  it.each(['KNNWithMeans', 'KNNBaseline'])('%s: similarities outside [-1, 1] are refused', (name) => {
    // Found by the fuzz suite (seed 1926696654, case 5706): neighbor_sims[13] = 3e38 loaded, then recommend
    // answered a score of Infinity.
    const src = saved(name);
    const p = tmp.path(`${name}-huge-sim.rsm`);
    rewrite(src, p, (h, _m, d) => {
      new DataView(d.buffer, d.byteOffset).setFloat32(h.neighbor_sims.data_offsets[0], 3e38, true);
    });
    expectRefused(p, /neighbor_sims' holds 3\d*e\+38.*similarities lie in \[-1, 1\]|neighbor_sims' holds .* similarities lie in \[-1, 1\]/);
  });

  it('params the class does not know, or out of range, are refused', () => {
    const src = saved('ImplicitALS', { iterations: 2 });
    const p = tmp.path('als-params.rsm');
    rewrite(src, p, (_h, m) => void Object.defineProperty(m.params, '__proto__', { value: 5, enumerable: true }));
    expectRefused(p, /unknown option "__proto__"/);
    rewrite(src, p, (_h, m) => void (m.params.factors = 1e9));
    expectRefused(p, /factors must be an integer/);
    rewrite(src, p, (_h, m) => void delete m.params.reg);
    // A missing option takes its default (a format-2 writer always writes them all; a reader stays lenient).
    expect(loadInChild(p)).toMatchObject({ ok: true });
  });

  it('a train.indptr entry far past the interactions is refused at once', () => {
    // Found by the fuzz suite (modelfile case 6980): with train.indptr[8] = 2147483646 the seen-item check walked
    // 2^31 positions past the end of train.indices, whose undefined entries passed every comparison: a hang.
    // A model from factors has no training interactions: nothing after the bad entry stops the walk early.
    const src = tmp.path('factors.rsm');
    factorModel(15, 25, 4, 11).save(src);
    const p = tmp.path('indptr-huge.rsm');
    for (const v of [2147483646, 2147483647, 1]) {
      rewrite(src, p, (h, _m, d) => {
        new DataView(d.buffer, d.byteOffset).setInt32(h['train.indptr'].data_offsets[0] + 4 * 8, v, true);
      });
      const r = loadInChild(p);
      expect(r, JSON.stringify(r)).toMatchObject({ code: 'E_FORMAT' });
      expect(r.message).toMatch(/train\.indptr is not non-decreasing/);
      expect(r.ms).toBeLessThan(10_000);
    }
  });

  it("fold-in settings outside the constructor's range are refused at load; those inside fold users in", () => {
    // Found by the fuzz suite (modelfile case 5380): foldin[0] (alpha) = 1e30 loaded, then every fold-in failed
    // with E_NATIVE "not positive definite". The tensor holds [alpha, reg] (V^T V is rebuilt from the factors).
    const src = savedFoldInModel('foldin-range.rsm');
    const p = tmp.path('foldin-alpha.rsm');
    const withFoldIn = (at: number, v: number) =>
      rewrite(src, p, (h, _m, d) => void new DataView(d.buffer, d.byteOffset).setFloat32(h.foldin.data_offsets[0] + 4 * at, v, true));
    for (const [at, v] of [
      [0, 1e30],
      [1, 1e30],
      [0, -1],
    ] as const) {
      withFoldIn(at, v);
      expectRefused(p, /tensor 'foldin' holds alpha or reg outside \[0, 1e12\]/);
    }
    for (const [at, v] of [
      [0, 1e12],
      [1, 0],
    ] as const) {
      withFoldIn(at, v);
      expect(loadInChild(p)).toMatchObject({ ok: true });
    }
  });

  it("a fold-in FactorModel's state renamed NMF (class and kind) is refused: negative factors, foreign tensors", () => {
    // Found by the fuzz suite (modelfile case 8908): the pair NMF / NMF is consistent, but the tensors are not an
    // NMF state. It loaded as an NMF with negative factors, silently dropping the fold-in settings.
    const src = savedFoldInModel('foldin.rsm');
    const p = tmp.path('foldin-as-nmf.rsm');
    const asNmf = (nonNegative: boolean) =>
      rewrite(src, p, (h, m, d) => {
        m.class = 'NMF';
        m.kind = 'NMF';
        if (!nonNegative) return;
        const dv = new DataView(d.buffer, d.byteOffset);
        for (const t of ['user_factors', 'item_factors']) {
          const [a, b] = h[t].data_offsets as [number, number];
          for (let o = a; o < b; o += 4) dv.setFloat32(o, Math.abs(dv.getFloat32(o, true)), true);
        }
      });
    asNmf(false);
    expectRefused(p, /NMF state: tensor '(user|item)_factors' holds a negative value/);
    asNmf(true);
    expectRefused(p, /NMF state: tensor 'foldin(_flags)?' is not part of a NMF state/);
  });

  it('a Popularity state renamed FactorModel (class and kind) is a valid FactorModel and loads', () => {
    // Fuzz modelfile case 9300 was an oracle error: global_bias + item_bias is a complete FactorModel state (no
    // factors), so the file loads and ranks items as the Popularity model did.
    const src = saved('Popularity');
    const p = tmp.path('popularity-as-factors.rsm');
    rewrite(src, p, (_h, m) => {
      m.class = 'FactorModel';
      m.kind = 'FactorModel';
      m.params = {};
    });
    const [a, b] = [loadModel(src), loadModel(p)];
    expect(b.name).toBe('FactorModel');
    for (const u of a.trainData.users.ids.slice(0, 5)) expect(b.recommend(u, { k: 5 })).toEqual(a.recommend(u, { k: 5 }));
  });

  it.each([
    ['NMF', 'BiasedMF'],
    ['BPR', 'ImplicitALS'],
    ['KNNBasic', 'KNNBaseline'],
    ['EASE', 'ItemKNN'],
  ])('a %s state under class %s is refused (class and kind disagree)', (kindOf, cls) => {
    const src = saved(kindOf, kindOf === 'NMF' || kindOf === 'BPR' ? { epochs: 2 } : {});
    const p = tmp.path(`${kindOf}-as-${cls}.rsm`);
    rewrite(src, p, (_h, m) => {
      m.class = cls;
      m.params = { threads: 1 };
    });
    expectRefused(p, new RegExp(`keeps state of kind '${cls}', but the file holds kind '${kindOf}'`));
    // Renaming the kind too gives a state its restorer refuses (or, for compatible layouts, a model of cls).
    rewrite(src, p, (_h, m) => {
      m.class = cls;
      m.kind = cls;
      m.params = { threads: 1 };
    });
    const r = loadInChild(p);
    expect(r.ok === true || r.code === 'E_FORMAT', JSON.stringify(r)).toBe(true);
  });
});
