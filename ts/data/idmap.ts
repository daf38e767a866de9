import { RecsysError } from '../errors.js';

/** An external id: what the user's data calls a user or an item. */
export type Id = number | string;

/**
 * Dense index <-> external id, both ways. Index i names ids[i]; the reverse map is built on first lookup.
 * Immutable: splits and folds share one IdMap, so dense indices agree between train and test.
 */
export class IdMap {
  readonly ids: readonly Id[];
  private reverse?: Map<Id, number>;

  constructor(ids: readonly Id[]) {
    this.ids = ids;
  }

  get size(): number {
    return this.ids.length;
  }

  // Integer ids in a compact range (the common case: MovieLens, database keys) are looked up in a typed array:
  // built in one pass and far cheaper than a Map of a million entries. dense === null: not applicable.
  private dense?: Int32Array | null;
  private denseMin = 0;

  private buildDense(): Int32Array | null {
    const n = this.ids.length;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = this.ids[i];
      if (typeof v !== 'number' || !Number.isInteger(v)) return null;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (n === 0 || hi - lo + 1 > 4 * n + 1024) return null;
    const t = new Int32Array(hi - lo + 1).fill(-1);
    for (let i = 0; i < n; i++) t[(this.ids[i] as number) - lo] = i;
    this.denseMin = lo;
    return t;
  }

  /** Dense index of an external id, or -1. Numbers and numeric strings are distinct ids (7 !== '7'). */
  index(id: Id): number {
    if (this.dense === undefined) this.dense = this.reverse ? null : this.buildDense();
    if (this.dense) {
      if (typeof id !== 'number') return -1;
      const j = id - this.denseMin;
      return Number.isInteger(j) && j >= 0 && j < this.dense.length ? this.dense[j]! : -1;
    }
    if (!this.reverse) {
      const m = new Map<Id, number>();
      this.ids.forEach((v, i) => m.set(v, i));
      this.reverse = m;
    }
    return this.reverse.get(id) ?? -1;
  }

  has(id: Id): boolean {
    return this.index(id) >= 0;
  }

  /** External id of a dense index. */
  id(index: number): Id {
    const v = this.ids[index];
    if (v === undefined) throw new RecsysError('E_ARG', `index ${index} is outside [0, ${this.ids.length})`);
    return v;
  }

  /**
   * Dense indices of many ids at once; ids not in the map get new indices after the existing ones when `extend`
   * is given (their ids are appended to `extend`), else -1.
   */
  indicesOf(ids: ArrayLike<Id>, extend?: Id[]): Int32Array {
    const out = new Int32Array(ids.length);
    this.index(this.ids[0] ?? 0); // build the lookup
    const rev = this.reverse;
    let added: Map<Id, number> | undefined;
    for (let p = 0; p < ids.length; p++) {
      const id = ids[p]!;
      let ix: number | undefined = rev ? rev.get(id) : this.index(id);
      if (ix === -1) ix = undefined;
      if (ix === undefined && extend) {
        added ??= new Map();
        ix = added.get(id);
        if (ix === undefined) {
          ix = this.ids.length + extend.length;
          added.set(id, ix);
          extend.push(id);
        }
      }
      out[p] = ix ?? -1;
    }
    return out;
  }

  /** Maps arbitrary external ids to dense indices in first-seen order, returning the new map and the indices. */
  static build(ids: ArrayLike<Id>, name: string): { map: IdMap; indices: Int32Array } {
    const out = new Int32Array(ids.length);
    const seen = new Map<Id, number>();
    const list: Id[] = [];
    for (let p = 0; p < ids.length; p++) {
      const id = ids[p];
      if (typeof id === 'number') {
        if (!Number.isFinite(id)) throw new RecsysError('E_ARG', `${name}[${p}] is ${id}; ids must be finite numbers or strings`);
      } else if (typeof id !== 'string') {
        throw new RecsysError('E_ARG', `${name}[${p}] is ${describeValue(id)}; ids must be numbers or strings`);
      }
      let ix = seen.get(id);
      if (ix === undefined) {
        ix = list.length;
        seen.set(id, ix);
        list.push(id);
      }
      out[p] = ix;
    }
    const map = new IdMap(list);
    map.reverse = seen;
    return { map, indices: out };
  }
}

/** A value for a message, short: null, true, an array, an object, 12n (a bigint). */
function describeValue(v: unknown): string {
  if (v === null || v === undefined || typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return `${v}n (a bigint)`;
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
