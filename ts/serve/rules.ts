// Business rules over a model's top-K that still return exactly k items whenever k eligible items exist:
// - filter: compiled to the eligible item set and passed to the native top-K as `include`, so the ranking runs over
//   eligible items only (never a top-K cut short by filtering afterwards);
// - boost: matching items' scores become score * multiply + add (multiply > 0). Exact by over-fetching per class:
//   the eligible items are split by which boost rules they match; within one class every item gets the same
//   increasing map of its score, so the class's top k by boosted score is its top k by model score. The overall
//   top k by boosted score lies in the union of the classes' top k, which is what is fetched (one native top-K per
//   class, `include` = the class) and then re-ranked;
// - pin: items forced to positions; the rest fill the other positions;
// - diversity: per-attribute caps (at most c items per value of an attribute) and MMR (Carbonell & Goldstein 1998):
//   pick argmax lambda rel(i) - (1 - lambda) max_{s picked} sim(i, s) from a candidate pool, rel = the boosted score
//   scaled to [0, 1] over the pool, sim = the model's item similarity (cosine of item vectors for factor models,
//   ItemKNN's neighbour similarities, EASE/SANSA's weights: the native similarItems). The pool grows until k items
//   are picked or the eligible items run out.
import { RecsysError, argError, native, show } from '../errors.js';
import { unknownIdError, type Id } from '../data/idmap.js';
import { FactorRecommender, type FoldInInput, type Recommender } from '../models/base.js';
import { addon, type TopKResult } from '../native.js';
import { explainHistory, type Explanation, type History } from '../models/explain.js';
import { ItemAttributes, type BoundAttributes, type ItemFilter } from './attributes.js';

export interface BoostRule {
  /** Which items: a filter over their attributes (as `filter`). */
  filter: ItemFilter;
  /** Score factor, > 0. Default 1. */
  multiply?: number;
  /** Added to the score (after multiply). Default 0. */
  add?: number;
}

export interface PinRule {
  item: Id;
  /** 0-based position in the answer (past the end of a shorter answer: appended). */
  position: number;
}

export interface DiversityOptions {
  /** MMR's trade-off: 1 = relevance only, 0 = novelty only. Default 1 (no MMR). */
  lambda?: number;
  /** At most this many items per value of each attribute, e.g. { category: 2 }. Items without it are not capped. */
  caps?: Readonly<Record<string, number>>;
  /** MMR's first candidate pool (the pool grows when caps need more). Default max(50, 5 k). */
  candidates?: number;
}

export interface RuleOptions {
  filter?: ItemFilter;
  boost?: readonly BoostRule[];
  pin?: readonly PinRule[];
  diversity?: DiversityOptions;
  /** Attach an explanation to each item (see explain()). Default false. */
  explain?: boolean;
}

export interface RuledRecommendation {
  item: Id;
  /** The model's score with boosts applied (a pinned item: its model score). */
  score: number;
  pinned?: true;
  explanation?: Explanation;
}

/** Who is recommended for: a known user (dense index) or a history (fold-in). */
export type RuleTarget = { user: number } | { history: History };

export interface RuleRequest extends RuleOptions {
  k: number;
  filterSeen: boolean;
  /** Dense item indices never to return. */
  exclude?: Int32Array;
  /** Dense item indices: the only candidates. */
  include?: Int32Array;
}

const MAX_BOOSTS = 8;

/** Whether a request carries any rule (the plain path is faster without). */
export function hasRules(o: RuleOptions | undefined): boolean {
  return !!o && (o.filter !== undefined || o.boost !== undefined || o.pin !== undefined || o.diversity !== undefined || o.explain !== undefined);
}

function needAttributes(attrs: ItemAttributes | undefined, what: string): ItemAttributes {
  if (!attrs) throw argError(`${what} needs item attributes (createRecommender({ attributes }) or setAttributes())`);
  return attrs;
}

function intersect(a: Int32Array, b: Int32Array): Int32Array {
  const s = new Set(b);
  return a.filter((v) => s.has(v));
}

export interface ModelRuleOptions extends RuleOptions {
  /** Default 10. */
  k?: number;
  /** Default true. */
  filterSeen?: boolean;
  /** Items never to return (unknown ids are ignored). */
  exclude?: readonly Id[];
  /** The only candidates (unknown ids are ignored). */
  include?: readonly Id[];
  /** Item attributes for filter, boost and caps: an ItemAttributes or an object / records (ItemAttributes.from). */
  attributes?: ItemAttributes | object;
}

/**
 * The model-level helper: top-k under rules for a known user id, or for a new user's `{ items, ratings? }`
 * (fold-in; unknown items ignored, none known: E_UNKNOWN_ITEM).
 */
export function recommendWithRules(model: Recommender, who: Id | FoldInInput, options: ModelRuleOptions = {}): RuledRecommendation[] {
  if (options === null || typeof options !== 'object') throw argError('options must be an object');
  const train = model.trainData;
  const k = options.k ?? 10;
  if (!Number.isInteger(k) || k < 0) throw argError(`k must be a non-negative integer, got ${show(k)}`);
  if (options.filterSeen !== undefined && typeof options.filterSeen !== 'boolean')
    throw argError(`filterSeen must be a boolean, got ${show(options.filterSeen)}`);
  const dense = (ids: readonly Id[] | undefined, name: string) => {
    if (ids === undefined) return undefined;
    if (!Array.isArray(ids)) throw argError(`${name} must be an array of item ids, got ${show(ids)}`);
    return train.items.indicesOf(ids).filter((v) => v >= 0);
  };
  let target: RuleTarget;
  if (who !== null && typeof who === 'object') {
    if (!Array.isArray(who.items)) throw argError('expected a user id or { items, ratings? }');
    if (who.ratings !== undefined && (!Array.isArray(who.ratings) || who.ratings.length !== who.items.length))
      throw argError('ratings must have one number per item');
    const idx = train.items.indicesOf(who.items);
    const keep: number[] = [];
    idx.forEach((v, p) => {
      if (v >= 0 && v < model.nativeModel.nItems) keep.push(p);
    });
    if (keep.length === 0) throw new RecsysError('E_UNKNOWN_ITEM', `${model.name}: none of the ${who.items.length} given items is known to the model`);
    target = {
      history: { items: Int32Array.from(keep, (p) => idx[p]!), values: who.ratings ? Float32Array.from(keep, (p) => who.ratings![p]!) : undefined },
    };
  } else {
    const u = train.users.index(who);
    if (u < 0 || u >= model.nativeModel.nUsers) throw unknownIdError(train.users, who, 'user', `${model.name}: `);
    target = { user: u };
  }
  const attrs = options.attributes === undefined ? undefined : ItemAttributes.from(options.attributes);
  return rankWithRules(
    model,
    target,
    { ...options, k, filterSeen: options.filterSeen ?? true, exclude: dense(options.exclude, 'exclude'), include: dense(options.include, 'include') },
    attrs,
  );
}

/**
 * Top-k under rules for a known user or a history, on `model`'s native top-K. `attributes` are needed for filter,
 * boost and caps. Throws E_ARG for a malformed rule (naming it), E_UNKNOWN_ITEM for a pinned item the model lacks.
 */
export function rankWithRules(model: Recommender, target: RuleTarget, req: RuleRequest, attributes?: ItemAttributes): RuledRecommendation[] {
  const h = model.nativeModel;
  const train = model.trainData;
  const n = h.nItems;
  const k = req.k;
  const bound: BoundAttributes | undefined = attributes?.bind(train.items);

  // ---- validate and compile ----
  let eligible: Int32Array | undefined = req.include;
  if (req.filter !== undefined) {
    needAttributes(attributes, 'filter');
    const f = bound!.eligible(req.filter, 'filter');
    eligible = eligible ? intersect(f, eligible) : f;
  }
  const boosts: { mask: Uint8Array; multiply: number; add: number }[] = [];
  if (req.boost !== undefined) {
    if (!Array.isArray(req.boost)) throw argError(`boost must be an array of { filter, multiply?, add? }, got ${show(req.boost)}`);
    if (req.boost.length > MAX_BOOSTS) throw argError(`boost has ${req.boost.length} rules; at most ${MAX_BOOSTS}`);
    needAttributes(attributes, 'boost');
    req.boost.forEach((b: BoostRule, p) => {
      if (b === null || typeof b !== 'object') throw argError(`boost[${p}] must be { filter, multiply?, add? }`);
      const multiply = b.multiply ?? 1;
      const add = b.add ?? 0;
      if (typeof multiply !== 'number' || !(multiply > 0) || !Number.isFinite(multiply))
        throw argError(`boost[${p}].multiply must be a finite number > 0, got ${show(b.multiply)}`);
      if (typeof add !== 'number' || !Number.isFinite(add)) throw argError(`boost[${p}].add must be a finite number, got ${show(b.add)}`);
      const mask = new Uint8Array(n);
      for (const i of bound!.eligible(b.filter, `boost[${p}].filter`)) if (i < n) mask[i] = 1;
      boosts.push({ mask, multiply, add });
    });
  }
  const pins: { index: number; position: number }[] = [];
  if (req.pin !== undefined) {
    if (!Array.isArray(req.pin)) throw argError(`pin must be an array of { item, position }, got ${show(req.pin)}`);
    const seenPos = new Set<number>();
    const seenItem = new Set<number>();
    req.pin.forEach((p: PinRule, q) => {
      if (p === null || typeof p !== 'object') throw argError(`pin[${q}] must be { item, position }`);
      if (!Number.isInteger(p.position) || p.position < 0 || p.position >= k)
        throw argError(`pin[${q}].position must be an integer in [0, ${k - 1}] (k = ${k}), got ${show(p.position)}`);
      const index = train.items.index(p.item);
      if (index < 0 || index >= n) throw unknownIdError(train.items, p.item, 'item', `pin[${q}]: `);
      if (seenPos.has(p.position)) throw argError(`pin[${q}].position ${p.position} is pinned twice`);
      if (seenItem.has(index)) throw argError(`pin[${q}].item ${show(p.item)} is pinned twice`);
      seenPos.add(p.position);
      seenItem.add(index);
      pins.push({ index, position: p.position });
    });
    pins.sort((a, b) => a.position - b.position);
  }
  const div = req.diversity;
  let lambda = 1;
  const caps: { key: string; max: number }[] = [];
  let candidates: number | undefined;
  if (div !== undefined) {
    if (div === null || typeof div !== 'object') throw argError(`diversity must be { lambda?, caps?, candidates? }, got ${show(div)}`);
    if (div.lambda !== undefined) {
      if (typeof div.lambda !== 'number' || !(div.lambda >= 0 && div.lambda <= 1))
        throw argError(`diversity.lambda must be a number in [0, 1], got ${show(div.lambda)}`);
      lambda = div.lambda;
    }
    if (div.caps !== undefined) {
      if (div.caps === null || typeof div.caps !== 'object' || Array.isArray(div.caps))
        throw argError(`diversity.caps must be an object { attribute: count }, got ${show(div.caps)}`);
      needAttributes(attributes, 'diversity.caps');
      for (const [key, max] of Object.entries(div.caps)) {
        if (!Number.isInteger(max) || max < 1) throw argError(`diversity.caps.${key} must be an integer >= 1, got ${show(max)}`);
        caps.push({ key, max });
      }
    }
    if (div.candidates !== undefined) {
      if (!Number.isInteger(div.candidates) || div.candidates < 1 || div.candidates > 1_000_000)
        throw argError(`diversity.candidates must be an integer in [1, 1000000], got ${show(div.candidates)}`);
      candidates = div.candidates;
    }
  }
  if (req.explain !== undefined && typeof req.explain !== 'boolean') throw argError(`explain must be a boolean, got ${show(req.explain)}`);

  // ---- the native top-K over a candidate set ----
  const exclude = pins.length ? Int32Array.from([...(req.exclude ?? []), ...pins.map((p) => p.index)]) : req.exclude;
  const topK = (kk: number, include: Int32Array | undefined, filterSeen = req.filterSeen, excl: Int32Array | null | undefined = exclude): TopKResult =>
    native(() =>
      'user' in target
        ? h.recommend(target.user, kk, filterSeen ? train.userItems(target.user) : undefined, excl ?? undefined, include)
        : h.recommendNew(target.history.items, target.history.values, kk, filterSeen, excl ?? undefined, include),
    );

  // Boost classes: the eligible items split by the set of rules they match (a bit mask of rule numbers).
  let classes: { include: Int32Array | undefined; multiply: number; add: number }[];
  if (boosts.length === 0) classes = [{ include: eligible, multiply: 1, add: 0 }];
  else {
    const byMask = new Map<number, number[]>();
    const each = (i: number) => {
      let m = 0;
      for (let b = 0; b < boosts.length; b++) if (boosts[b]!.mask[i]) m |= 1 << b;
      let l = byMask.get(m);
      if (!l) byMask.set(m, (l = []));
      l.push(i);
    };
    if (eligible) for (const i of eligible) each(i);
    else for (let i = 0; i < n; i++) each(i);
    classes = [...byMask].map(([m, items]) => {
      let multiply = 1,
        add = 0;
      for (let b = 0; b < boosts.length; b++)
        if (m & (1 << b)) {
          multiply *= boosts[b]!.multiply;
          add = add * boosts[b]!.multiply + boosts[b]!.add;
        }
      return { include: Int32Array.from(items), multiply, add };
    });
  }
  // Several classes of a known user: score every item once, then one top-K per class over that row (a native top-K
  // per class would score the whole catalogue each time).
  let row: Float32Array | undefined;
  const classTopK = (size: number, include: Int32Array | undefined): TopKResult => {
    if (classes.length === 1 || !('user' in target)) return topK(size, include);
    row ??= native(() => h.scoreUsers(Int32Array.of(target.user), 1));
    const r = row;
    return native(() => addon._topk(r, size, req.filterSeen ? train.userItems(target.user) : undefined, exclude, include));
  };
  // The top `size` eligible items by boosted score; `all` when that is every eligible candidate.
  const ranked = (size: number): { items: number[]; scores: number[]; all: boolean } => {
    const got: { i: number; s: number }[] = [];
    let all = true;
    for (const c of classes) {
      const r = classTopK(size, c.include);
      if (r.items.length >= size) all = false;
      for (let j = 0; j < r.items.length; j++) got.push({ i: r.items[j]!, s: r.scores[j]! * c.multiply + c.add });
    }
    if (classes.length > 1) got.sort((a, b) => b.s - a.s || a.i - b.i);
    const top = got.slice(0, size);
    return { items: top.map((g) => g.i), scores: top.map((g) => g.s), all };
  };

  const need = k - pins.length;
  const picked: { i: number; s: number }[] = [];
  if (need > 0) {
    if (caps.length === 0 && lambda === 1) {
      const r = ranked(need);
      for (let j = 0; j < r.items.length; j++) picked.push({ i: r.items[j]!, s: r.scores[j]! });
    } else {
      const capped = (counts: Map<string, number>, i: number) =>
        caps.some(({ key, max }) => bound!.values(i, key).some((v) => (counts.get(`${key}\u0000${String(v)}`) ?? 0) >= max));
      const count = (counts: Map<string, number>, i: number) => {
        for (const { key } of caps)
          for (const v of bound!.values(i, key)) counts.set(`${key}\u0000${String(v)}`, (counts.get(`${key}\u0000${String(v)}`) ?? 0) + 1);
      };
      let size = Math.max(candidates ?? Math.max(50, 5 * need), need);
      for (;;) {
        picked.length = 0;
        const r = ranked(size);
        const counts = new Map<string, number>();
        if (lambda === 1) {
          for (let j = 0; j < r.items.length && picked.length < need; j++)
            if (!capped(counts, r.items[j]!)) {
              picked.push({ i: r.items[j]!, s: r.scores[j]! });
              count(counts, r.items[j]!);
            }
        } else {
          mmr(
            model,
            r.items,
            r.scores,
            need,
            lambda,
            caps.length ? (i) => capped(counts, i) : undefined,
            caps.length ? (i) => count(counts, i) : undefined,
            picked,
          );
        }
        if (picked.length >= need || r.all) break;
        size *= 4;
      }
    }
  }

  // ---- pins, then the answer ----
  const out: RuledRecommendation[] = picked.map((p) => ({ item: train.items.id(p.i), score: p.s }));
  const index: number[] = picked.map((p) => p.i);
  if (pins.length) {
    const r = topK(
      pins.length,
      Int32Array.from(pins, (p) => p.index),
      false,
      null,
    );
    const score = new Map<number, number>();
    for (let j = 0; j < r.items.length; j++) score.set(r.items[j]!, r.scores[j]!);
    for (const p of pins) {
      const at = Math.min(p.position, out.length);
      out.splice(at, 0, { item: train.items.id(p.index), score: score.get(p.index) ?? NaN, pinned: true });
      index.splice(at, 0, p.index);
    }
  }
  if (req.explain) {
    const history: History = 'user' in target ? { items: train.userItems(target.user), values: train.userValues(target.user) } : target.history;
    out.forEach((o, q) => {
      const s = topK(1, Int32Array.of(index[q]!), false, null).scores[0] ?? NaN;
      o.explanation = explainHistory(model, history, index[q]!, s, { top: 5 });
    });
  }
  return out;
}

/**
 * Greedy MMR over a pool ranked by score: appends up to `need` picks to `picked`. Similarities of each pick to the
 * pool come from one native similarItems call restricted to the pool; for models whose similarities are not
 * cosines (ItemKNN, EASE, SANSA), each pick's row is scaled so its largest similarity is 1.
 */
function mmr(
  model: Recommender,
  pool: number[],
  scores: number[],
  need: number,
  lambda: number,
  capped: ((i: number) => boolean) | undefined,
  count: ((i: number) => void) | undefined,
  picked: { i: number; s: number }[],
): void {
  const h = model.nativeModel;
  const m = pool.length;
  if (m === 0) return;
  let lo = Infinity,
    hi = -Infinity;
  for (const s of scores) {
    lo = Math.min(lo, s);
    hi = Math.max(hi, s);
  }
  const rel = scores.map((s) => (hi > lo ? (s - lo) / (hi - lo) : 1));
  const maxSim = new Float64Array(m).fill(-Infinity);
  const where = new Map<number, number>();
  pool.forEach((i, p) => where.set(i, p));
  const poolIdx = Int32Array.from(pool);
  const cosine = model instanceof FactorRecommender;
  const taken = new Uint8Array(m);
  while (picked.length < need) {
    let best = -1,
      bestV = -Infinity;
    for (let p = 0; p < m; p++) {
      if (taken[p] || (capped && capped(pool[p]!))) continue;
      const v = lambda * rel[p]! - (1 - lambda) * (maxSim[p] === -Infinity ? 0 : maxSim[p]!);
      if (v > bestV) {
        bestV = v;
        best = p;
      }
    }
    if (best < 0) return;
    taken[best] = 1;
    const i = pool[best]!;
    picked.push({ i, s: scores[best]! });
    count?.(i);
    if (picked.length >= need || lambda === 1) continue;
    let r: TopKResult;
    try {
      r = native(() => h.similarItems(i, m, Int32Array.of(i), poolIdx));
    } catch (err) {
      if (err instanceof RecsysError && err.code === 'E_UNSUPPORTED')
        throw new RecsysError('E_UNSUPPORTED', `${model.name} has no item similarity for MMR diversity (use diversity.caps)`);
      throw err;
    }
    let scale = 1;
    if (!cosine) {
      let top = 0;
      for (const s of r.scores) top = Math.max(top, s);
      scale = top > 0 ? 1 / top : 1;
    }
    for (let j = 0; j < r.items.length; j++) {
      const p = where.get(r.items[j]!)!;
      const s = r.scores[j]! * scale;
      if (s > maxSim[p]!) maxSim[p] = s;
    }
    // Pool items without a similarity (not among ItemKNN's neighbours) are 0 apart.
    for (let p = 0; p < m; p++) if (maxSim[p] === -Infinity) maxSim[p] = 0;
  }
}
