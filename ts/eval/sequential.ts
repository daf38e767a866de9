// The sequential (next-item) protocol of SASRec (Kang & McAuley 2018, section IV-B): each user's events ordered by
// time, the last one held out for test, the second-to-last for validation, the rest for training; a model ranks
// the held-out item given the history before it, over the full catalogue and against 100 sampled negatives.
import { RecsysError, argError, show } from '../errors.js';
import { Dataset, csrOf } from '../data/dataset.js';
import type { CsrMatrix } from '../native.js';
import { Rng } from '../rng.js';

/** Held-out next items: for each user, the history before the target (time order) and the target. */
export interface HeldOutNext {
  /** Dense user indices. */
  users: Int32Array;
  /** The held-out item of each user. */
  targets: Int32Array;
  /** Each user's items before the target, oldest first. */
  histories: Int32Array[];
}

export interface SequentialSplit {
  /** Every user's events except the last two (users with fewer than 3 events keep all of theirs). */
  train: Dataset;
  /** train plus each user's validation item: what a model is refitted on before the test. */
  trainValid: Dataset;
  /** The second-to-last item, after the training history. */
  validation: HeldOutNext;
  /** The last item, after the training history and the validation item. */
  test: HeldOutNext;
  /** Every user's full sequence, oldest first (used to exclude a user's items from the sampled negatives). */
  sequences: Int32Array[];
}

/**
 * A user's items in time order: by timestamp, ties by the dataset's order within the row (the item index), so the
 * order is the same on every run. Without timestamps: the row's order (item index).
 */
export function userSequence(ds: Dataset, user: number): Int32Array {
  const c = csrOf(ds);
  return Int32Array.from(timeOrder(c, user), (p) => c.indices[p]!);
}

/** Positions of a CSR row's entries in time order (ties and no timestamps: row order). */
function timeOrder(c: CsrMatrix, user: number): number[] {
  const lo = c.indptr[user]!;
  const pos = Array.from({ length: c.indptr[user + 1]! - lo }, (_, j) => lo + j);
  const times = c.times;
  if (times) pos.sort((a, b) => times[a]! - times[b]! || a - b);
  return pos;
}

/**
 * Leave-last-one-out by timestamp. Needs timestamps (E_ARG without). Users with fewer than 3 events are kept
 * whole in train and take no part in validation or test (the paper keeps users with at least 5).
 */
export function sequentialSplit(ds: Dataset): SequentialSplit {
  if (!(ds instanceof Dataset)) throw argError(`sequentialSplit expects a Dataset, got ${show(ds)}`);
  if (!ds.hasTimestamps) throw argError('sequentialSplit needs a dataset with timestamps (the events must be ordered in time)');
  const sequences: Int32Array[] = [];
  const c = csrOf(ds);
  const times = c.times!;
  const rows: number[] = [];
  const cols: number[] = [];
  const stamps: number[] = [];
  const rowsV: number[] = [];
  const colsV: number[] = [];
  const stampsV: number[] = [];
  const vU: number[] = [];
  const vT: number[] = [];
  const vH: Int32Array[] = [];
  const tT: number[] = [];
  const tH: Int32Array[] = [];
  for (let u = 0; u < ds.nUsers; u++) {
    const order = timeOrder(c, u);
    const seq = Int32Array.from(order, (p) => c.indices[p]!);
    sequences.push(seq);
    const held = seq.length >= 3 ? 2 : 0;
    for (let j = 0; j < seq.length - (held ? 1 : 0); j++) {
      if (j < seq.length - held) {
        rows.push(u);
        cols.push(seq[j]!);
        stamps.push(times[order[j]!]!);
      }
      rowsV.push(u);
      colsV.push(seq[j]!);
      stampsV.push(times[order[j]!]!);
    }
    if (held) {
      vU.push(u);
      vT.push(seq[seq.length - 2]!);
      vH.push(seq.slice(0, seq.length - 2));
      tT.push(seq[seq.length - 1]!);
      tH.push(seq.slice(0, seq.length - 1));
    }
  }
  if (vU.length === 0) throw new RecsysError('E_EMPTY', 'sequentialSplit: no user has 3 or more events, nothing to hold out');
  const build = (r: number[], cc: number[], t: number[]) =>
    Dataset.fromCoo(ds.users, ds.items, Int32Array.from(r), Int32Array.from(cc), undefined, Float64Array.from(t));
  const users = Int32Array.from(vU);
  return {
    train: build(rows, cols, stamps),
    trainValid: build(rowsV, colsV, stampsV),
    validation: { users, targets: Int32Array.from(vT), histories: vH },
    test: { users: users.slice(), targets: Int32Array.from(tT), histories: tH },
    sequences,
  };
}

/**
 * What evaluateSequential needs from a model: scores of every item (catalogue order) after each history
 * (`scoreSequences`, sequential models), or per user (`scoreUsersDense`, any fitted Recommender: its own
 * training data stands for the history).
 */
export type SequenceScorer = { scoreSequences(histories: readonly Int32Array[]): Float32Array } | { scoreUsersDense(users: Int32Array): Float32Array };

export interface EvaluateSequentialOptions {
  /** Cutoff of the metrics. Default 10. */
  k?: number;
  /** Negatives per target in the sampled protocol. Default 100 (the SASRec paper's). */
  negatives?: number;
  /** Seed of the negative sampling. Default 42. */
  seed?: number;
  /** Every user's full sequence (sequentialSplit's `sequences`): sampled negatives avoid all of a user's items. */
  sequences?: readonly Int32Array[];
  /** Users scored at a time. Default 256. */
  blockSize?: number;
}

export interface SequentialResult {
  /** hr@K and ndcg@K over the full catalogue (each history's items excluded), sampled_hr@K and sampled_ndcg@K. */
  [metric: string]: number;
  users: number;
}

/**
 * HR@K and NDCG@K of the held-out next items (SASRec's protocol). Full ranking: the target against every item not
 * in its history, an item of equal score ranking above it when its index is smaller (evaluate's rule). Sampled:
 * the target against `negatives` items drawn uniformly without replacement from the items the user never had
 * (`sequences`, else the history and target), an equal score ranking above the target. With rank r (0 = first),
 * HR = [r < K] and NDCG = 1 / log2(r + 2) when r < K; means over users. A target outside the model's catalogue
 * counts as a miss. One random stream per user.
 */
export function evaluateSequential(model: SequenceScorer, heldOut: HeldOutNext, nItems: number, options: EvaluateSequentialOptions = {}): SequentialResult {
  if (!model || typeof model !== 'object') throw argError('evaluateSequential expects a model');
  const bySequence = 'scoreSequences' in model && typeof model.scoreSequences === 'function';
  if (!bySequence && !('scoreUsersDense' in model && typeof model.scoreUsersDense === 'function'))
    throw argError('evaluateSequential expects a model with scoreSequences or scoreUsersDense');
  if (!heldOut || !(heldOut.users instanceof Int32Array) || !(heldOut.targets instanceof Int32Array) || !Array.isArray(heldOut.histories))
    throw argError('heldOut must be { users, targets, histories } (sequentialSplit)');
  const n = heldOut.users.length;
  if (heldOut.targets.length !== n || heldOut.histories.length !== n) throw argError('heldOut users, targets and histories differ in length');
  if (!Number.isInteger(nItems) || nItems < 1) throw argError(`nItems must be an integer >= 1, got ${show(nItems)}`);
  const k = options.k ?? 10;
  const negatives = options.negatives ?? 100;
  const seed = options.seed ?? 42;
  const block = options.blockSize ?? 256;
  if (!Number.isInteger(k) || k < 1) throw argError(`k must be an integer >= 1, got ${show(k)}`);
  if (!Number.isInteger(negatives) || negatives < 1) throw argError(`negatives must be an integer >= 1, got ${show(negatives)}`);
  if (!Number.isInteger(block) || block < 1) throw argError(`blockSize must be an integer >= 1, got ${show(block)}`);
  if (n === 0) throw new RecsysError('E_EMPTY', 'evaluateSequential: no held-out users');
  let hr = 0;
  let ndcg = 0;
  let sHr = 0;
  let sNdcg = 0;
  const mark = new Uint8Array(nItems);
  for (let b0 = 0; b0 < n; b0 += block) {
    const b1 = Math.min(n, b0 + block);
    const scores = bySequence
      ? model.scoreSequences(heldOut.histories.slice(b0, b1))
      : (model as { scoreUsersDense(u: Int32Array): Float32Array }).scoreUsersDense(heldOut.users.subarray(b0, b1));
    if (scores.length !== (b1 - b0) * nItems)
      throw new RecsysError('E_STATE', `the model returned ${scores.length} scores for ${b1 - b0} users x ${nItems} items`);
    for (let r = b0; r < b1; r++) {
      const row = scores.subarray((r - b0) * nItems, (r - b0 + 1) * nItems);
      const target = heldOut.targets[r]!;
      const hist = heldOut.histories[r]!;
      if (!(target >= 0 && target < nItems) || !Number.isFinite(row[target]!)) continue; // a miss in both protocols
      const ts = row[target]!;
      // Full ranking: history items are out (the target itself may recur in the history: it still counts).
      for (const i of hist) if (i >= 0 && i < nItems) mark[i] = 1;
      mark[target] = 0;
      let rank = 0;
      for (let i = 0; i < nItems && rank < k; i++) {
        if (mark[i] || i === target) continue;
        const s = row[i]!;
        if (s > ts || (s === ts && i < target)) rank++;
      }
      for (const i of hist) if (i >= 0 && i < nItems) mark[i] = 0;
      if (rank < k) {
        hr++;
        ndcg += 1 / Math.log2(rank + 2);
      }
      // Sampled: negatives from the items the user never had.
      const own = options.sequences?.[heldOut.users[r]!] ?? hist;
      for (const i of own) if (i >= 0 && i < nItems) mark[i] = 1;
      mark[target] = 1;
      let free = 0;
      for (let i = 0; i < nItems; i++) free += mark[i] ? 0 : 1;
      const rng = new Rng(seed, heldOut.users[r]);
      const want = Math.min(negatives, free);
      const picked = new Set<number>();
      let sRank = 0;
      while (picked.size < want) {
        const i = rng.below(nItems);
        if (mark[i] || picked.has(i)) continue;
        picked.add(i);
        if (row[i]! >= ts) sRank++;
      }
      for (const i of own) if (i >= 0 && i < nItems) mark[i] = 0;
      mark[target] = 0;
      if (sRank < k) {
        sHr++;
        sNdcg += 1 / Math.log2(sRank + 2);
      }
    }
  }
  return { [`hr@${k}`]: hr / n, [`ndcg@${k}`]: ndcg / n, [`sampled_hr@${k}`]: sHr / n, [`sampled_ndcg@${k}`]: sNdcg / n, users: n };
}
