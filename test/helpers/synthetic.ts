// Small synthetic datasets for unit tests, generated with the seeded TS generator (no fixtures on disk).
import { Dataset } from '../../ts/data/dataset.js';
import { IdMap } from '../../ts/data/idmap.js';
import { Rng } from '../../ts/rng.js';

export interface SyntheticOptions {
  users: number;
  items: number;
  /** Interactions per user are drawn uniformly in [minPerUser, maxPerUser]. */
  minPerUser: number;
  maxPerUser: number;
  seed?: number;
  /** Ratings 1..5 (default true) and timestamps (default true). */
  ratings?: boolean;
  timestamps?: boolean;
  /** Skew item popularity (weight about 1/(i+1)) so rankings have structure. */
  skew?: boolean;
}

/** Users 'u0'.., items 'i0'..; dense index = the number in the id (every item is in the map, used or not). */
export function synthetic(o: SyntheticOptions): Dataset {
  const rng = new Rng(o.seed ?? 1);
  const rows: number[] = [];
  const cols: number[] = [];
  const ratings: number[] = [];
  const times: number[] = [];
  for (let u = 0; u < o.users; u++) {
    const n = Math.min(o.items, o.minPerUser + rng.below(o.maxPerUser - o.minPerUser + 1));
    const chosen = new Set<number>();
    while (chosen.size < n) {
      const i = o.skew ? Math.min(o.items - 1, Math.floor(Math.exp(rng.uniform() * Math.log(o.items + 1)) - 1)) : rng.below(o.items);
      chosen.add(i);
    }
    for (const i of chosen) {
      rows.push(u);
      cols.push(i);
      ratings.push(1 + rng.below(5));
      times.push(1_000_000 + rng.below(500));
    }
  }
  const users = new IdMap(Array.from({ length: o.users }, (_, u) => `u${u}`));
  const items = new IdMap(Array.from({ length: o.items }, (_, i) => `i${i}`));
  return Dataset.fromCoo(
    users,
    items,
    Int32Array.from(rows),
    Int32Array.from(cols),
    o.ratings === false ? undefined : Float32Array.from(ratings),
    o.timestamps === false ? undefined : Float64Array.from(times),
  );
}

/** Interactions of a dataset as sorted "user|item|rating|time" strings (for set comparisons). */
export function triples(ds: Dataset): string[] {
  const { rows, cols, values, times } = ds.toCoo();
  const out: string[] = [];
  for (let p = 0; p < rows.length; p++) out.push(`${String(ds.users.id(rows[p]!))}|${String(ds.items.id(cols[p]!))}|${values?.[p] ?? ''}|${times?.[p] ?? ''}`);
  return out.sort();
}

/**
 * 6 users x 4 ratings each over 7 items (user u rates items u..u+3 mod 7), rating = value(u, j): small data for
 * tests of rating magnitudes (e.g. scores that would overflow float).
 */
export function scaledRatings(value: (u: number, j: number) => number): Dataset {
  const users: number[] = [],
    items: number[] = [],
    ratings: number[] = [];
  for (let u = 0; u < 6; u++)
    for (let j = 0; j < 4; j++) {
      users.push(u);
      items.push((u + j) % 7);
      ratings.push(value(u, j));
    }
  return Dataset.fromArrays({ users, items, ratings });
}
