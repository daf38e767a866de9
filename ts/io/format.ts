// Model files. A model file is a valid safetensors file (so numpy / PyTorch read the factors with
// `safetensors.numpy.load_file`):
//
//   bytes 0..8     N, the header length, unsigned 64-bit little-endian
//   bytes 8..8+N   the header: JSON, padded with spaces so that the data starts at a multiple of 8. It begins with
//                  the fixed text {"__metadata__":{"checksum":"xxh64:<16 hex>","format":"recsys-model","format_version":"2",
//                  (our magic and version), then "recsys": <our metadata as a JSON string>, then one entry per
//                  tensor: {"dtype": "F32" | "I32", "shape": [...], "data_offsets": [begin, end]}
//   bytes 8+N..    the tensors' little-endian bytes, contiguous, in header order
//
// The checksum is XXH64 (seed 0) of the whole file with its 16 hex digits read as '0'. Tensors: the model's
// state under its own names (user_factors, item_factors, ...), then ids.users / ids.items (int32 external ids,
// when every id is an int32 number; otherwise the ids are JSON in the metadata) and train.indptr /
// train.indices (the training interactions, for leaving seen items out), with train.data (F32, one value per
// interaction) when the training data has values (ratings, weights: a live service's fold-in of a known user
// starts from them; files written before it load as binary data). The metadata holds the model class,
// its parameters, the library version, the time of writing, a fingerprint of the training data and the native
// kind and dimensions.
//
// Version 2 stores the model's options only by name, in the metadata's params (every option resolved, defaults
// included; ts/models/params.ts owns them): loadModel checks them with the class's spec and hands them to the
// restorer. Version 1 also kept some options as positional state tensors (options, nmf_options, sgd_options,
// knn_options ...); ts/io/v1.ts maps those to named options once, so version-1 files still load.
import { closeSync, fsyncSync, fstatSync, lstatSync, openSync, readdirSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { endianness } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { RecsysError, argError } from '../errors.js';
import type { Dataset } from '../data/dataset.js';
import type { Id, IdMap } from '../data/idmap.js';
import { packageVersion } from '../info.js';
import { addon, type NativeTensor } from '../native.js';

/**
 * What a model file stores of a fitted model besides its id maps and training interactions: the native kind, the
 * native model's dimensions and its named tensors (factors, biases, neighbour lists ...).
 */
export interface ModelState {
  kind: string;
  users: number;
  items: number;
  tensors: Record<string, NativeTensor>;
}

/** What saveModel needs of a model (a Recommender; named here so that this file does not import the models). */
export interface SavableModel {
  readonly name: string;
  readonly params: object;
  readonly trainData: Dataset;
  exportState(): ModelState;
}

export const MODEL_FORMAT = 'recsys-model';
/** The model file format this version writes and the newest it reads. */
export const MODEL_FORMAT_VERSION = 2;
/** The oldest format version this version reads. */
export const MODEL_FORMAT_OLDEST = 1;

const PREFIX = '{"__metadata__":{"checksum":"xxh64:';
const AFTER_CHECKSUM = `","format":"${MODEL_FORMAT}","format_version":"`;
/** Offset of the checksum's 16 hex digits in the file. */
const CHECKSUM_AT = 8 + PREFIX.length;
/** Headers larger than this are refused (the safetensors reference reader's limit). */
const MAX_HEADER = 100 * 1024 * 1024;
const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Where a model file keeps one side's external ids. */
export type IdsEntry = { tensor: string } | { values: Id[] };

/** The metadata of a model file (`__metadata__.recsys`). */
export interface ModelFileMeta {
  /** The TS class (`model.name`); loadModel finds it by this name. */
  class: string;
  /** The native model kind and dimensions that restore the state. */
  kind: string;
  users: number;
  items: number;
  params: Record<string, unknown>;
  /** recsys version that wrote the file. */
  library: string;
  /** ISO 8601 time of writing. */
  created: string;
  /** The training data: counts and an XXH64 fingerprint of its interactions and id maps. */
  data: { fingerprint: string; users: number; items: number; interactions: number };
  ids: { users: IdsEntry; items: IdsEntry };
  /** Names of the tensors that make the model's state. */
  state: string[];
}

export interface TensorEntry {
  name: string;
  dtype: 'F32' | 'I32';
  shape: number[];
  begin: number;
  end: number;
}

/** What the header of a model file says. */
export interface ModelFileHeader {
  path: string;
  /** File size in bytes. */
  size: number;
  formatVersion: number;
  /** "xxh64:" and 16 hex digits. */
  checksum: string;
  meta: ModelFileMeta;
  tensors: TensorEntry[];
  /** The header bytes as read (bytes 0 .. dataStart). */
  headerBytes: Uint8Array;
  dataLength: number;
}

/** Set by ts/io/load.ts: whether loadModel knows a class (saving a model it could not load back is refused). @internal */
export const loadHooks: { isLoadable?: (className: string) => boolean } = {};

/** The file operations a save uses (tests swap in failing ones). */
export interface SaveIo {
  openSync: typeof openSync;
  writeSync: (fd: number, buffer: Uint8Array, offset: number, length: number) => number;
  fsyncSync: typeof fsyncSync;
  closeSync: typeof closeSync;
  renameSync: typeof renameSync;
  unlinkSync: typeof unlinkSync;
}

const realIo: SaveIo = { openSync, writeSync: (fd, b, o, l) => writeSync(fd, b, o, l), fsyncSync, closeSync, renameSync, unlinkSync };

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function idsEntry(map: IdMap, side: 'users' | 'items', tensors: [string, NativeTensor][]): IdsEntry {
  const ids = map.ids;
  let int32 = true;
  for (let i = 0; i < ids.length && int32; i++) {
    const v = ids[i];
    int32 = typeof v === 'number' && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 && !Object.is(v, -0);
  }
  if (!int32) return { values: [...ids] };
  const name = `ids.${side}`;
  tensors.push([name, { shape: [ids.length], data: Int32Array.from(ids as number[]) }]);
  return { tensor: name };
}

// Datasets read back from a model file keep the fingerprint of the data the model was trained on: files written
// before train.data do not store the values, so rehashing the loaded copy would give another value (with
// train.data it gives the same one; the stored fingerprint is kept either way and saves the pass).
const loadedFingerprints = new WeakMap<Dataset, string>();
/** @internal */
export function rememberFingerprint(train: Dataset, fingerprint: string): void {
  loadedFingerprints.set(train, fingerprint);
}

/** XXH64 fingerprint of a dataset's interactions and id maps. */
export function dataFingerprint(train: Dataset): string {
  const known = loadedFingerprints.get(train);
  if (known) return known;
  const enc = new TextEncoder();
  const chunks: ArrayBufferView[] = [train.csr.indptr, train.csr.indices];
  if (train.csr.data) chunks.push(train.csr.data);
  chunks.push(enc.encode(JSON.stringify(train.users.ids)), enc.encode(JSON.stringify(train.items.ids)));
  return `xxh64:${addon.xxh64(chunks)}`;
}

/** The bytes of a model file: header, then the tensors' bytes in order (views, not copies). */
function encode(model: SavableModel): { head: Uint8Array; chunks: Uint8Array[]; headerText: string } {
  if (endianness() !== 'LE') throw new RecsysError('E_UNSUPPORTED', 'model files are little-endian; this machine is big-endian');
  if (loadHooks.isLoadable && !loadHooks.isLoadable(model.name)) {
    throw new RecsysError('E_UNSUPPORTED', `${model.name} cannot be saved: loadModel would not know the class (see registerModelClass)`);
  }
  const state: ModelState = model.exportState();
  const train = model.trainData;
  const tensors: [string, NativeTensor][] = [];
  const names = Object.keys(state.tensors).sort();
  for (const n of names) {
    if (!NAME.test(n)) throw new RecsysError('E_STATE', `${model.name}: state tensor name '${n}' is not [A-Za-z][A-Za-z0-9_]*`);
    tensors.push([n, state.tensors[n]!]);
  }
  const ids = { users: idsEntry(train.users, 'users', tensors), items: idsEntry(train.items, 'items', tensors) };
  tensors.push(['train.indptr', { shape: [train.csr.indptr.length], data: train.csr.indptr }]);
  tensors.push(['train.indices', { shape: [train.nnz], data: train.csr.indices.subarray(0, train.nnz) }]);
  if (train.csr.data) tensors.push(['train.data', { shape: [train.nnz], data: train.csr.data.subarray(0, train.nnz) }]);

  const meta: ModelFileMeta = {
    class: model.name,
    kind: state.kind,
    users: state.users,
    items: state.items,
    params: { ...model.params },
    library: packageVersion(),
    created: new Date().toISOString(),
    data: { fingerprint: dataFingerprint(train), users: train.nUsers, items: train.nItems, interactions: train.nnz },
    ids,
    state: names,
  };
  const header: Record<string, unknown> = {
    __metadata__: { checksum: `xxh64:${'0'.repeat(16)}`, format: MODEL_FORMAT, format_version: String(MODEL_FORMAT_VERSION), recsys: JSON.stringify(meta) },
  };
  let at = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, t] of tensors) {
    const dtype = t.data instanceof Float32Array ? 'F32' : t.data instanceof Int32Array ? 'I32' : undefined;
    if (!dtype) throw new RecsysError('E_STATE', `${model.name}: state tensor '${name}' is neither a Float32Array nor an Int32Array`);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) throw new RecsysError('E_STATE', `${model.name}: state tensor '${name}' has ${t.data.length} values for shape [${t.shape}]`);
    // The loader refuses non-finite values; a file that saves must load, so refuse them here (a diverged fit).
    if (dtype === 'F32') {
      const d = t.data;
      for (let p = 0; p < d.length; p++) {
        if (!Number.isFinite(d[p]!))
          throw new RecsysError('E_STATE', `${model.name} cannot be saved: state tensor '${name}' holds a non-finite value at ${p} (the fit diverged)`);
      }
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [at, at + t.data.byteLength] };
    at += t.data.byteLength;
    chunks.push(bytesOf(t.data));
  }
  let text = JSON.stringify(header);
  if (!text.startsWith(PREFIX)) throw new RecsysError('E_STATE', 'model file header does not start with its magic');
  const enc = new TextEncoder();
  let body = enc.encode(text);
  const pad = (8 - ((8 + body.length) % 8)) % 8;
  if (pad) {
    text += ' '.repeat(pad);
    body = enc.encode(text);
  }
  const head = new Uint8Array(8 + body.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(body.length), true);
  head.set(body, 8);
  const hex = addon.xxh64([head, ...chunks]);
  head.set(enc.encode(hex), CHECKSUM_AT);
  return { head, chunks, headerText: text };
}

function writeAll(io: SaveIo, fd: number, bytes: Uint8Array): void {
  // Large buffers go in slices: one write() may write less than asked, and 2 GiB is a per-call limit on some systems.
  const slice = 1 << 30;
  let off = 0;
  while (off < bytes.length) {
    const n = io.writeSync(fd, bytes, off, Math.min(slice, bytes.length - off));
    if (n <= 0) throw new Error('write returned 0 bytes');
    off += n;
  }
}

/** The temporary file saveModel writes before its rename: `.<target name>.<pid>.<8 hex>.tmp`. */
export const TEMP_NAME = /^\.(.+)\.([1-9][0-9]{0,9})\.[0-9a-f]{8}\.tmp$/;
/** A temporary file of ours untouched for this long is stale even when its writer's pid is alive (pids are reused). */
export const STALE_TEMP_MS = 60 * 60 * 1000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Removes the temporary files an earlier save left in `dir` when its process was killed mid-write (kill -9,
 * power loss): only regular files named exactly as saveModel names them, and only stale ones, i.e. whose writer
 * process is gone (no process has that pid; never our own pid, which a worker thread of this process may be
 * writing under) or that nobody has modified for STALE_TEMP_MS. Best effort: errors are ignored.
 */
export function removeStaleTempFiles(dir: string, now = Date.now()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    try {
      const st = lstatSync(path);
      if (!st.isFile()) continue;
      const pid = Number(m[2]);
      const writerGone = pid !== process.pid && !pidAlive(pid);
      if (writerGone || now - st.mtimeMs > STALE_TEMP_MS) {
        unlinkSync(path);
        removed.push(path);
      }
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

/**
 * Writes a fitted model to `path` atomically: a temporary file in the same directory, fsync, rename over the
 * target, fsync of the directory. On any failure the temporary file is removed and the old file is untouched.
 * Stale temporary files of earlier saves killed mid-write are removed first (removeStaleTempFiles).
 */
export function saveModel(model: SavableModel, path: string, io: SaveIo = realIo): void {
  if (typeof path !== 'string' || path.length === 0) throw argError('save expects a file path');
  const { head, chunks } = encode(model);
  const target = resolve(path);
  const dir = dirname(target);
  removeStaleTempFiles(dir);
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = io.openSync(tmp, 'wx', 0o644);
    writeAll(io, fd, head);
    for (const c of chunks) writeAll(io, fd, c);
    io.fsyncSync(fd);
    io.closeSync(fd);
    fd = undefined;
    io.renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) {
      try {
        io.closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    try {
      io.unlinkSync(tmp);
    } catch {
      // the temporary file may not exist
    }
    const e = err as NodeJS.ErrnoException;
    throw new RecsysError('E_IO', `cannot save the model to ${path}: ${e?.message ?? String(err)}`, { cause: err });
  }
  // The rename is durable once the directory is flushed.
  syncDir(dir);
}

/**
 * Flushes a directory, so that renames, creations and deletions in it survive a crash. Not every platform can open
 * a directory for that (Windows and some filesystems refuse): there it does nothing.
 */
export function syncDir(dir: string): void {
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // refused: the files themselves were flushed before
  }
}

function formatError(path: string, why: string, cause?: unknown): RecsysError {
  return new RecsysError('E_FORMAT', `${path}: ${why}`, cause === undefined ? undefined : { cause });
}

function isInt(v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Reads and checks a model file's header (not its tensors). Throws E_IO or E_FORMAT. */
export function readModelHeader(path: string): ModelFileHeader {
  if (typeof path !== 'string' || path.length === 0) throw argError('expected a model file path');
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new RecsysError('E_IO', `cannot open model file ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const size = fstatSync(fd).size;
    const readAt = (n: number, pos: number): Uint8Array => {
      const b = new Uint8Array(n);
      let got = 0;
      while (got < n) {
        const r = readSync(fd, b, got, n - got, pos + got);
        if (r <= 0) break;
        got += r;
      }
      if (got !== n) throw formatError(path, 'the file is truncated (or changed while it was read)');
      return b;
    };
    if (size < 8 + PREFIX.length) throw formatError(path, `not a recsys model file (only ${size} bytes)`);
    const lenBytes = readAt(8, 0);
    const n64 = new DataView(lenBytes.buffer).getBigUint64(0, true);
    const start = readAt(Math.min(PREFIX.length, size - 8), 8);
    const startText = new TextDecoder().decode(start);
    if (startText !== PREFIX) {
      const safetensorsLike = n64 <= BigInt(size - 8) && start[0] === 0x7b; // '{'
      throw formatError(path, safetensorsLike ? 'a safetensors file, but not a recsys model file (no recsys metadata)' : 'not a recsys model file');
    }
    if (n64 > BigInt(MAX_HEADER)) throw formatError(path, `header length ${n64} is over the ${MAX_HEADER}-byte limit`);
    const n = Number(n64);
    if (8 + n > size) throw formatError(path, `the file is truncated: its header needs ${8 + n} bytes, the file has ${size}`);
    const headerBytes = new Uint8Array(8 + n);
    headerBytes.set(lenBytes, 0);
    headerBytes.set(readAt(n, 8), 8);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes.subarray(8));
    } catch (err) {
      throw formatError(path, 'the header is not UTF-8 text', err);
    }
    const hexAt = text.slice(PREFIX.length, PREFIX.length + 16);
    const after = text.slice(PREFIX.length + 16, PREFIX.length + 16 + AFTER_CHECKSUM.length);
    if (!/^[0-9a-f]{16}$/.test(hexAt) || after !== AFTER_CHECKSUM) throw formatError(path, 'the header does not start as a recsys model file header does');
    let header: unknown;
    try {
      header = JSON.parse(text);
    } catch (err) {
      throw formatError(path, `the header is not valid JSON (${(err as Error).message})`, err);
    }
    if (!isPlainObject(header) || !isPlainObject(header.__metadata__)) throw formatError(path, 'the header has no __metadata__ object');
    const md = header.__metadata__;
    for (const [k, v] of Object.entries(md)) if (typeof v !== 'string') throw formatError(path, `__metadata__.${k} is not a string`);
    if (md.format !== MODEL_FORMAT) throw formatError(path, 'not a recsys model file');
    const version = Number(md.format_version);
    if (!/^[0-9]{1,6}$/.test(String(md.format_version)) || version < MODEL_FORMAT_OLDEST)
      throw formatError(path, `unknown model format version ${JSON.stringify(md.format_version)}`);
    if (version > MODEL_FORMAT_VERSION) {
      throw formatError(
        path,
        `written by a newer recsys (model format version ${version}; this version reads up to ${MODEL_FORMAT_VERSION}): upgrade recsys to load it`,
      );
    }
    if (md.checksum !== `xxh64:${hexAt}`) throw formatError(path, 'the header has an inconsistent checksum entry');

    // Tensors: known dtypes, integer shapes, offsets that tile the data section exactly.
    const dataLength = size - 8 - n;
    const tensors: TensorEntry[] = [];
    for (const [name, v] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      if (!isPlainObject(v)) throw formatError(path, `tensor '${name}' is not an object`);
      const { dtype, shape, data_offsets: off } = v;
      if (dtype !== 'F32' && dtype !== 'I32') throw formatError(path, `tensor '${name}' has dtype ${JSON.stringify(dtype)} (recsys writes F32 and I32)`);
      if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => isInt(d, 0, 2 ** 31 - 1)))
        throw formatError(path, `tensor '${name}' has a bad shape`);
      if (!Array.isArray(off) || off.length !== 2 || !isInt(off[0]) || !isInt(off[1]) || off[1] < off[0])
        throw formatError(path, `tensor '${name}' has bad data_offsets`);
      const numel = shape.reduce((a, b) => a * b, 1);
      if (off[1] - off[0] !== numel * 4) throw formatError(path, `tensor '${name}' has ${off[1] - off[0]} bytes for shape [${shape}]`);
      tensors.push({ name, dtype, shape: shape, begin: off[0], end: off[1] });
    }
    tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
    let at = 0;
    for (const t of tensors) {
      if (t.begin !== at) throw formatError(path, `tensor '${t.name}' does not start where the previous one ends`);
      at = t.end;
    }
    if (at > dataLength) throw formatError(path, `the file is truncated: its tensors need ${at} bytes of data, the file has ${dataLength}`);
    if (at < dataLength) throw formatError(path, `the file has ${dataLength - at} bytes after its last tensor`);
    const meta = checkMeta(path, md.recsys, tensors);
    return { path, size, formatVersion: version, checksum: md.checksum, meta, tensors, headerBytes, dataLength };
  } catch (err) {
    if (err instanceof RecsysError) throw err;
    throw new RecsysError('E_IO', `cannot read model file ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    closeSync(fd);
  }
}

function checkMeta(path: string, raw: unknown, tensors: TensorEntry[]): ModelFileMeta {
  if (typeof raw !== 'string') throw formatError(path, 'the header has no recsys metadata');
  let m: unknown;
  try {
    m = JSON.parse(raw);
  } catch (err) {
    throw formatError(path, `the recsys metadata is not valid JSON (${(err as Error).message})`, err);
  }
  const bad = (what: string) => formatError(path, `the recsys metadata has ${what}`);
  if (!isPlainObject(m)) throw bad('no object');
  if (typeof m.class !== 'string' || !m.class) throw bad('no model class');
  if (typeof m.kind !== 'string' || !m.kind) throw bad('no model kind');
  if (!isInt(m.users, 0, 2 ** 31 - 2) || !isInt(m.items, 0, 2 ** 31 - 2)) throw bad('bad model dimensions');
  if (!isPlainObject(m.params)) throw bad('no params object');
  if (typeof m.library !== 'string' || typeof m.created !== 'string') throw bad('no library version or creation time');
  const d = m.data;
  if (!isPlainObject(d) || typeof d.fingerprint !== 'string' || !isInt(d.users) || !isInt(d.items) || !isInt(d.interactions))
    throw bad('a bad training-data entry');
  // The model's dimensions are at most the id maps', whose sizes the id tensors or lists actually present
  // confirm below: a restorer never sizes anything from a count the file does not back with data.
  if (m.users > d.users || m.items > d.items) {
    throw bad(`model dimensions (${m.users} users, ${m.items} items) larger than its id maps (${d.users}, ${d.items})`);
  }
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const ids = m.ids;
  if (!isPlainObject(ids)) throw bad('no id maps');
  for (const side of ['users', 'items'] as const) {
    const e = ids[side];
    const count = d[side] as number;
    if (isPlainObject(e) && typeof e.tensor === 'string') {
      const t = byName.get(e.tensor);
      if (!t || t.dtype !== 'I32' || t.shape.length !== 1 || t.shape[0] !== count) throw bad(`a bad ${side} id tensor`);
    } else if (isPlainObject(e) && Array.isArray(e.values)) {
      if (e.values.length !== count || !e.values.every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))))
        throw bad(`bad ${side} ids`);
    } else {
      throw bad(`no ${side} ids`);
    }
  }
  const ip = byName.get('train.indptr');
  const ix = byName.get('train.indices');
  if (!ip || ip.dtype !== 'I32' || ip.shape.length !== 1 || ip.shape[0] !== d.users + 1) throw bad('no valid train.indptr tensor');
  if (!ix || ix.dtype !== 'I32' || ix.shape.length !== 1 || ix.shape[0] !== d.interactions) throw bad('no valid train.indices tensor');
  // Optional (files written before it have none): the values of train.indices' interactions.
  const tv = byName.get('train.data');
  if (tv && (tv.dtype !== 'F32' || tv.shape.length !== 1 || tv.shape[0] !== d.interactions))
    throw formatError(path, `tensor 'train.data' must be F32 of shape [${d.interactions}] (one value per interaction), got ${tv.dtype} [${tv.shape}]`);
  if (!Array.isArray(m.state) || !m.state.every((s) => typeof s === 'string' && NAME.test(s) && byName.has(s))) throw bad('a bad state tensor list');
  if (new Set(m.state).size !== m.state.length) throw bad('a repeated state tensor');
  return m as unknown as ModelFileMeta;
}

export { CHECKSUM_AT };
