// The NativeModel handle of a model whose scores are computed in TypeScript (the deep models, ItemTransitions):
// recommend and recommendBatch rank those scores with the native top-K, so seen items, exclude and include are
// applied inside it exactly as for the native families.
import { argError, native } from '../errors.js';
import { addon, type CsrMatrix, type NativeModel, type NativeTensor, type TopKResult } from '../native.js';

/** The top k of one row of n scores (seen, exclude and include applied inside the native top-K). */
export function topkOfRow(scores: Float32Array, n: number, k: number, seen: Int32Array | undefined, exclude?: Int32Array, include?: Int32Array): TopKResult {
  const seenCsr = seen ? { rows: 1, cols: n, indptr: Int32Array.of(0, seen.length), indices: seen } : undefined;
  const r = native(() => addon.topkRows(scores, n, k, seen ? Int32Array.of(0) : undefined, seenCsr, exclude, include, 1));
  return { items: r.items.subarray(0, r.counts[0]), scores: r.scores.subarray(0, r.counts[0]) };
}

/** A handle over TS scores: subclasses give every item's score for trained users and the rest of NativeModel. */
export abstract class ScoredHandle implements NativeModel {
  abstract readonly kind: string;
  constructor(
    readonly nUsers: number,
    readonly nItems: number,
  ) {}

  /** Every item's score for each user (rows of nItems). */
  abstract scoreUsers(users: Int32Array): Float32Array;
  abstract recommendNew(
    items: Int32Array,
    values: Float32Array | undefined,
    k: number,
    filterSeen: boolean,
    exclude?: Int32Array,
    include?: Int32Array,
  ): TopKResult;
  abstract predict(users: Int32Array, items: Int32Array, threads: number): Float32Array;
  abstract similarItems(item: number, k: number, exclude?: Int32Array, include?: Int32Array): TopKResult;
  abstract similarUsers(user: number, k: number, exclude?: Int32Array, include?: Int32Array): TopKResult;
  abstract state(): Record<string, NativeTensor>;

  protected checkUser(u: number): void {
    if (!Number.isInteger(u) || u < 0 || u >= this.nUsers) throw argError(`user ${u} is not a trained user`);
  }

  recommend(user: number, k: number, seen?: Int32Array, exclude?: Int32Array, include?: Int32Array): TopKResult {
    this.checkUser(user);
    return topkOfRow(this.scoreUsers(Int32Array.of(user)), this.nItems, k, seen, exclude, include);
  }

  /** Scores users in blocks of at most 4M floats, each ranked by the native top-K over rows. */
  recommendBatch(
    users: Int32Array,
    k: number,
    seen: Pick<CsrMatrix, 'rows' | 'cols' | 'indptr' | 'indices'> | undefined,
    exclude: Int32Array | undefined,
    include: Int32Array | undefined,
    threads: number,
  ): TopKResult & { counts: Int32Array; k: number } {
    for (const u of users) this.checkUser(u);
    const kk = Math.min(k, this.nItems);
    const items = new Int32Array(users.length * kk);
    const scores = new Float32Array(users.length * kk);
    const counts = new Int32Array(users.length);
    const block = Math.max(1, Math.min(1024, Math.floor(2 ** 22 / Math.max(1, this.nItems))));
    for (let b = 0; b < users.length; b += block) {
      const part = users.subarray(b, b + block);
      const s = this.scoreUsers(part);
      const r = native(() => addon.topkRows(s, this.nItems, kk, seen ? part : undefined, seen, exclude, include, threads));
      items.set(r.items, b * kk);
      scores.set(r.scores, b * kk);
      counts.set(r.counts, b);
    }
    return { items, scores, counts, k: kk };
  }
}
