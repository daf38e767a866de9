// Shared pieces of the model-file tests: a temp directory, small fitted models of every class, and a rewriter
// that edits a model file's header and recomputes its checksum (to reach the checks behind the checksum).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FactorModel, models, type Recommender } from '../../ts/index.js';
import { addon } from '../../ts/native.js';
import { CHECKSUM_AT } from '../../ts/io/format.js';
import { synthetic } from '../helpers/synthetic.js';
import { mulberry32, randomMatrix } from '../helpers/random.js';

export function tempDir(prefix: string): { dir: string; path(name: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Settings under which a deep model's fit takes a moment (SASRec's defaults take 25 s even on 40 users). */
export function smallDeepParams(name: string): Record<string, unknown> {
  if (name === 'AutoRec') return { epochs: 2, hidden: 8 };
  if (name === 'MultVAE') return { epochs: 2, hidden: [8], latent: 4 };
  if (name === 'RecVAE') return { epochs: 2, hidden: 8, latent: 4 };
  if (name === 'SASRec') return { epochs: 2, hidden: 8, maxLength: 8 };
  if (name === 'GMF') return { epochs: 2, factors: 4 };
  if (name === 'MLP' || name === 'NeuMF') return { epochs: 2, factors: 4, layers: [8, 4] };
  return {};
}

/** One small fitted model per class loadModel knows: every registry family plus FactorModel.fromFactors. */
export function fittedModels(): Recommender[] {
  const data = synthetic({ users: 40, items: 60, minPerUser: 3, maxPerUser: 12, seed: 5, skew: true });
  const out: Recommender[] = [];
  for (const e of models) out.push(e.create({ threads: 1, seed: 3, ...smallDeepParams(e.name) }).fit(data));
  out.push(factorModel(30, 50, 8, 11));
  const withFoldIn = factorModel(30, 50, 8, 12);
  out.push(
    FactorModel.fromFactors({
      users: withFoldIn.trainData.users,
      items: withFoldIn.trainData.items,
      factors: 8,
      userFactors: withFoldIn.userFactors!,
      itemFactors: withFoldIn.itemFactors!,
      foldIn: { implicit: true, alpha: 2, reg: 0.05, scaleReg: false },
    }),
  );
  return out;
}

/** A FactorModel over random vectors; numeric item ids, string user ids. */
export function factorModel(nU: number, nI: number, f: number, seed: number): FactorModel {
  const rnd = mulberry32(seed);
  return FactorModel.fromFactors({
    users: Array.from({ length: nU }, (_, u) => `user-${u}`),
    items: Array.from({ length: nI }, (_, i) => 1000 + i),
    factors: f,
    userFactors: randomMatrix(nU, f, rnd),
    itemFactors: randomMatrix(nI, f, rnd),
    itemBias: randomMatrix(1, nI, rnd),
    globalBias: 0.25,
  });
}

/** Splits a model file into its 8-byte length, parsed header and data bytes. */
export function parseFile(bytes: Uint8Array): { header: Record<string, any>; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  return { header, data: bytes.subarray(8 + n) };
}

/** Serializes a header (keeping the checksum first, as the writer does) and data, with a correct checksum. */
export function buildFile(header: Record<string, any>, data: Uint8Array, options: { checksum?: boolean } = {}): Uint8Array {
  const { __metadata__: md, ...tensors } = header;
  const rest = Object.fromEntries(Object.entries(md as Record<string, string>).filter(([k]) => k !== 'checksum'));
  const ordered = { __metadata__: { checksum: 'xxh64:' + '0'.repeat(16), ...rest }, ...tensors };
  let text = JSON.stringify(ordered);
  text += ' '.repeat((8 - ((8 + Buffer.byteLength(text)) % 8)) % 8);
  const body = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + body.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(body.length), true);
  out.set(body, 8);
  out.set(data, 8 + body.length);
  if (options.checksum !== false) out.set(new TextEncoder().encode(addon.xxh64([out])), CHECKSUM_AT);
  return out;
}

/** Rewrites a model file: edit the header / metadata (and data), then a fresh checksum. */
export function rewrite(src: string, dst: string, edit: (header: Record<string, any>, meta: Record<string, any>, data: Uint8Array) => Uint8Array | void): void {
  const { header, data } = parseFile(readFileSync(src));
  const meta = JSON.parse(header.__metadata__.recsys);
  const copy = new Uint8Array(data);
  const newData = edit(header, meta, copy) ?? copy;
  header.__metadata__.recsys = JSON.stringify(meta);
  writeFileSync(dst, buildFile(header, newData));
}

/** Writes `src` without tensor `name` (its entry and its bytes; later tensors move up), as an older writer would have. */
export function stripTensor(src: string, dst: string, name: string): void {
  rewrite(src, dst, (header, _meta, data) => {
    const t = header[name];
    if (!t) throw new Error(`${src} has no tensor ${name}`);
    const [b, e] = t.data_offsets as [number, number];
    delete header[name];
    for (const [k, v] of Object.entries(header)) {
      if (k === '__metadata__') continue;
      const off = (v as { data_offsets: [number, number] }).data_offsets;
      if (off[0] >= e) (v as { data_offsets: [number, number] }).data_offsets = [off[0] - (e - b), off[1] - (e - b)];
    }
    const out = new Uint8Array(data.length - (e - b));
    out.set(data.subarray(0, b), 0);
    out.set(data.subarray(e), b);
    return out;
  });
}
