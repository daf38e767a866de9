// loadModel: a model file back into an instance of the class that saved it (ts/io/format.ts has the layout).
import { RecsysError } from '../errors.js';
import { Dataset } from '../data/dataset.js';
import { IdMap } from '../data/idmap.js';
import { addon, type NativeTensor } from '../native.js';
import { Recommender } from '../models/base.js';
import { FactorModel } from '../models/factors.js';
import { models } from '../models/registry.js';
import { readModelHeader, loadHooks, rememberFingerprint, CHECKSUM_AT, type IdsEntry, type ModelFileHeader, type ModelFileMeta } from './format.js';
import { v1Params } from './v1.js';

type Create = (params: Record<string, unknown>) => Recommender;

// Classes a file can name beyond the registry's fittable families.
const extraClasses = new Map<string, Create>([['FactorModel', (p) => new FactorModel(p)]]);

/**
 * Lets loadModel build a class that is not in the model registry (models defined outside recsys).
 * The class's native kind needs a registered restorer, or the class overrides exportState / importState.
 */
export function registerModelClass(name: string, create: Create): void {
  extraClasses.set(name, create);
}

function classFor(name: string): Create | undefined {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- registry factories do not use `this`
  return models.find((m) => m.name === name)?.create ?? extraClasses.get(name);
}

/** Whether loadModel can rebuild models of this class (save checks this before writing). */
export function isLoadableClass(name: string): boolean {
  return classFor(name) !== undefined;
}
loadHooks.isLoadable = isLoadableClass;

export interface LoadOptions {
  /** Check the file's XXH64 checksum (one fast pass over the bytes already being read). Default true. */
  verify?: boolean;
}

/** A loaded model with what its file said. */
export interface ModelFileInfo {
  path: string;
  size: number;
  checksum: string;
  formatVersion: number;
  meta: ModelFileMeta;
}

function fail(path: string, why: string, cause?: unknown): RecsysError {
  return new RecsysError('E_FORMAT', `${path}: ${why}`, cause === undefined ? undefined : { cause });
}

function idMap(path: string, side: string, e: IdsEntry, tensors: Record<string, NativeTensor>): IdMap {
  if ('tensor' in e) {
    const t = tensors[e.tensor];
    if (!t || !(t.data instanceof Int32Array)) throw fail(path, `the ${side} id tensor is missing`);
    // Integer ids: a sorted copy finds repeats cheaply; the id -> index map is built on first lookup (IdMap).
    const sorted = t.data.slice().sort();
    for (let p = 1; p < sorted.length; p++) if (sorted[p] === sorted[p - 1]) throw fail(path, `the ${side} ids repeat the id ${sorted[p]}`);
    return new IdMap(Array.from(t.data));
  }
  const built = IdMap.build(e.values, side);
  if (built.map.size !== e.values.length) throw fail(path, `the ${side} ids repeat an id`);
  return built.map;
}

// The seen-item lists must be sorted and unique per user: the native top-K relies on it.
function checkTrainCsr(path: string, indptr: Int32Array, indices: Int32Array, cols: number): void {
  if (indptr[0] !== 0 || indptr[indptr.length - 1] !== indices.length) throw fail(path, 'train.indptr does not span train.indices');
  // Every row's range before any row's items: from 0, non-decreasing, to indices.length keeps each entry within
  // train.indices. Checked row by row with the items, an entry of 2^31 - 2 sent the loop below 2^31 positions past
  // the end (undefined passes both comparisons): a hang (fuzz, modelfile case 6980).
  for (let r = 0; r + 1 < indptr.length; r++) if (indptr[r + 1]! < indptr[r]!) throw fail(path, 'train.indptr is not non-decreasing');
  for (let r = 0; r + 1 < indptr.length; r++) {
    const a = indptr[r]!,
      b = indptr[r + 1]!;
    let prev = -1;
    for (let p = a; p < b; p++) {
      const c = indices[p]!;
      if (c <= prev || c >= cols) throw fail(path, `train.indices of user ${r} are not sorted, unique item indices below ${cols}`);
      prev = c;
    }
  }
}

// train.data, when the file has it (readModelHeader checked its dtype and shape against the metadata): one finite
// value per interaction. Files written before it have none, and load as binary data as they always did.
function trainValues(path: string, t: NativeTensor | undefined, interactions: number): Float32Array | undefined {
  if (t === undefined) return undefined;
  const v = t.data;
  if (!(v instanceof Float32Array) || v.length !== interactions)
    throw fail(path, `tensor 'train.data' must hold ${interactions} F32 values (one per interaction)`);
  for (let p = 0; p < v.length; p++) if (!Number.isFinite(v[p]!)) throw fail(path, `tensor 'train.data' holds a non-finite value at ${p}`);
  return v;
}

// Native errors name the file when they can; make sure every E_FORMAT does.
function withPath<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    const e = err as RecsysError;
    if (e.code === 'E_FORMAT' && !e.message.startsWith(path)) throw fail(path, e.message, err);
    throw err;
  }
}

/** Reads a model file's header and metadata only (cheap: no tensors). */
export function readModelInfo(path: string): ModelFileInfo {
  const h = readModelHeader(path);
  return { path: h.path, size: h.size, checksum: h.checksum, formatVersion: h.formatVersion, meta: h.meta };
}

/**
 * Loads a model saved with `model.save(path)`: an instance of the class that saved it, fitted, with its id maps
 * and training interactions (for leaving seen items out), giving the same recommendations. A corrupt, truncated,
 * foreign or newer-format file throws RecsysError E_FORMAT (E_IO when it cannot be read).
 */
export function loadModel<M extends Recommender = Recommender>(path: string, options: LoadOptions = {}): M {
  return loadModelWithInfo<M>(path, options).model;
}

/** loadModel that also returns what the file said (the server reports it). */
export function loadModelWithInfo<M extends Recommender = Recommender>(path: string, options: LoadOptions = {}): { model: M; info: ModelFileInfo } {
  const p = prepare(path, options);
  return finish<M>(
    path,
    p,
    withPath(path, () => addon.readModelFile(path, p.spec)),
  );
}

/**
 * loadModel with the file read, checked and restored on a worker thread (the event loop keeps running; a server
 * reloads its model this way).
 */
export async function loadModelAsync<M extends Recommender = Recommender>(path: string, options: LoadOptions = {}): Promise<M> {
  return (await loadModelWithInfoAsync<M>(path, options)).model;
}

export async function loadModelWithInfoAsync<M extends Recommender = Recommender>(
  path: string,
  options: LoadOptions = {},
): Promise<{ model: M; info: ModelFileInfo }> {
  const p = prepare(path, options);
  let r: NativeRead;
  try {
    r = await withPath(path, () => addon.readModelFileAsync(path, p.spec));
  } catch (err) {
    const e = err as RecsysError;
    if (e.code === 'E_FORMAT' && !e.message.startsWith(path)) throw fail(path, e.message, err);
    throw err;
  }
  return finish<M>(path, p, r);
}

type NativeRead = ReturnType<typeof addon.readModelFile>;
type ReadSpec = Parameters<typeof addon.readModelFile>[1];

// The model instance from the file's class and params: the params are checked by the class's own spec (the
// same ranges and rules as its constructor) before anything is read or restored.
function instantiate(path: string, meta: ModelFileMeta, create: Create, params: Record<string, unknown>): Recommender {
  let model: Recommender;
  try {
    model = create(params);
  } catch (err) {
    // A missing optional package (TensorFlow.js for a deep model) is not the file's fault.
    if (err instanceof RecsysError && err.code === 'E_DEPENDENCY') throw err;
    throw fail(path, `its ${meta.class} parameters are not valid here (${(err as Error).message})`, err);
  }
  if (model.name !== meta.class) throw fail(path, `class '${meta.class}' built a '${model.name}'`);
  if (model.stateKind !== meta.kind)
    throw fail(path, `its class ${meta.class} keeps state of kind '${model.stateKind}', but the file holds kind '${meta.kind}'`);
  return model;
}

interface Prepared {
  h: ModelFileHeader;
  create: Create;
  model: Recommender;
  /** The native reader restores the model itself (format 2, a native kind). */
  nativeRestore: boolean;
  nativeKind: boolean;
  spec: ReadSpec;
}

// The header, the class, the checked params and what the native reader must do.
function prepare(path: string, options: LoadOptions): Prepared {
  if (options === null || typeof options !== 'object') throw new RecsysError('E_ARG', 'load options must be an object');
  const h = readModelHeader(path);
  const { meta } = h;
  const create = classFor(meta.class);
  if (!create) throw fail(path, `model class '${meta.class}' is not known to this build of recsys`);
  const model = instantiate(path, meta, create, { ...meta.params });
  const nativeKind = addon.restorableKinds().includes(meta.kind);
  // Version 1 kept some options in state tensors: those come back to TS first (finish maps them to params).
  const nativeRestore = nativeKind && h.formatVersion >= 2;
  const spec: ReadSpec = {
    header: h.headerBytes,
    checksumAt: CHECKSUM_AT,
    dataLength: h.dataLength,
    tensors: h.tensors,
    expected: options.verify === false ? undefined : h.checksum.slice('xxh64:'.length),
    restore: nativeRestore ? { kind: meta.kind, users: meta.users, items: meta.items, names: meta.state, params: model.params } : undefined,
  };
  return { h, create, model, nativeRestore, nativeKind, spec };
}

// Id maps, training interactions and the model instance around what the native reader returned.
function finish<M extends Recommender>(
  path: string,
  { h, create, model: built, nativeRestore, nativeKind }: Prepared,
  r: NativeRead,
): { model: M; info: ModelFileInfo } {
  const { meta } = h;
  const users = idMap(path, 'users', meta.ids.users, r.tensors);
  const items = idMap(path, 'items', meta.ids.items, r.tensors);
  const indptr = r.tensors['train.indptr']?.data;
  const indices = r.tensors['train.indices']?.data;
  if (!(indptr instanceof Int32Array) || !(indices instanceof Int32Array)) throw fail(path, 'the training interactions are missing');
  checkTrainCsr(path, indptr, indices, items.size);
  const values = trainValues(path, r.tensors['train.data'], indices.length);
  if (meta.users > users.size || meta.items > items.size) throw fail(path, 'the model is larger than its id maps');
  const train = new Dataset(users, items, { rows: users.size, cols: items.size, indptr, indices, ...(values && { data: values }) });
  rememberFingerprint(train, meta.data.fingerprint);
  let model = built;
  let optionTensors = new Set<string>();
  if (nativeKind && h.formatVersion < 2) {
    let v1: ReturnType<typeof v1Params>;
    try {
      v1 = v1Params(meta.class, { ...meta.params }, r.tensors);
    } catch (err) {
      throw fail(path, (err as Error).message, err);
    }
    model = instantiate(path, meta, create, v1.params);
    optionTensors = v1.optionTensors;
  }
  if (nativeRestore) {
    Recommender.attachState(model, r.model!, train);
  } else {
    const tensors: Record<string, NativeTensor> = {};
    for (const n of meta.state) if (!optionTensors.has(n)) tensors[n] = r.tensors[n]!;
    try {
      withPath(path, () => Recommender.attachState(model, { kind: meta.kind, users: meta.users, items: meta.items, tensors }, train));
    } catch (err) {
      if (err instanceof RecsysError && err.code === 'E_FORMAT') throw err;
      throw fail(path, `its ${meta.kind} state could not be restored (${(err as Error).message})`, err);
    }
  }
  return { model: model as M, info: { path: h.path, size: h.size, checksum: `xxh64:${r.checksum}`, formatVersion: h.formatVersion, meta } };
}
