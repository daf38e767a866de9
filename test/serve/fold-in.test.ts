// Fold-in with no known item: one rule for the API, the CLI and HTTP (routes.test.ts) — E_UNKNOWN_ITEM, or the
// popularity fallback when asked for. Before, the models scored from nothing: every item at 0, in arbitrary order.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ImplicitALS, ItemKNN, RecsysError, type Recommender } from '../../ts/index.js';
import { recommendCommand } from '../../ts/cli/recommend.js';
import { tempDir } from '../io/helpers.js';
import { numericData, popularity } from './fixtures.js';

const tmp = tempDir('recsys-foldin-');
afterAll(() => tmp.remove());
afterEach(() => vi.restoreAllMocks());

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return err instanceof RecsysError ? err.code : `not a RecsysError: ${String(err)}`;
  }
  return undefined;
}

// The items by training interactions, most first (ties: lower dense index first).
function byPopularity(m: Recommender): { item: unknown; score: number }[] {
  const d = m.trainData;
  const rows = d.items.ids.map((item, i) => ({ item, score: d.csc.indptr[i + 1]! - d.csc.indptr[i]!, i }));
  rows.sort((a, b) => b.score - a.score || a.i - b.i);
  return rows.map(({ item, score }) => ({ item, score }));
}

describe('recommendForNewUser with no known item', () => {
  const data = numericData();
  const models: [string, Recommender][] = [
    ['ImplicitALS', new ImplicitALS({ factors: 4, iterations: 3, threads: 1 }).fit(data)],
    ['ItemKNN', new ItemKNN({ threads: 1 }).fit(data)],
    ['Popularity', popularity()],
  ];
  it.each(models)('%s: E_UNKNOWN_ITEM by default, the most popular items with fallback: popularity', (_name, m) => {
    expect(code(() => m.recommendForNewUser({ items: [] }))).toBe('E_UNKNOWN_ITEM');
    expect(code(() => m.recommendForNewUser({ items: ['nope', 5] }, { k: 3 }))).toBe('E_UNKNOWN_ITEM');
    expect(() => m.recommendForNewUser({ items: ['nope'] })).toThrow(/none of the 1 given items is known/);
    const top = byPopularity(m);
    expect(m.recommendForNewUser({ items: ['nope'] }, { k: 5, fallback: 'popularity' })).toEqual(top.slice(0, 5));
    expect(m.recommendForNewUser({ items: [] }, { k: 3, fallback: 'popularity', exclude: [top[0]!.item as number] })).toEqual(top.slice(1, 4));
    expect(m.recommendForNewUser({ items: [] }, { k: 3, fallback: 'popularity', include: [top[7]!.item as number] })).toEqual([top[7]]);
    expect(code(() => m.recommendForNewUser({ items: [] }, { fallback: 'popular' as never }))).toBe('E_ARG');
    // A known item among unknown ones folds in as before (unknown ids ignored).
    expect(m.recommendForNewUser({ items: ['nope', 101] }, { k: 4 })).toEqual(m.recommendForNewUser({ items: [101] }, { k: 4 }));
  });
});

describe('recsys recommend --items', () => {
  const m = new ImplicitALS({ factors: 4, iterations: 3, threads: 1 }).fit(numericData());
  const file = tmp.path('als.rsm');
  m.save(file);
  async function run(args: string[]): Promise<{ out: string; err: string }> {
    const out: string[] = [],
      err: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    vi.spyOn(console, 'error').mockImplementation((s: string) => void err.push(s));
    try {
      await recommendCommand(args);
    } finally {
      vi.restoreAllMocks();
    }
    return { out: out.join('\n'), err: err.join('\n') };
  }

  it('follows the API: unknown ids ignored (and named), none known is E_UNKNOWN_ITEM unless --fallback popularity', async () => {
    const some = await run(['--model', file, '--items', '101,nope', '--k', '3', '--json']);
    expect(JSON.parse(some.out)).toEqual({ items: m.recommendForNewUser({ items: [101] }, { k: 3 }) });
    expect(some.err).toMatch(/ignoring 1 unknown item\(s\): nope/);
    await expect(run(['--model', file, '--items', 'nope,zip', '--json'])).rejects.toMatchObject({ code: 'E_UNKNOWN_ITEM' });
    const fb = await run(['--model', file, '--items', 'nope', '--k', '3', '--json', '--fallback', 'popularity']);
    expect(JSON.parse(fb.out)).toEqual({ fallback: 'popularity', items: byPopularity(m).slice(0, 3) });
    const table = await run(['--model', file, '--items', 'nope', '--k', '3', '--fallback', 'popularity']);
    expect(table.out).toMatch(/popularity fallback/);
    await expect(run(['--model', file, '--user', '7', '--fallback', 'popularity'])).rejects.toMatchObject({ code: 'E_ARG' });
  });
});
