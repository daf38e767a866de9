import { RecsysError, argError, native, show } from '../errors.js';
import { addon, type CsrMatrix } from '../native.js';
import { IdMap, unknownIdError, type Id } from './idmap.js';
import { matchItemInfo, readItemInfoFile, type ItemInfoFormat } from './iteminfo.js';
import { parseFile, type FromFileOptions } from './parse.js';
import type { DuckDBCsvOptions, DuckDBReadOptions } from './bigdata.js';
import type { DatasetOptions, DatasetParts, ItemInfo } from './types.js';

export type { DatasetOptions, DuplicatePolicy, ItemInfo } from './types.js';

export interface FromArraysInput {
  users: ArrayLike<Id>;
  items: ArrayLike<Id>;
  /** Ratings or weights; absent = implicit feedback (all ones). Float32Array is used without a copy. */
  ratings?: ArrayLike<number>;
  /** Timestamps in seconds; Float64Array is used without a copy. */
  timestamps?: ArrayLike<number>;
}

export interface DatasetStats {
  users: number;
  items: number;
  interactions: number;
  density: number;
  /** Users and items with at least one interaction. */
  activeUsers: number;
  activeItems: number;
  minUserInteractions: number;
  maxUserInteractions: number;
  meanUserInteractions: number;
  /** rating value -> count, when the data has ratings. */
  ratingHistogram?: Record<string, number>;
  ratingMin?: number;
  ratingMax?: number;
  ratingMean?: number;
  timeMin?: number;
  timeMax?: number;
}

/** Marks a dataset built here from arrays no caller holds (native builders). Set in Dataset's static block. */
let sealDataset: (ds: Dataset) => Dataset;
let internals: (ds: Dataset) => { csr: CsrMatrix; csc: () => CsrMatrix; sealed: boolean };

// For the models' fitNative (not exported from the package): the matrices a fit hands to native code, read
// without unsealing the dataset, and whether it is sealed (see Dataset#sealed).
/** The dataset's CSR, for a fit. */
export function csrOf(ds: Dataset): CsrMatrix {
  return internals(ds).csr;
}
/** The dataset's CSC (built on first use), for a fit. */
export function cscOf(ds: Dataset): CsrMatrix {
  return internals(ds).csc();
}
/** Whether no code outside recsys can hold the dataset's matrices. */
export function isSealed(ds: Dataset): boolean {
  return internals(ds).sealed;
}

/**
 * Interactions of users with items: the id maps both ways and a CSR matrix (users x items) built natively
 * once, its typed arrays shared with TS without copies. The CSC (items x users) is built on first use.
 * Datasets are immutable; splits return new Datasets that share the id maps.
 */
export class Dataset {
  readonly users: IdMap;
  readonly items: IdMap;
  /** Item display data by dense item index (sparse: missing entries are undefined). */
  itemInfo?: (ItemInfo | undefined)[];
  /** How many duplicate pairs were merged when the dataset was built. */
  readonly duplicatesMerged: number;
  #csr: CsrMatrix;
  #csc?: CsrMatrix;
  /**
   * True while no code outside recsys can hold the CSR/CSC arrays: they were built natively for this dataset
   * and neither the csr/csc getters nor any other view of them has been handed out. A fit of a sealed dataset
   * skips the native full check of its matrices (and the copy an async fit makes), since nothing can have
   * changed them; every other dataset is checked in full (issue 12: the check costs 3-6% of the cheapest fit).
   */
  #sealed = false;

  static {
    sealDataset = (ds) => {
      ds.#sealed = true;
      return ds;
    };
    internals = (ds) => ({ csr: ds.#csr, csc: () => (ds.#csc ??= native(() => addon.transpose(ds.#csr))), sealed: ds.#sealed });
  }

  constructor(users: IdMap, items: IdMap, csr: CsrMatrix, duplicatesMerged = 0) {
    if (csr.rows !== users.size || csr.cols !== items.size) {
      throw new RecsysError('E_STATE', `CSR shape ${csr.rows}x${csr.cols} does not match id maps ${users.size}x${items.size}`);
    }
    this.users = users;
    this.items = items;
    this.#csr = csr;
    this.duplicatesMerged = duplicatesMerged;
  }

  /** Users x items. Once these arrays are handed out, every later fit checks them in full (they may have been written). */
  get csr(): CsrMatrix {
    this.#sealed = false;
    return this.#csr;
  }

  get nUsers(): number {
    return this.users.size;
  }
  get nItems(): number {
    return this.items.size;
  }
  get nnz(): number {
    return this.#csr.indptr[this.#csr.rows]!;
  }
  get hasRatings(): boolean {
    return this.#csr.data !== undefined;
  }
  get hasTimestamps(): boolean {
    return this.#csr.times !== undefined;
  }

  /** Items x users, built natively on first use and kept. */
  get csc(): CsrMatrix {
    this.#sealed = false;
    this.#csc ??= native(() => addon.transpose(this.#csr));
    return this.#csc;
  }

  /** Dense item indices of a user's interactions (a view, not a copy). */
  userItems(user: number): Int32Array {
    return this.csr.indices.subarray(this.csr.indptr[user]!, this.csr.indptr[user + 1]!);
  }
  /** Values of a user's interactions, aligned with userItems (undefined without ratings). */
  userValues(user: number): Float32Array | undefined {
    return this.csr.data?.subarray(this.csr.indptr[user]!, this.csr.indptr[user + 1]!);
  }
  /** Dense user indices who interacted with an item (a view into the CSC). */
  itemUsers(item: number): Int32Array {
    const c = this.csc;
    return c.indices.subarray(c.indptr[item]!, c.indptr[item + 1]!);
  }

  /** Dense index of a user id; throws E_UNKNOWN_USER. */
  userIndex(id: Id): number {
    const u = this.users.index(id);
    if (u < 0) throw unknownIdError(this.users, id, 'user');
    return u;
  }
  /** Dense index of an item id; throws E_UNKNOWN_ITEM. */
  itemIndex(id: Id): number {
    const i = this.items.index(id);
    if (i < 0) throw unknownIdError(this.items, id, 'item');
    return i;
  }

  /** A Dataset from a reader's result (parse.ts, bigdata.ts): the readers return plain parts, this builds. */
  private static fromParts(p: DatasetParts): Dataset {
    return sealDataset(new Dataset(p.users, p.items, p.csr, p.duplicates));
  }

  /** Title of a dense item index, or its id as text. */
  itemTitle(item: number): string {
    return this.itemInfo?.[item]?.title ?? String(this.items.id(item));
  }

  /** Interactions as coordinate arrays in CSR order (rows sorted, items sorted within a row). */
  toCoo(): { rows: Int32Array; cols: Int32Array; values?: Float32Array; times?: Float64Array } {
    const { indptr } = this.csr;
    const rows = new Int32Array(this.nnz);
    for (let u = 0; u < this.csr.rows; u++) rows.fill(u, indptr[u]!, indptr[u + 1]!);
    return { rows, cols: this.csr.indices, values: this.csr.data, times: this.csr.times };
  }

  /**
   * A dataset over the same id maps from dense coordinates (used by splits and parsers). Indices must lie in
   * the maps' ranges.
   */
  static fromCoo(
    users: IdMap,
    items: IdMap,
    rows: Int32Array,
    cols: Int32Array,
    values?: Float32Array,
    times?: Float64Array,
    options: DatasetOptions = {},
  ): Dataset {
    if (options === null || typeof options !== 'object') throw argError(`dataset options must be an object, got ${show(options)}`);
    const dup = options.duplicates ?? 'last';
    if (!['last', 'sum', 'max', 'error'].includes(dup)) throw argError(`duplicates must be 'last', 'sum', 'max' or 'error', got ${show(dup)}`);
    const built = native(() => addon.buildCsr(users.size, items.size, rows, cols, values, times, dup));
    const { duplicates, ...csr } = built;
    return sealDataset(new Dataset(users, items, csr, duplicates));
  }

  /**
   * A dataset from parallel arrays of external ids. Ids may be numbers or strings (any mix); ratings and
   * timestamps are optional. A Float32Array of ratings and a Float64Array of timestamps are used without copies.
   */
  static fromArrays(input: FromArraysInput, options: DatasetOptions = {}): Dataset {
    if (input === null || typeof input !== 'object') throw argError('fromArrays expects { users, items, ratings?, timestamps? }');
    if (options === null || typeof options !== 'object') throw argError(`fromArrays options must be an object, got ${show(options)}`);
    const users = idColumn(input.users, 'users');
    const items = idColumn(input.items, 'items');
    const n = users.length;
    if (items.length !== n) throw argError(`items has ${items.length} entries but users has ${n}`);
    const values = numberColumn(input.ratings, 'ratings', n, Float32Array);
    const times = numberColumn(input.timestamps, 'timestamps', n, Float64Array);
    const u = IdMap.build(users, 'users');
    const i = IdMap.build(items, 'items');
    return Dataset.fromCoo(u.map, i.map, u.indices, i.indices, values, times, options);
  }

  /**
   * Reads an interaction file: MovieLens 100K / 1M / CSV layouts or any delimited text with a column mapping.
   * The file is streamed in chunks on a worker thread and mapped to dense ids natively. A column keeps numeric
   * ids while every id in it is a canonical integer ("42", not "042" or "+42") within 2^53; otherwise all its ids
   * are strings (exactly as written). Errors: E_IO (missing/unreadable), E_PARSE (message has path:line),
   * E_EMPTY (no interactions), E_DUPLICATE (duplicates: 'error'; names both lines and the ids).
   */
  static async fromFile(path: string, options: FromFileOptions = {}): Promise<Dataset> {
    return Dataset.fromParts(await parseFile(path, options));
  }

  /**
   * Reads Parquet files (a path, a glob such as 'data/*.parquet', a directory, or a list of them) through embedded
   * DuckDB, out of core: validation, deduplication (the `duplicates` policy, in SQL), `where` and the
   * minimum-interaction filters run in DuckDB, which spills to disk past `memoryLimit`; only dense int32
   * coordinates come back, in chunks, and the CSR is built natively. Dense ids follow the ids' ascending order
   * (numbers numerically, text by UTF-8 bytes), not first appearance as in fromArrays/fromFile. Integer id columns
   * give number ids (text when any id is beyond 2^53), text columns string ids. Needs the optional dependency
   * @duckdb/node-api (E_DEPENDENCY without it). Errors: E_IO (no such file), E_PARSE (missing column, wrong type,
   * NULL id, non-finite rating or time: the message names the file, row and column), E_DUPLICATE
   * (duplicates: 'error'), E_EMPTY.
   */
  static async fromParquet(globOrPaths: string | readonly string[], options: DuckDBReadOptions = {}): Promise<Dataset> {
    const { readParquet } = await import('./bigdata.js');
    return Dataset.fromParts(await readParquet(globOrPaths, options));
  }

  /** fromParquet for delimited text files, read by DuckDB's CSV reader (types and dialect sniffed, or given). */
  static async fromCsv(globOrPaths: string | readonly string[], options: DuckDBCsvOptions = {}): Promise<Dataset> {
    const { readCsv } = await import('./bigdata.js');
    return Dataset.fromParts(await readCsv(globOrPaths, options));
  }

  /**
   * fromParquet for the result of any DuckDB query (it may read files with read_parquet / read_csv / read_json).
   * By default the query's columns `user`, `item` and, when present, `rating` and `timestamp` are used. Input
   * order for duplicates: 'last' is the query's row order.
   */
  static async fromQuery(sql: string, options: DuckDBReadOptions = {}): Promise<Dataset> {
    const { readQuery } = await import('./bigdata.js');
    return Dataset.fromParts(await readQuery(sql, options));
  }

  /**
   * This dataset over id maps that extend its own: the same ids at the same dense indices (compared as text, since
   * a later file may have turned a column into string ids), possibly more after them. Interactions are unchanged;
   * the added users and items have none (models treat them as unknown). Used to align a training set with a test
   * set read with `extend`.
   */
  withIdMaps(users: IdMap, items: IdMap): Dataset {
    if (users === this.users && items === this.items) return this;
    const check = (old: IdMap, map: IdMap, name: string): void => {
      if (!(map instanceof IdMap)) throw argError(`${name} must be an IdMap`);
      let ok = map.size >= old.size;
      for (let i = 0; ok && i < old.size; i++) ok = old.ids[i] === map.ids[i] || String(old.ids[i]) === String(map.ids[i]);
      if (!ok) throw argError(`the ${name} map does not extend this dataset's ${name} (same ids at the same indices)`);
    };
    check(this.users, users, 'users');
    check(this.items, items, 'items');
    let { indptr } = this.csr;
    if (users.size > this.csr.rows) {
      indptr = new Int32Array(users.size + 1);
      indptr.set(this.csr.indptr);
      indptr.fill(this.nnz, this.csr.rows + 1);
    }
    const ds = new Dataset(users, items, { ...this.csr, rows: users.size, cols: items.size, indptr }, this.duplicatesMerged);
    ds.itemInfo = this.itemInfo;
    return ds;
  }

  /**
   * Attaches item display data (titles, genres) from a MovieLens metadata file to `itemInfo`, by dense item index.
   * Items of the file that this dataset lacks are ignored. Returns this dataset.
   */
  async loadItemInfo(path: string, options: { format: ItemInfoFormat }): Promise<this> {
    if (options === null || typeof options !== 'object') throw argError('loadItemInfo needs { format }');
    this.itemInfo = matchItemInfo(this.items, await readItemInfoFile(path, options.format));
    return this;
  }

  /** Counts, density and the rating histogram. */
  stats(): DatasetStats {
    const { indptr, data, times } = this.csr;
    const nnz = this.nnz;
    let activeUsers = 0;
    let minU = Infinity;
    let maxU = 0;
    for (let u = 0; u < this.nUsers; u++) {
      const d = indptr[u + 1]! - indptr[u]!;
      if (d > 0) activeUsers++;
      if (d < minU) minU = d;
      if (d > maxU) maxU = d;
    }
    const itemSeen = new Uint8Array(this.nItems);
    for (let p = 0; p < nnz; p++) itemSeen[this.csr.indices[p]!] = 1;
    let activeItems = 0;
    for (let i = 0; i < this.nItems; i++) activeItems += itemSeen[i]!;
    const s: DatasetStats = {
      users: this.nUsers,
      items: this.nItems,
      interactions: nnz,
      density: this.nUsers && this.nItems ? nnz / (this.nUsers * this.nItems) : 0,
      activeUsers,
      activeItems,
      minUserInteractions: this.nUsers ? minU : 0,
      maxUserInteractions: maxU,
      meanUserInteractions: this.nUsers ? nnz / this.nUsers : 0,
    };
    if (data) {
      const hist = new Map<number, number>();
      let lo = Infinity;
      let hi = -Infinity;
      let sum = 0;
      for (let p = 0; p < nnz; p++) {
        const r = data[p]!;
        hist.set(r, (hist.get(r) ?? 0) + 1);
        if (r < lo) lo = r;
        if (r > hi) hi = r;
        sum += r;
      }
      s.ratingHistogram = Object.fromEntries([...hist.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v]));
      if (nnz) {
        s.ratingMin = lo;
        s.ratingMax = hi;
        s.ratingMean = sum / nnz;
      }
    }
    if (times && nnz) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let p = 0; p < nnz; p++) {
        const t = times[p]!;
        if (t < lo) lo = t;
        if (t > hi) hi = t;
      }
      s.timeMin = lo;
      s.timeMax = hi;
    }
    return s;
  }
}

// ---- fromArrays input rules ----------------------------------------------------------------------------

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const n = (v as { length?: unknown }).length;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

const BIGINT_ARRAYS = ['BigInt64Array', 'BigUint64Array'];

/** A typed array's buffer is detached (transferred): its length reads as 0 and its data is gone. */
function isDetached(a: ArrayBufferView): boolean {
  const b = a.buffer as ArrayBufferLike & { detached?: boolean };
  if (typeof b.detached === 'boolean') return b.detached; // Node >= 22
  if (b.byteLength !== 0) return false;
  try {
    new Uint8Array(b); // throws only for a detached buffer
    return false;
  } catch {
    return true;
  }
}

/** Checks what a typed array column can be (any numeric typed array, on an ArrayBuffer or a SharedArrayBuffer). */
function checkTypedColumn(a: ArrayBufferView, name: string): void {
  if (a instanceof DataView) throw argError(`${name} must be an array or a numeric typed array, got a DataView`);
  const kind = a.constructor?.name ?? 'typed array';
  if (BIGINT_ARRAYS.includes(kind) || typeof (a as unknown as ArrayLike<unknown>)[0] === 'bigint') {
    throw argError(`${name} is a ${kind}; use numbers (e.g. a Float64Array), not bigints`);
  }
  if (isDetached(a)) throw argError(`${name} is a ${kind} whose buffer is detached (transferred); pass a live array`);
}

/** users / items: an array (or typed array) of ids; each element is checked by IdMap.build. */
function idColumn(v: unknown, name: 'users' | 'items'): ArrayLike<Id> {
  if (ArrayBuffer.isView(v)) {
    checkTypedColumn(v, name);
    return v as unknown as ArrayLike<number>;
  }
  if (isArrayLike(v)) return v as ArrayLike<Id>;
  throw argError(`${name} must be an array of ids (numbers or strings), got ${show(v)}`);
}

/**
 * ratings / timestamps: undefined or null (not given), a numeric typed array (the target type is used without a
 * copy) or an array whose every element is a finite number; no coercion ('5', true, null, [3] are refused).
 */
function numberColumn<T extends Float32Array | Float64Array>(
  v: unknown,
  name: 'ratings' | 'timestamps',
  n: number,
  Out: { new (n: number): T; name: string },
): T | undefined {
  if (v === undefined || v === null) return undefined;
  let out: T;
  if (ArrayBuffer.isView(v)) {
    checkTypedColumn(v, name);
    const a = v as unknown as ArrayLike<number>;
    if (a.length !== n) throw argError(`${name} has ${a.length} entries but users has ${n}`);
    if (v instanceof Out) out = v as T;
    else {
      out = new Out(n);
      for (let p = 0; p < n; p++) out[p] = a[p]!;
    }
    for (let p = 0; p < n; p++) {
      if (!Number.isFinite(out[p]!))
        throw argError(
          `${name}[${p}] is ${show(a[p])}${Number.isFinite(a[p]!) ? ` (not a finite ${Out.name.slice(0, 7).toLowerCase()})` : ''}; ${name} must be finite numbers`,
        );
    }
    return out;
  }
  if (!isArrayLike(v)) throw argError(`${name} must be an array of numbers or a typed array, got ${show(v)}`);
  if (v.length !== n) throw argError(`${name} has ${v.length} entries but users has ${n}`);
  out = new Out(n);
  for (let p = 0; p < n; p++) {
    const x: unknown = v[p];
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw argError(`${name}[${p}] is ${p in v ? show(x) : 'missing (a hole)'}; ${name} must be finite numbers`);
    out[p] = x;
    if (!Number.isFinite(out[p]!)) throw argError(`${name}[${p}] is ${x}, beyond the float32 range; ${name} must be finite numbers`);
  }
  return out;
}
