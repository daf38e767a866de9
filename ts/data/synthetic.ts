import { argError, show } from '../errors.js';
import { Dataset } from './dataset.js';
import { IdMap } from './idmap.js';

export interface PlantedOptions {
  users?: number;
  items?: number;
  /** Taste groups; each likes its own slice of the catalogue. Default 6. */
  groups?: number;
  /** Interactions per user. Default 40. */
  perUser?: number;
  /** Share of a user's interactions inside their group's slice. Default 0.8. */
  affinity?: number;
  seed?: number;
}

const GENRES = ['Noir', 'Sci-Fi', 'Comedy', 'Western', 'Horror', 'Musical', 'Documentary', 'Romance', 'Anime', 'Thriller'];

/**
 * A generated dataset with planted taste groups: user u belongs to group u mod G, items are split into G
 * slices, users mostly rate their slice (ratings 4-5) and sometimes others (1-3); popularity within a slice is
 * skewed. Built in, so the demo and tests run without any downloaded data. Titles say which slice an item is in.
 */
export function plantedDataset(options: PlantedOptions = {}): Dataset {
  const nUsers = options.users ?? 600;
  const nItems = options.items ?? 400;
  const groups = options.groups ?? 6;
  const perUser = options.perUser ?? 40;
  const affinity = options.affinity ?? 0.8;
  const seed = options.seed ?? 42;
  for (const [k, v] of Object.entries({ users: nUsers, items: nItems, groups, perUser })) {
    if (!Number.isInteger(v) || v < 1) throw argError(`${k} must be a positive integer, got ${show(v)}`);
  }
  if (groups > nItems) throw argError('groups must not exceed items');
  if (!(affinity >= 0 && affinity <= 1)) throw argError('affinity must be in [0, 1]');
  let s = seed >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const sliceOf = (i: number) => Math.floor((i * groups) / nItems);
  const sliceStart = (g: number) => Math.ceil((g * nItems) / groups);
  const rows: number[] = [];
  const cols: number[] = [];
  const vals: number[] = [];
  const times: number[] = [];
  const take = Math.min(perUser, nItems);
  for (let u = 0; u < nUsers; u++) {
    const g = u % groups;
    const lo = sliceStart(g),
      hi = sliceStart(g + 1);
    const chosen = new Set<number>();
    let guard = 0;
    while (chosen.size < take && guard++ < take * 50) {
      // Skewed pick inside the slice (squared uniform favours its first items), uniform outside.
      const i = rnd() < affinity ? lo + Math.floor(rnd() ** 2 * (hi - lo)) : Math.floor(rnd() * nItems);
      chosen.add(i);
    }
    let t = 1_000_000_000 + u * 1000;
    for (const i of chosen) {
      rows.push(u);
      cols.push(i);
      vals.push(sliceOf(i) === g ? 4 + Math.round(rnd()) : 1 + Math.floor(rnd() * 3));
      times.push(t++);
    }
  }
  const users = new IdMap(Array.from({ length: nUsers }, (_, u) => u + 1));
  const items = new IdMap(Array.from({ length: nItems }, (_, i) => i + 1));
  const ds = Dataset.fromCoo(users, items, Int32Array.from(rows), Int32Array.from(cols), Float32Array.from(vals), Float64Array.from(times));
  ds.itemInfo = Array.from({ length: nItems }, (_, i) => {
    const g = sliceOf(i);
    return { title: `${GENRES[g % GENRES.length]}${g >= GENRES.length ? ` ${Math.floor(g / GENRES.length) + 1}` : ''} #${i - sliceStart(g) + 1}`, group: g };
  });
  return ds;
}
