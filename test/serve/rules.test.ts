// Rules (filter, boost, pin, caps, MMR) against plain references computed from the full score vector.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRecommender, EASE, ImplicitALS, ItemAttributes, recommendWithRules, recsysPlugin, type BoostRule, type Recommender } from '../../ts/index.js';
import { synthetic } from '../helpers/synthetic.js';
import { tempDir } from '../io/helpers.js';
import Fastify from 'fastify';
import fc from 'fast-check';
import { RecsysError } from '../../ts/index.js';

const quiet = { info() {}, warn() {}, error() {} };
const data = synthetic({ users: 60, items: 120, minPerUser: 5, maxPerUser: 15, seed: 3, skew: true });
const als = new ImplicitALS({ factors: 8, iterations: 6, threads: 1, seed: 1 }).fit(data);
const CATS = ['books', 'music', 'games', 'toys'];

type Rec = Record<string, string | number | boolean | string[]>;
function baseAttributes(): Record<string, Rec> {
  const out: Record<string, Rec> = {};
  for (let i = 0; i < 120; i++) {
    out[`i${i}`] = {
      category: CATS[i % 4]!,
      tags: i % 3 === 0 ? ['sale', 'new'] : i % 3 === 1 ? ['new'] : [],
      price: (i * 7) % 50,
      in_stock: i % 5 !== 0,
    };
  }
  return out;
}

/** Every item's score for user u (dense index), from the model's full score row. */
function scoresOf(model: Recommender, u: number): Float32Array {
  return model.scoreUsersDense(Int32Array.of(u));
}

/** The plain reference: all eligible unseen items, scored (with boosts), sorted, cut to k. */
function reference(
  model: Recommender,
  u: number,
  k: number,
  eligible: (i: number) => boolean,
  boost: (i: number, s: number) => number = (_i, s) => s,
): { item: string; score: number }[] {
  const s = scoresOf(model, u);
  const seen = new Set(model.trainData.userItems(u));
  const all: { i: number; s: number }[] = [];
  for (let i = 0; i < s.length; i++) if (!seen.has(i) && eligible(i)) all.push({ i, s: boost(i, s[i]!) });
  all.sort((a, b) => b.s - a.s || a.i - b.i);
  return all.slice(0, k).map((x) => ({ item: `i${x.i}`, score: x.s }));
}

function same(got: { item: unknown; score: number }[], want: { item: string; score: number }[]): void {
  expect(got.map((g) => g.item)).toEqual(want.map((w) => w.item));
  got.forEach((g, j) => expect(g.score).toBeCloseTo(want[j]!.score, 4));
}

describe('filters run inside the top-K', () => {
  it('returns exactly k when a filter removes most of the top items', () => {
    const u = 0;
    const plain = als.recommend('u0', { k: 40 }).map((r) => Number(String(r.item).slice(1)));
    // Out of stock: the user's top 40 except two of them.
    const attrs = baseAttributes();
    for (let i = 0; i < 120; i++) attrs[`i${i}`]!.in_stock = true;
    plain.forEach((i, j) => {
      if (j !== 3 && j !== 17) attrs[`i${i}`]!.in_stock = false;
    });
    const svc = createRecommender({ model: als, attributes: attrs, logger: quiet, eventLoopMetrics: false });
    // Filtering the plain top 40 afterwards would leave 2 items.
    expect(plain.filter((i) => attrs[`i${i}`]!.in_stock).length).toBe(2);
    const r = svc.recommend('u0', { k: 10, filter: { in_stock: true } });
    expect(r.items).toHaveLength(10);
    same(
      r.items,
      reference(als, u, 10, (i) => attrs[`i${i}`]!.in_stock === true),
    );
    expect(r.items[0]!.item).toBe(`i${plain[3]}`);
    expect(r.items[1]!.item).toBe(`i${plain[17]}`);
    svc.close();
  });

  it('matches the reference for equality, one-of, tags and numeric conditions on every user', () => {
    const attrs = baseAttributes();
    const svc = createRecommender({ model: als, attributes: attrs, logger: quiet, eventLoopMetrics: false });
    const filters: [object, (r: Rec) => boolean][] = [
      [{ category: 'books' }, (r) => r.category === 'books'],
      [{ category: ['books', 'toys'], in_stock: true }, (r) => (r.category === 'books' || r.category === 'toys') && r.in_stock === true],
      [{ tags: 'sale' }, (r) => (r.tags as string[]).includes('sale')],
      [{ tags: ['sale', 'new'], price: { lt: 20 } }, (r) => (r.tags as string[]).length > 0 && (r.price as number) < 20],
      [
        { price: { gte: 10, lte: 30 }, category: { notIn: ['music'] } },
        (r) => (r.price as number) >= 10 && (r.price as number) <= 30 && r.category !== 'music',
      ],
      [{ price: { gt: 45 } }, (r) => (r.price as number) > 45],
    ];
    for (const [filter, test] of filters)
      for (let u = 0; u < 60; u += 7) {
        const want = reference(als, u, 10, (i) => test(attrs[`i${i}`]!));
        const got = svc.recommend(`u${u}`, { k: 10, filter: filter as never }).items;
        same(got, want);
        // Exactly k whenever k eligible items exist.
        expect(got.length).toBe(Math.min(10, want.length === 10 ? 10 : want.length));
      }
    svc.close();
  });

  it('an item without the attribute fails a condition on it', () => {
    const svc = createRecommender({ model: als, attributes: { i1: { brand: 'x' }, i2: { brand: 'y' } }, logger: quiet, eventLoopMetrics: false });
    const got = svc.recommend('u5', { k: 10, filter: { brand: ['x', 'y'] }, filterSeen: false }).items.map((r) => r.item);
    expect(got.sort()).toEqual(['i1', 'i2']);
    svc.close();
  });
});

describe('boosts are exact', () => {
  it('equals re-ranking every eligible item by its boosted score', () => {
    const attrs = baseAttributes();
    const svc = createRecommender({ model: als, attributes: attrs, logger: quiet, eventLoopMetrics: false });
    const boost: BoostRule[] = [
      { filter: { category: 'games' }, multiply: 3 },
      { filter: { tags: 'sale' }, add: 0.05 },
      { filter: { price: { lt: 10 } }, multiply: 0.5, add: -0.01 },
    ];
    const f = (i: number, s: number) => {
      const r = attrs[`i${i}`]!;
      if (r.category === 'games') s *= 3;
      if ((r.tags as string[]).includes('sale')) s += 0.05;
      if ((r.price as number) < 10) s = s * 0.5 - 0.01;
      return s;
    };
    for (let u = 0; u < 60; u += 3)
      for (const k of [1, 5, 20]) {
        same(
          svc.recommend(`u${u}`, { k, boost }).items,
          reference(als, u, k, () => true, f),
        );
        same(
          svc.recommend(`u${u}`, { k, boost, filter: { in_stock: true } }).items,
          reference(als, u, k, (i) => attrs[`i${i}`]!.in_stock === true, f),
        );
      }
    svc.close();
  });
});

describe('pins', () => {
  it('puts items at the given positions and fills the rest in order', () => {
    const svc = createRecommender({ model: als, attributes: baseAttributes(), logger: quiet, eventLoopMetrics: false });
    const got = svc.recommend('u2', {
      k: 6,
      pin: [
        { item: 'i99', position: 0 },
        { item: 'i98', position: 4 },
      ],
    }).items;
    expect(got).toHaveLength(6);
    expect(got[0]).toMatchObject({ item: 'i99', pinned: true });
    expect(got[4]).toMatchObject({ item: 'i98', pinned: true });
    const rest = reference(als, 2, 4, (i) => i !== 99 && i !== 98);
    same([got[1]!, got[2]!, got[3]!, got[5]!], rest);
    expect(got[0]!.score).toBeCloseTo(scoresOf(als, 2)[99]!, 5);
    svc.close();
  });
});

describe('diversity', () => {
  const attrs = baseAttributes();
  const svc = createRecommender({ model: als, attributes: attrs, logger: quiet, eventLoopMetrics: false });

  it('caps: at most c per category, still k items, the greedy reference', () => {
    for (let u = 0; u < 60; u += 5) {
      const got = svc.recommend(`u${u}`, { k: 10, diversity: { caps: { category: 2 } } }).items;
      expect(got).toHaveLength(8); // 4 categories x 2
      const all = reference(als, u, 120, () => true);
      const counts = new Map<string, number>();
      const want = all.filter((r) => {
        const c = attrs[r.item]!.category as string;
        if ((counts.get(c) ?? 0) >= 2) return false;
        counts.set(c, (counts.get(c) ?? 0) + 1);
        return true;
      });
      same(got, want.slice(0, 10));
      const got3 = svc.recommend(`u${u}`, { k: 10, diversity: { caps: { category: 3 }, candidates: 10 } }).items;
      expect(got3).toHaveLength(10);
    }
  });

  it('MMR equals a plain MMR over the same pool (cosine of item factors); lambda 1 is the plain ranking', () => {
    const V = als.itemFactors!;
    const f = 8;
    const cos = (a: number, b: number) => {
      let d = 0,
        na = 0,
        nb = 0;
      for (let t = 0; t < f; t++) {
        d += V[a * f + t]! * V[b * f + t]!;
        na += V[a * f + t]! ** 2;
        nb += V[b * f + t]! ** 2;
      }
      return d / Math.sqrt(na * nb);
    };
    for (let u = 0; u < 60; u += 6) {
      same(
        svc.recommend(`u${u}`, { k: 10, diversity: { lambda: 1 } }).items,
        reference(als, u, 10, () => true),
      );
      for (const lambda of [0.7, 0.3]) {
        const pool = reference(als, u, 30, () => true).map((r) => ({ i: Number(r.item.slice(1)), s: r.score }));
        const lo = Math.min(...pool.map((p) => p.s)),
          hi = Math.max(...pool.map((p) => p.s));
        const picked: number[] = [];
        while (picked.length < 10) {
          let best = -1,
            bv = -Infinity;
          pool.forEach((p, q) => {
            if (picked.includes(q)) return;
            const sim = picked.length ? Math.max(...picked.map((x) => cos(pool[x]!.i, p.i))) : 0;
            const v = (lambda * (p.s - lo)) / (hi - lo) - (1 - lambda) * sim;
            if (v > bv) {
              bv = v;
              best = q;
            }
          });
          picked.push(best);
        }
        const got = svc.recommend(`u${u}`, { k: 10, diversity: { lambda, candidates: 30 } }).items;
        expect(got.map((g) => g.item)).toEqual(picked.map((q) => `i${pool[q]!.i}`));
      }
    }
  });

  it('MMR works for item-item models through their similarities and keeps k', () => {
    const ease = new EASE({ lambda: 50, threads: 1 }).fit(data);
    const r = recommendWithRules(ease, 'u1', { k: 10, diversity: { lambda: 0.5, caps: { category: 3 } }, attributes: attrs });
    expect(r).toHaveLength(10);
    expect(new Set(r.map((x) => x.item)).size).toBe(10);
  });
});

describe('fold-in and the model-level helper', () => {
  it('applies rules to a new user as to a known one', () => {
    const attrs = baseAttributes();
    const items = data.userItems(4);
    const hist = Array.from(items, (i) => `i${i}`);
    const viaHelper = recommendWithRules(als, { items: hist }, { k: 7, filter: { category: ['books', 'games'] }, attributes: attrs });
    const svc = createRecommender({ model: als, attributes: attrs, logger: quiet, eventLoopMetrics: false });
    const viaService = svc.recommendForItems({ items: hist }, { k: 7, filter: { category: ['books', 'games'] } }).items;
    expect(viaService.map((r) => r.item)).toEqual(viaHelper.map((r) => r.item));
    expect(viaHelper).toHaveLength(7);
    for (const r of viaHelper) expect(['books', 'games']).toContain(attrs[r.item as string]!.category);
    for (const r of viaHelper) expect(hist).not.toContain(r.item);
    svc.close();
  });
});

describe('validation', () => {
  const svc = createRecommender({ model: als, attributes: baseAttributes(), logger: quiet, eventLoopMetrics: false });
  const bad: [object, RegExp][] = [
    [{ filter: { price: { lt: 'x' } } }, /filter\.price\.lt/],
    [{ filter: { price: { below: 3 } } }, /filter\.price\.below/],
    [{ filter: [1] }, /filter must be an object/],
    [{ filter: { category: [{}] } }, /filter\.category\[0\]/],
    [{ boost: [{ filter: { category: 'books' }, multiply: 0 }] }, /boost\[0\]\.multiply/],
    [{ boost: [{ filter: { category: 'books' }, add: NaN }] }, /boost\[0\]\.add/],
    [{ boost: {} }, /boost must be an array/],
    [{ pin: [{ item: 'i1', position: 10 }] }, /pin\[0\]\.position/],
    [
      {
        pin: [
          { item: 'i1', position: 1 },
          { item: 'i2', position: 1 },
        ],
      },
      /pinned twice/,
    ],
    [{ diversity: { lambda: 2 } }, /diversity\.lambda/],
    [{ diversity: { caps: { category: 0 } } }, /diversity\.caps\.category/],
    [{ explain: 'yes' }, /explain must be a boolean/],
  ];
  it.each(bad)('%j is E_ARG naming the part', (o, re) => {
    expect(() => svc.recommend('u1', { k: 10, ...o })).toThrow(re);
    try {
      svc.recommend('u1', { k: 10, ...o });
    } catch (err) {
      expect((err as { code: string }).code).toBe('E_ARG');
    }
  });
  it('an unknown pinned item is E_UNKNOWN_ITEM; rules without attributes are E_ARG', () => {
    expect(() => svc.recommend('u1', { pin: [{ item: 'nope', position: 0 }] })).toThrow(expect.objectContaining({ code: 'E_UNKNOWN_ITEM' }));
    const bare = createRecommender({ model: als, logger: quiet, eventLoopMetrics: false });
    expect(() => bare.recommend('u1', { filter: { category: 'books' } })).toThrow(/needs item attributes/);
    bare.close();
  });
});

describe('attribute files', () => {
  it('reads JSON (both shapes) and CSV (numbers, booleans, lists), and merges', () => {
    const t = tempDir('rules');
    const dir = t.dir;
    writeFileSync(join(dir, 'a.json'), JSON.stringify([{ item: 'i1', category: 'books', price: 3 }]));
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ i2: { category: 'music' } }));
    writeFileSync(join(dir, 'c.csv'), 'item,category,tags,price,in_stock\ni3,books,sale|new,12.5,true\ni4,"toys, big",,7,false\n');
    expect(ItemAttributes.load(join(dir, 'a.json')).get('i1')).toEqual({ category: 'books', price: 3 });
    expect(ItemAttributes.load(join(dir, 'b.json')).get('i2')).toEqual({ category: 'music' });
    const c = ItemAttributes.load(join(dir, 'c.csv'));
    expect(c.get('i3')).toEqual({ category: 'books', tags: ['sale', 'new'], price: 12.5, in_stock: true });
    expect(c.get('i4')).toEqual({ category: 'toys, big', price: 7, in_stock: false });
    const svc = createRecommender({ model: als, attributes: join(dir, 'c.csv'), logger: quiet, eventLoopMetrics: false });
    expect(svc.recommend('u0', { filter: { tags: 'sale' }, filterSeen: false }).items.map((r) => r.item)).toEqual(['i3']);
    expect(svc.setAttributes({ i5: { tags: ['sale'] } }, { merge: true })).toEqual({ items: 3 });
    expect(
      svc
        .recommend('u0', { filter: { tags: 'sale' }, filterSeen: false })
        .items.map((r) => r.item)
        .sort(),
    ).toEqual(['i3', 'i5']);
    expect(() => ItemAttributes.load(join(dir, 'missing.json'))).toThrow(expect.objectContaining({ code: 'E_IO' }));
    expect(() => ItemAttributes.from({ i1: { price: Infinity } })).toThrow(/price must be finite/);
    svc.close();
    t.remove();
  });
});

describe('over HTTP', () => {
  it('takes rules in the POST bodies, answers errors in the usual shape, explains', async () => {
    const attrs = baseAttributes();
    const app = Fastify();
    await app.register(recsysPlugin, { model: als, attributes: attrs, eventLoopMetrics: false });
    const body = { k: 5, filter: { category: ['books'], in_stock: true, price: { lt: 40 } }, explain: true };
    const r = await app.inject({ method: 'POST', url: '/v1/users/u3/recommendations', payload: body });
    expect(r.statusCode).toBe(200);
    const items = r.json<{ items: { item: string; score: number; explanation: { method: string; contributions: unknown[] } }[] }>().items;
    same(
      items,
      reference(als, 3, 5, (i) => attrs[`i${i}`]!.category === 'books' && attrs[`i${i}`]!.in_stock === true && (attrs[`i${i}`]!.price as number) < 40),
    );
    expect(items[0]!.explanation.method).toBe('als-decomposition');
    expect(items[0]!.explanation.contributions.length).toBeGreaterThan(0);
    const bad = await app.inject({ method: 'POST', url: '/v1/users/u3/recommendations', payload: { filter: { price: { lt: 'cheap' } } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: { code: 'E_ARG', message: expect.stringContaining('filter.price.lt') } });
    const fold = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { items: ['i1', 'i2'], k: 4, pin: [{ item: 'i7', position: 2 }] } });
    expect(fold.json()).toMatchObject({ items: expect.any(Array) });
    const foldEx = await app.inject({ method: 'POST', url: '/v1/recommendations', payload: { items: ['i1', 'i2'], k: 2, explain: true } });
    const fx = foldEx.json<{ items: { explanation: { method: string; contributions: { item: string }[] } }[] }>().items;
    expect(fx).toHaveLength(2);
    expect(fx[0]!.explanation.contributions.map((c) => c.item).sort()).toEqual(['i1', 'i2']);
    expect(fold.json<{ items: { item: string }[] }>().items.map((x) => x.item)[2]).toBe('i7');
    const batch = await app.inject({
      method: 'POST',
      url: '/v1/recommendations/batch',
      payload: { users: ['u1', 'zz'], k: 3, diversity: { caps: { category: 1 } } },
    });
    const res = batch.json<{ results: { items?: { item: string }[] }[] }>().results;
    expect(new Set(res[0]!.items!.map((x) => attrs[x.item]!.category)).size).toBe(3);
    const ex = await app.inject({ url: '/v1/users/u3/items/i10/explanation?top=3' });
    expect(ex.statusCode).toBe(200);
    expect(ex.json<{ contributions: unknown[] }>().contributions.length).toBeLessThanOrEqual(3);
    const up = await app.inject({ method: 'POST', url: '/v1/items/attributes', payload: { attributes: { i1: { category: 'x' } }, merge: true } });
    expect(up.json()).toEqual({ items: 120 });
    await app.close();
  });
});

describe('properties', () => {
  const attrs = baseAttributes();
  const svc = createRecommender({ model: als, attributes: attrs, logger: quiet, eventLoopMetrics: false });
  const cat = fc.constantFrom(...CATS);
  const cond = fc.oneof(
    cat.map((c) => ({ key: 'category', value: c, test: (r: Rec) => r.category === c })),
    fc.array(cat, { maxLength: 3 }).map((cs) => ({ key: 'category', value: cs, test: (r: Rec) => cs.includes(r.category as string) })),
    fc.constantFrom('sale', 'new').map((t) => ({ key: 'tags', value: t, test: (r: Rec) => (r.tags as string[]).includes(t) })),
    fc.integer({ min: 0, max: 50 }).map((x) => ({ key: 'price', value: { lt: x }, test: (r: Rec) => (r.price as number) < x })),
    fc.boolean().map((b) => ({ key: 'in_stock', value: b, test: (r: Rec) => r.in_stock === b })),
  );
  const filterArb = fc.array(cond, { maxLength: 2 }).map((cs) => {
    const byKey = new Map(cs.map((c) => [c.key, c]));
    return { filter: Object.fromEntries([...byKey].map(([k, c]) => [k, c.value])), test: (r: Rec) => [...byKey.values()].every((c) => c.test(r)) };
  });
  const boostArb = fc.record({
    f: filterArb,
    multiply: fc.double({ min: 0.05, max: 8, noNaN: true }),
    add: fc.double({ min: -1, max: 1, noNaN: true }),
  });

  it('filter + boosts equal the full re-ranking for any rules, user and k (exactly min(k, eligible) items)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 1, max: 40 }), filterArb, fc.array(boostArb, { maxLength: 3 }), (u, k, f, boosts) => {
        const got = svc.recommend(`u${u}`, {
          k,
          filter: f.filter,
          boost: boosts.map((b) => ({ filter: b.f.filter as never, multiply: b.multiply, add: b.add })),
        }).items;
        const want = reference(
          als,
          u,
          k,
          (i) => f.test(attrs[`i${i}`]!),
          (i, s) => boosts.reduce((x, b) => (b.f.test(attrs[`i${i}`]!) ? x * b.multiply + b.add : x), s),
        );
        expect(got.map((g) => g.item)).toEqual(want.map((w) => w.item));
        got.forEach((g, j) => expect(Math.abs(g.score - want[j]!.score)).toBeLessThan(1e-4 * (1 + Math.abs(want[j]!.score))));
      }),
      { numRuns: 150, seed: 7 },
    );
  });

  it('junk in any rule field is a RecsysError, never a crash', () => {
    const junk = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.constant(NaN),
      fc.integer({ min: -3, max: 200 }),
      fc.double(),
      fc.string({ maxLength: 4 }),
      fc.boolean(),
      fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 3 }), fc.constant(null), fc.object({ maxDepth: 1 })), { maxLength: 4 }),
      fc.object({ maxDepth: 2 }),
    );
    const field = fc.constantFrom('filter', 'boost', 'pin', 'diversity', 'explain');
    fc.assert(
      fc.property(field, junk, fc.boolean(), (name, value, foldIn) => {
        try {
          const o = { k: 5, [name]: value };
          const r = foldIn ? svc.recommendForItems({ items: ['i1', 'i2'] }, o) : svc.recommend('u1', o);
          expect(r.items.length).toBeLessThanOrEqual(5);
        } catch (err) {
          expect(err).toBeInstanceOf(RecsysError);
        }
      }),
      { numRuns: 400, seed: 3 },
    );
  });
});
