// recommendForNewUser (fold-in) on fitted models of every class with hostile items, ratings and options.
// Oracle: a RecsysError, or a well-formed list (k respected, ids of the model, none of the given or excluded
// items when seen items are filtered, only included ones, finite sorted scores). Ratings that are not finite
// numbers, and items that are not ids at all (null, true, {}), must be refused, not coerced or dropped silently.
import { RecsysError, type Recommender } from '../../../ts/index.js';
import { EDGE_NUMBERS, HOSTILE, showValue } from '../gen.js';
import { checkRecs, coercion, validK, type Target } from '../target.js';
import { fittedModels } from './fitted.js';

interface Case {
  model: string;
  input: unknown;
  options: unknown;
  /** Why the input must be refused (empty: it may succeed). */
  invalid: string[];
}
type Ctx = Map<string, Recommender>;

const isId = (v: unknown) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

export const target: Target<Case, Ctx> = {
  name: 'foldin',
  setup: () => fittedModels(),
  gen(g, ctx) {
    const model = g.pick([...ctx.keys()]);
    const m = ctx.get(model)!;
    const ids = m.trainData.items.ids;
    const invalid: string[] = [];
    const n = g.size(12, 5000);
    const items: unknown[] = g.array(n, () =>
      g.weighted<unknown>([
        [10, () => g.pick(ids)],
        [
          2,
          () => {
            const id = g.pick(ids);
            return typeof id === 'number' ? String(id) : id;
          },
        ],
        [2, () => g.pick(['nope', 99999, -1, '', 'i999', 1.5])],
        [1, () => g.pick(EDGE_NUMBERS)],
      ]),
    );
    // Now and then a value that is no id at all.
    if (n && g.bool(0.2))
      for (let j = g.int(1, 2); j > 0; j--) items[g.int(0, n - 1)] = g.bool(0.8) ? g.pick(HOSTILE)[1]() : g.pick([NaN, Infinity, -Infinity]);
    items.forEach((v, p) => {
      if (!isId(v)) invalid.push(`items[${p}] = ${showValue(v)}`);
    });
    let ratings: unknown = undefined;
    g.weighted<void>([
      [5, () => {}],
      [
        4,
        () => {
          const r: unknown[] = g.array(n, () => g.pick([1, 2, 3, 4, 5, 0.5, 0, -1, 1e6]));
          if (n && g.bool(0.3)) {
            const p = g.int(0, n - 1);
            const edge = g.pick(EDGE_NUMBERS);
            const [label, f] = g.bool(0.8) ? g.pick(HOSTILE) : ([String(edge), () => edge] as const);
            r[p] = f();
            // A rating of an item the model does not know is dropped with its item; a known one must be a number.
            if ((m.trainData.items.has(items[p] as never) && typeof r[p] !== 'number') || !Number.isFinite(r[p]) || Math.abs(r[p] as number) > 3.4e38)
              invalid.push(`ratings[${p}] = ${label}`);
          }
          ratings = r;
        },
      ],
      [
        1,
        () => {
          ratings = g.bool() ? g.array(n + 1, () => 3) : g.pick(HOSTILE)[1]();
          const fine =
            ratings === undefined || (Array.isArray(ratings) && ratings.length === n && ratings.every((x) => typeof x === 'number' && Number.isFinite(x)));
          if (!fine) invalid.push(`ratings = ${showValue(ratings)}`);
        },
      ],
    ]);
    const input = g.weighted<unknown>([
      [20, () => (ratings === undefined ? { items } : { items, ratings })],
      [
        1,
        () => {
          const v = g.pick(HOSTILE)[1]();
          invalid.push(`input = ${showValue(v)}`);
          return v;
        },
      ],
    ]);
    const options: Record<string, unknown> = {};
    if (g.bool(0.7))
      options.k = g.weighted<unknown>([
        [6, () => g.int(1, 40)],
        [1, () => g.pick(EDGE_NUMBERS)],
        [1, () => g.pick(HOSTILE)[1]()],
      ]);
    if (g.bool(0.2)) options.exclude = g.bool(0.8) ? g.array(g.int(0, 5), () => g.pick(ids)) : g.pick(HOSTILE)[1]();
    if (g.bool(0.15)) options.include = g.bool(0.8) ? g.array(g.int(0, 8), () => g.pick(ids)) : g.pick(HOSTILE)[1]();
    if (g.bool(0.2)) options.filterSeen = g.bool(0.7) ? g.bool() : g.pick(HOSTILE)[1]();
    const o = g.bool(0.03) ? g.pick(HOSTILE)[1]() : options;
    if (o !== undefined && (o === null || typeof o !== 'object')) invalid.push(`options = ${showValue(o)}`);
    // The API takes k >= 0 (k = 0: an empty list); HTTP takes k >= 1 (its own target checks that).
    const kOk = (k: unknown) => typeof k === 'number' && Number.isInteger(k) && k >= 0;
    // When a hostile value replaced the options object, its fields were never passed: nothing to check.
    if (o === options) {
      if (options.k !== undefined && !kOk(options.k)) invalid.push(`k = ${showValue(options.k)}`);
      if (options.filterSeen !== undefined && typeof options.filterSeen !== 'boolean') invalid.push(`filterSeen = ${showValue(options.filterSeen)}`);
      for (const key of ['exclude', 'include'] as const)
        if (options[key] !== undefined && !Array.isArray(options[key])) invalid.push(`${key} = ${showValue(options[key])}`);
    }
    return { model, input, options: o, invalid };
  },
  show: (c) =>
    `${c.model}.recommendForNewUser(${showValue(c.input)}, ${showValue(c.options)})${c.invalid.length ? ` — invalid: ${c.invalid.slice(0, 5).join('; ')}` : ''}`,
  run(c, ctx) {
    const m = ctx.get(c.model)!;
    let recs: unknown;
    try {
      recs = m.recommendForNewUser(c.input as never, c.options as never);
    } catch (e) {
      if (e instanceof RecsysError) throw e;
      throw e;
    }
    if (c.invalid.length) coercion(`accepted ${c.invalid.slice(0, 5).join('; ')}`);
    const o = (c.options ?? {}) as Record<string, unknown>;
    const given = ((c.input as { items: unknown[] }).items ?? []).map((v) =>
      typeof v === 'string' && m.trainData.items.has(Number(v) as never) && !m.trainData.items.has(v as never) ? Number(v) : v,
    );
    const k = validK(o.k) ?? 10;
    checkRecs(recs, {
      k,
      has: (id) => m.trainData.items.has(id as never),
      forbidden: [...(Array.isArray(o.exclude) ? o.exclude : []), ...(o.filterSeen === false ? [] : given)],
      allowed: Array.isArray(o.include) && o.include.length ? o.include : undefined,
      what: 'recommendForNewUser',
    });
  },
};
