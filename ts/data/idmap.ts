import { RecsysError, show } from '../errors.js';

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

  /**
   * Dense index of an external id, or -1. The id rule (the same for the API, the CLI and the server): the id as
   * given first; when the map does not hold it, its other form — a canonical decimal string for a number and the
   * number for a canonical decimal string ("196" <-> 196, "1.5" <-> 1.5; never "042", "+7", "1e3" or " 7"). Ids
   * reach a service as text (URL paths, query strings, JSON written by another language), so '196' finds the user
   * a file stored as 196; a map holding both 7 and '7' (possible with fromArrays) answers each exactly.
   */
  index(id: Id): number {
    const ix = this.exactIndex(id);
    if (ix >= 0) return ix;
    const other = otherForm(id);
    return other === undefined ? -1 : this.exactIndex(other);
  }

  /** The id in the form this map holds it (see index), or undefined when it holds neither form. */
  resolve(id: Id): Id | undefined {
    const ix = this.index(id);
    return ix < 0 ? undefined : this.ids[ix];
  }

  /**
   * Why an id is not found, when its type is the cause, for messages: e.g. '"abc" is a string, not a canonical
   * number; this model's user ids are numbers'. '' when the type is not the cause (the map holds ids of that type,
   * or both forms of the id were tried).
   */
  typeHint(id: unknown, what: string): string {
    if ((typeof id === 'string' || typeof id === 'number') && otherForm(id) !== undefined) return ''; // both forms were tried
    const kinds = this.idKinds();
    const t = typeof id;
    if ((t === 'number' && kinds.numbers) || (t === 'string' && kinds.strings) || (!kinds.numbers && !kinds.strings)) return '';
    const theirs = kinds.numbers && kinds.strings ? 'numbers and strings' : kinds.numbers ? 'numbers' : 'strings';
    const is =
      t === 'string' ? 'a string, not a canonical number' : t === 'number' ? 'a number' : id === null || id === undefined ? 'not an id' : describeValue(id);
    return `${show(id)} is ${is}; this model's ${what} ids are ${theirs}`;
  }

  private kinds?: { numbers: boolean; strings: boolean };
  private idKinds(): { numbers: boolean; strings: boolean } {
    if (!this.kinds) {
      let numbers = false;
      let strings = false;
      for (const v of this.ids) {
        if (typeof v === 'number') numbers = true;
        else strings = true;
        if (numbers && strings) break;
      }
      this.kinds = { numbers, strings };
    }
    return this.kinds;
  }

  private exactIndex(id: Id): number {
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
      let ix: number | undefined = rev ? rev.get(id) : this.exactIndex(id);
      if (ix === undefined || ix === -1) ix = this.index(id); // the other form ("42" <-> 42)
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
        throw new RecsysError('E_ARG', `${name}[${p}] is ${typeof id === 'boolean' ? String(id) : describeValue(id)}; ids must be numbers or strings`);
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

/** The error for an id a map does not hold, with the type hint when the id's type is the cause. */
export function unknownIdError(map: IdMap, id: unknown, what: 'user' | 'item', context = '', advice = ''): RecsysError {
  const notes = [map.typeHint(id, what), advice].filter((s) => s.length > 0);
  const code = what === 'user' ? 'E_UNKNOWN_USER' : 'E_UNKNOWN_ITEM';
  return new RecsysError(code, `${context}unknown ${what} ${show(id)}${notes.length ? ` (${notes.join('; ')})` : ''}`);
}

// Canonical decimals only: "42", "-7", "1.5"; not "042", "+7", "1e3", "1.50", " 7" (String(Number(s)) === s too).
const CANONICAL_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$/;

/** The other form of an id under the id rule (see IdMap.index), or undefined when it has none. */
function otherForm(id: Id): Id | undefined {
  if (typeof id === 'string') {
    if (id.length > 24 || !CANONICAL_NUMBER.test(id)) return undefined;
    const n = Number(id);
    return String(n) === id ? n : undefined;
  }
  return typeof id === 'number' && Number.isFinite(id) ? String(id) : undefined;
}

/** A value for a message, short: null, true, an array, an object, 12n (a bigint). */
function describeValue(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'boolean') return 'a boolean';
  if (typeof v === 'bigint') return `${v}n (a bigint)`;
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
