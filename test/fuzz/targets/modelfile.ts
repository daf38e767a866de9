// loadModel on mutated, truncated and crafted model files of every class. Most edits recompute the checksum so
// the loader's checks behind it are reached: tensor bytes (indices out of range, NaN), sizes and counts in the
// metadata (users, items, params such as epochs = 2^31), class / kind swaps, tensor headers, the state list.
// Oracle: E_FORMAT (or E_IO), or a model whose recommend / batch / similar / fold-in / predict answers are
// well-formed and come in time; a file whose class and kind disagree must not load (issue 12, item 3).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecsysError, loadModel, readModelInfo, type Recommender } from '../../../ts/index.js';
import { buildFile, parseFile } from '../../io/helpers.js';
import { EDGE_NUMBERS, Gen, showValue } from '../gen.js';
import { checkRecs, wrong, type Target } from '../target.js';
import { fittedFiles } from './fitted.js';

interface Source {
  name: string;
  bytes: Uint8Array;
  header: Record<string, any>;
  meta: Record<string, any>;
  data: Uint8Array;
}
interface Ctx {
  sources: Source[];
  dir: string;
}
interface Case {
  source: string;
  bytes: Uint8Array;
  edits: string[];
  /** The file claims another class or kind than its tensors are. */
  swapped: boolean;
}

const I32_VALUES = [-1, 0, 1, 2, 7, 30, 31, 1 << 20, 2 ** 31 - 1, -(2 ** 31), 2147483646];
const F32_VALUES = [NaN, Infinity, -Infinity, 1e30, -1e30, 0, -0, 1e-40, 3e38, -1];
const JSONISH: unknown[] = [null, '', '5', true, [], {}, [3], 'abc'];
const COUNTS = [0, -1, 1, 2, 14, 15, 16, 19, 20, 21, 29, 30, 31, 2147483646, 2 ** 31, 2 ** 53, 1e300, 0.5];

function edit(g: Gen, src: Source, all: Source[], edits: string[]): { bytes: Uint8Array; swapped: boolean } {
  const header = structuredClone(src.header);
  const meta = structuredClone(src.meta);
  const data = new Uint8Array(src.data);
  const dv = new DataView(data.buffer);
  let checksum = true;
  let raw: Uint8Array | undefined;
  for (let m = g.bool(0.7) ? 1 : g.int(2, 3); m > 0; m--) {
    const tensors = Object.keys(header).filter((k) => k !== '__metadata__');
    const what = g.weighted<string>([
      [5, () => 'tensor-data'],
      [4, () => 'meta-count'],
      [3, () => 'params'],
      [2, () => 'swap'],
      [2, () => 'tensor-header'],
      [1, () => 'state-list'],
      [1, () => 'ids'],
      [1, () => 'raw'],
      [1, () => 'raw-fixed'],
    ]);
    if (what === 'tensor-data' && tensors.length) {
      // Small tensors hold sizes, counts and options (epochs, k, ...): edit them more often.
      const small = tensors.filter((t) => header[t].dtype === 'I32' && (header[t].shape as number[]).reduce((a, b) => a * b, 1) <= 8);
      const t = small.length && g.bool(0.4) ? g.pick(small) : g.pick(tensors);
      const h = header[t];
      const [a, b] = h.data_offsets as [number, number];
      const n = Math.floor((b - a) / 4);
      if (!(n > 0) || !(a >= 0) || a + 4 * n > data.length) continue;
      const at = g.int(0, n - 1);
      if (h.dtype === 'I32') {
        const v = g.bool(0.7) ? g.pick(I32_VALUES) : g.int(-5, 50);
        dv.setInt32(a + 4 * at, v, true);
        edits.push(`${t}[${at}] = ${v}`);
      } else {
        const v = g.pick(F32_VALUES);
        dv.setFloat32(a + 4 * at, v, true);
        edits.push(`${t}[${at}] = ${v}`);
      }
    } else if (what === 'meta-count') {
      const field = g.pick(['users', 'items', 'data.users', 'data.items', 'data.interactions']);
      const v = g.bool(0.85) ? g.pick(COUNTS) : g.pick(JSONISH);
      if (field.startsWith('data.')) {
        if (meta.data && typeof meta.data === 'object') meta.data[field.slice(5)] = v;
      } else meta[field] = v;
      edits.push(`meta.${field} = ${showValue(v)}`);
    } else if (what === 'params') {
      const keys = Object.keys(meta.params ?? {});
      const key =
        g.bool(0.5) && keys.length
          ? g.pick(keys)
          : g.pick([
              'epochs',
              'factors',
              'iterations',
              'reg',
              'lr',
              'k',
              'hidden',
              'alpha',
              'threads',
              'seed',
              'ratingMin',
              'ratingMax',
              'cgSteps',
              'blockSize',
              'regExponent',
              '__proto__',
              'nope',
            ]);
      const v = g.weighted<unknown>([
        [3, () => g.pick([2 ** 31, 2 ** 31 - 1, 1e9, 1e300, -1, 0, 1e7])],
        [2, () => g.pick(EDGE_NUMBERS)],
        [1, () => g.pick(JSONISH)],
      ]);
      if (meta.params && typeof meta.params === 'object')
        Object.defineProperty(meta.params, key, { value: v, enumerable: true, configurable: true, writable: true });
      edits.push(`meta.params.${key} = ${showValue(v)}`);
    } else if (what === 'swap') {
      const other = g.pick(all.filter((s) => s.meta.class !== src.meta.class || s.meta.kind !== src.meta.kind));
      const which = g.pick(['class', 'kind', 'both'] as const);
      if (which !== 'kind') meta.class = other.meta.class;
      if (which !== 'class') meta.kind = other.meta.kind;
      edits.push(`meta.${which === 'both' ? 'class and kind' : which} from ${other.name}`);
    } else if (what === 'tensor-header' && tensors.length) {
      const t = g.pick(tensors);
      const h = header[t];
      const field = g.pick(['shape', 'dtype', 'data_offsets']);
      if (field === 'dtype') h.dtype = g.pick(['F32', 'I32', 'F64', 'I64', 'U8', 'F16', 'BOOL', 'x']);
      else if (field === 'shape') {
        const count = (h.shape as number[]).reduce((a, b) => a * b, 1);
        h.shape = g.pick([[count], [1, count], [count, 1], [count * 2], [Math.max(0, count - 1)], [], [2 ** 31, 2], [-1, -count], [count / 2, 2]]);
      } else {
        const [a, b] = h.data_offsets;
        h.data_offsets = g.pick([
          [a, b + 4],
          [a + 4, b],
          [b, a],
          [0, b - a],
          [a, a],
          [a, 2 ** 40],
          [-4, b],
        ]);
      }
      edits.push(`${t}.${field} = ${JSON.stringify(h[field])}`);
    } else if (what === 'state-list') {
      if (!Array.isArray(meta.state)) continue;
      const v = g.pick(['drop', 'dup', 'foreign'] as const);
      if (v === 'drop' && meta.state.length) {
        const name = meta.state.splice(g.int(0, meta.state.length - 1), 1)[0];
        if (g.bool()) delete header[name];
        edits.push(`state: dropped ${name}`);
      } else if (v === 'dup' && meta.state.length) {
        meta.state.push(g.pick(meta.state));
        edits.push('state: a repeated entry');
      } else {
        meta.state.push('train.indptr');
        edits.push('state: lists train.indptr');
      }
    } else if (what === 'ids') {
      const side = g.pick(['users', 'items']);
      const list = meta.ids?.[side]?.values;
      if (!Array.isArray(list) || !list.length) continue;
      const v = g.pick([null, true, {}, [], list[0], 1.5, NaN, '', 2 ** 60]);
      list[g.int(0, list.length - 1)] = v;
      if (g.bool(0.3)) list.pop();
      edits.push(`ids.${side}: an entry = ${showValue(v)}`);
    } else if (what === 'raw' || what === 'raw-fixed') {
      // The bytes so far carry the metadata edits made before this one (a swap of class or kind among them).
      header.__metadata__.recsys = JSON.stringify(meta);
      const bytes = raw ?? buildFile(header, data);
      const out = new Uint8Array(bytes);
      for (let j = g.int(1, 4); j > 0; j--) {
        const at = g.int(0, out.length - 1);
        out[at]! ^= 1 << g.int(0, 7);
      }
      const cut = g.bool(0.3) ? g.int(0, out.length) : out.length;
      raw = out.subarray(0, cut);
      if (what === 'raw-fixed') {
        // Re-checksum only if the header still parses.
        try {
          const p = parseFile(raw);
          raw = buildFile(p.header, p.data);
          edits.push(`bit flips${cut < out.length ? ` and cut at ${cut}` : ''}, checksum recomputed`);
        } catch {
          edits.push(`bit flips${cut < out.length ? ` and cut at ${cut}` : ''} (header broken)`);
        }
      } else {
        checksum = false;
        edits.push(`bit flips${cut < out.length ? ` and cut at ${cut}` : ''}, checksum stale`);
      }
      // Bit flips end the edits: later ones would change header and data that are no longer the file's bytes.
      // They were listed but lost, so a swap after the flips judged the unchanged file (cases 4858, 5132, 14010).
      break;
    }
  }
  // Judged on the final pair: a pair no real file has (the class of one model with the kind of another) must not
  // load. A later edit that takes class and kind from one model makes the pair consistent again; the file then
  // loads when its tensors are a valid state of that class (a Popularity state is a FactorModel's: case 9300), or
  // its restorer refuses them (case 8908), and exercise() judges what loaded.
  const swapped = checksum && !all.some((s) => s.meta.class === meta.class && s.meta.kind === meta.kind);
  if (raw) return { bytes: raw, swapped };
  header.__metadata__.recsys = JSON.stringify(meta);
  return { bytes: buildFile(header, data), swapped };
}

export const target: Target<Case, Ctx> = {
  name: 'modelfile',
  setup() {
    const dir = mkdtempSync(join(tmpdir(), 'recsys-fuzz-modelfile-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    const sources: Source[] = [];
    for (const [name, path] of fittedFiles()) {
      const bytes = new Uint8Array(readFileSync(path));
      const { header, data } = parseFile(bytes);
      sources.push({ name, bytes, header, data, meta: JSON.parse(header.__metadata__.recsys) });
    }
    return { sources, dir };
  },
  gen(g, ctx) {
    const src = g.pick(ctx.sources);
    const edits: string[] = [];
    const { bytes, swapped } = edit(g, src, ctx.sources, edits);
    return { source: src.name, bytes, edits, swapped };
  },
  show: (c) => `loadModel(${c.source} file with ${c.edits.join('; ')})`,
  run(c, ctx) {
    const path = join(ctx.dir, 'case.rsm');
    writeFileSync(path, c.bytes);
    try {
      readModelInfo(path);
    } catch (e) {
      if (!(e instanceof RecsysError)) throw e;
    }
    let m: Recommender;
    try {
      m = loadModel(path);
    } catch (e) {
      if (e instanceof RecsysError && !['E_FORMAT', 'E_IO'].includes(e.code)) wrong(`loadModel refused with ${e.code}, not E_FORMAT: ${e.message}`);
      throw e;
    }
    if (c.swapped) wrong(`a file whose class and kind were swapped loaded as ${m.name}`);
    exercise(m);
  },
};

/** Every query a service makes: each must answer well-formed or refuse with a RecsysError. */
function exercise(m: Recommender): void {
  const ds = m.trainData;
  const has = (id: unknown) => ds.items.has(id as never);
  const tryIt = (f: () => void) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof RecsysError)) throw e;
      if (e.code === 'E_NATIVE' || e.code === 'E_STATE') wrong(`a loaded model fails: ${e.code} ${e.message}`);
    }
  };
  const users = ds.users.ids.slice(0, 2);
  for (const u of users) tryIt(() => checkRecs(m.recommend(u, { k: 5 }), { k: 5, has, what: 'recommend' }));
  tryIt(() => {
    for (const r of m.recommendBatch(users, { k: 3 })) checkRecs(r, { k: 3, has, what: 'recommendBatch' });
  });
  if (ds.items.size) tryIt(() => checkRecs(m.similarItems(ds.items.ids[0]!, 4), { k: 4, has, forbidden: [ds.items.ids[0]], what: 'similarItems' }));
  const items = ds.items.ids.slice(0, 3);
  tryIt(() => checkRecs(m.recommendForNewUser({ items }, { k: 5 }), { k: 5, has, forbidden: items, what: 'recommendForNewUser' }));
  if (users.length && items.length) {
    tryIt(() => {
      const p = m.predict(users[0]!, items[0]!);
      if (typeof p !== 'number' || !Number.isFinite(p)) wrong(`predict gave ${p}`);
    });
  }
}
