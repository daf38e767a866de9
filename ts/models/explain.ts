// Why an item was recommended to a user, in terms of the user's own history.
// - ItemKNN, EASE, SANSA score linearly in the user's interaction vector x: score(i) = sum_j x_j w(j -> i). Each
//   history item's contribution x_j w(j -> i) is the model's own score of i from a history of j alone, so the
//   contributions sum to the score (up to float rounding).
// - ImplicitALS: Hu, Koren, Volinsky (2008), section 5. The user's vector solves (Y^T C_u Y + reg I) x = Y^T C_u p(u),
//   so with W_u = (Y^T C_u Y + reg I)^-1, score(i) = y_i^T x = sum_j s_ij c_uj p_uj with s_ij = y_i^T W_u y_j. It is
//   computed here in float64 against the model's current item factors; the sum is the score of the user's exact
//   least-squares vector (the fold-in score), which can differ slightly from the stored vector (fitted one
//   half-sweep earlier, by CG): both are reported.
// - Other factor models (BiasedMF, BPR, ...): the user's liked items nearest to the item in factor space (cosine).
//   Not a decomposition of the score: labelled approximate.
import { RecsysError, argError, native, show } from '../errors.js';
import { unknownIdError, type Id } from '../data/idmap.js';
import type { NativeModel } from '../native.js';
import { FactorRecommender, type Recommender } from './base.js';

export interface Contribution {
  /** A history item. */
  item: Id;
  /** Its share of the score (item-item and ALS); for 'nearest-liked', its cosine similarity to the item. */
  contribution: number;
  /** The user's value for it (rating, count, 1). */
  value: number;
}

export interface Explanation {
  item: Id;
  /**
   * 'item-item': contribution = value x weight(history item -> item), exact; 'als-decomposition': Hu et al. 2008
   * section 5, exact; 'nearest-liked': similar liked items, not a decomposition.
   */
  method: 'item-item' | 'als-decomposition' | 'nearest-liked';
  /** False when the contributions sum to `score`. */
  approximate: boolean;
  /** The sum of all contributions (exact methods), else the model's score. */
  score: number;
  /** The model's own score of the pair (recommend's score). */
  modelScore: number;
  /** The largest contributions (by absolute value; nearest-liked: most similar first). */
  contributions: Contribution[];
  /** How many history items contributed in all (the list may be cut to `top`). */
  historySize: number;
}

export interface ExplainOptions {
  /** How many contributions to list. Default 10. */
  top?: number;
}

/** A user's history as dense item indices and values (undefined: all 1). */
export interface History {
  items: Int32Array;
  values?: Float32Array;
}

const LINEAR = new Set(['ItemKNN', 'EASE', 'SANSA']);

/** Whether explain() supports the model. */
export function canExplain(model: Recommender): boolean {
  return LINEAR.has(model.stateKind) || model instanceof FactorRecommender;
}

/** Explains a known user's score of an item (see the module comment for the methods). */
export function explain(model: Recommender, user: Id, item: Id, options: ExplainOptions = {}): Explanation {
  const train = model.trainData;
  const u = train.users.index(user);
  if (u < 0 || u >= model.nativeModel.nUsers) throw unknownIdError(train.users, user, 'user', `${model.name}: `);
  const i = train.items.index(item);
  if (i < 0 || i >= model.nativeModel.nItems) throw unknownIdError(train.items, item, 'item', `${model.name}: `);
  const history = { items: train.userItems(u), values: train.userValues(u) };
  const modelScore = native(() => model.nativeModel.recommend(u, 1, undefined, undefined, Int32Array.of(i))).scores[0]!;
  return explainHistory(model, history, i, modelScore, options);
}

/**
 * Explains the score of dense item `i` for a history (a known user's, or a new user's for fold-in requests).
 * `modelScore` is the score the model gave (recommend's).
 */
export function explainHistory(model: Recommender, history: History, i: number, modelScore: number, options: ExplainOptions = {}): Explanation {
  const top = options.top ?? 10;
  if (!Number.isInteger(top) || top < 0) throw argError(`top must be a non-negative integer, got ${show(top)}`);
  const h = model.nativeModel;
  const ids = model.trainData.items;
  const value = (p: number) => history.values?.[p] ?? 1;
  let method: Explanation['method'];
  let contributions: Contribution[] = [];
  let score: number;
  if (LINEAR.has(model.stateKind)) {
    method = 'item-item';
    const one = Int32Array.of(i);
    score = 0;
    for (let p = 0; p < history.items.length; p++) {
      const j = history.items[p]!;
      const c = native(() => h.recommendNew(Int32Array.of(j), Float32Array.of(value(p)), 1, false, undefined, one)).scores[0] ?? 0;
      score += c;
      contributions.push({ item: ids.id(j), contribution: c, value: value(p) });
    }
  } else if (model.stateKind === 'ImplicitALS') {
    method = 'als-decomposition';
    const parts = alsContributions(model, h, history, i);
    score = 0;
    for (let p = 0; p < history.items.length; p++) {
      score += parts[p]!;
      contributions.push({ item: ids.id(history.items[p]!), contribution: parts[p]!, value: value(p) });
    }
  } else if (model instanceof FactorRecommender) {
    method = 'nearest-liked';
    // Liked: at least the user's mean value (every item when the values are all equal, as in implicit data).
    let mean = 0;
    for (let p = 0; p < history.items.length; p++) mean += value(p);
    mean /= Math.max(1, history.items.length);
    const liked: number[] = [];
    const valueOf = new Map<number, number>();
    for (let p = 0; p < history.items.length; p++)
      if (value(p) >= mean - 1e-9 * Math.abs(mean)) {
        liked.push(history.items[p]!);
        valueOf.set(history.items[p]!, value(p));
      }
    const r = liked.length ? native(() => h.similarItems(i, Math.min(liked.length, Math.max(top, 1)), Int32Array.of(i), Int32Array.from(liked))) : undefined;
    if (r) contributions = Array.from(r.items, (j, q) => ({ item: ids.id(j), contribution: r.scores[q]!, value: valueOf.get(j)! }));
    score = modelScore;
    return { item: ids.id(i), method, approximate: true, score, modelScore, contributions: contributions.slice(0, top), historySize: liked.length };
  } else {
    throw new RecsysError('E_UNSUPPORTED', `${model.name} has no explanations (ItemKNN, EASE, SANSA, ImplicitALS and factor models do)`);
  }
  const historySize = contributions.length;
  contributions.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
  return { item: ids.id(i), method, approximate: false, score, modelScore, contributions: contributions.slice(0, top), historySize };
}

// ---- ImplicitALS: W_u in float64 ----
interface AlsCache {
  Y: Float32Array;
  k: number;
  YtY: Float64Array;
}
const alsCache = new WeakMap<NativeModel, AlsCache>();

function alsState(model: Recommender, h: NativeModel): AlsCache {
  let c = alsCache.get(h);
  if (!c) {
    const t = h.state().item_factors;
    if (!t) throw new RecsysError('E_STATE', `${model.name} has no item factors`);
    const Y = t.data as Float32Array;
    const k = t.shape[1]!;
    const n = t.shape[0]!;
    const YtY = new Float64Array(k * k);
    for (let j = 0; j < n; j++) {
      const o = j * k;
      for (let a = 0; a < k; a++) {
        const ya = Y[o + a]!;
        if (ya === 0) continue;
        for (let b = 0; b <= a; b++) YtY[a * k + b] = YtY[a * k + b]! + ya * Y[o + b]!;
      }
    }
    for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) YtY[a * k + b] = YtY[b * k + a]!;
    c = { Y, k, YtY };
    alsCache.set(h, c);
  }
  return c;
}

/** s_ij c_uj p_uj for each history item j (Hu et al. 2008, section 5). */
function alsContributions(model: Recommender, h: NativeModel, history: History, i: number): Float64Array {
  const { Y, k, YtY } = alsState(model, h);
  const p = model.params as { reg?: number; alpha?: number; binary?: boolean; regExponent?: number; regUnobserved?: number };
  const reg = p.reg ?? 0.01;
  const alpha = p.alpha ?? 1;
  const n = history.items.length;
  // The row's regularization as the fit gives it: reg * (n + regUnobserved * items)^regExponent (plain reg at 0).
  const nu = p.regExponent ?? 0;
  const lam = nu === 0 ? reg : reg * Math.pow(n + (p.regUnobserved ?? 1) * h.nItems, nu);
  const A = Float64Array.from(YtY);
  for (let a = 0; a < k; a++) A[a * k + a] = A[a * k + a]! + lam;
  const conf = new Float64Array(n);
  const pref = new Float64Array(n);
  for (let q = 0; q < n; q++) {
    const r = p.binary || !history.values ? 1 : history.values[q]!;
    conf[q] = 1 + alpha * Math.abs(r);
    pref[q] = r > 0 ? 1 : 0;
    const w = conf[q]! - 1;
    if (w === 0) continue;
    const o = history.items[q]! * k;
    for (let a = 0; a < k; a++) {
      const wa = w * Y[o + a]!;
      for (let b = 0; b < k; b++) A[a * k + b] = A[a * k + b]! + wa * Y[o + b]!;
    }
  }
  // v = W_u y_i by Cholesky (A is symmetric positive definite for reg > 0; a tiny ridge otherwise).
  const v = Float64Array.from(Y.subarray(i * k, (i + 1) * k));
  choleskySolve(A, k, v);
  const out = new Float64Array(n);
  for (let q = 0; q < n; q++) {
    if (pref[q] === 0) continue;
    const o = history.items[q]! * k;
    let s = 0;
    for (let a = 0; a < k; a++) s += v[a]! * Y[o + a]!;
    out[q] = s * conf[q]! * pref[q]!;
  }
  return out;
}

function choleskySolve(A: Float64Array, k: number, b: Float64Array): void {
  let ridge = 0;
  for (;;) {
    const L = Float64Array.from(A);
    if (ridge) for (let a = 0; a < k; a++) L[a * k + a] = L[a * k + a]! + ridge;
    let ok = true;
    for (let j = 0; j < k && ok; j++) {
      let d = L[j * k + j]!;
      for (let t = 0; t < j; t++) d -= L[j * k + t]! * L[j * k + t]!;
      if (!(d > 0)) {
        ok = false;
        break;
      }
      const dj = Math.sqrt(d);
      L[j * k + j] = dj;
      for (let r = j + 1; r < k; r++) {
        let s = L[r * k + j]!;
        for (let t = 0; t < j; t++) s -= L[r * k + t]! * L[j * k + t]!;
        L[r * k + j] = s / dj;
      }
    }
    if (!ok) {
      let tr = 0;
      for (let a = 0; a < k; a++) tr += Math.abs(A[a * k + a]!);
      ridge = ridge ? ridge * 10 : 1e-12 * Math.max(tr / k, 1e-300);
      continue;
    }
    for (let r = 0; r < k; r++) {
      let s = b[r]!;
      for (let t = 0; t < r; t++) s -= L[r * k + t]! * b[t]!;
      b[r] = s / L[r * k + r]!;
    }
    for (let r = k - 1; r >= 0; r--) {
      let s = b[r]!;
      for (let t = r + 1; t < k; t++) s -= L[t * k + r]! * b[t]!;
      b[r] = s / L[r * k + r]!;
    }
    return;
  }
}
