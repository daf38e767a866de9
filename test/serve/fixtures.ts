// Models and servers for the HTTP tests.
import { Dataset, ImplicitALS, Popularity, BaselineOnly, createServer, type RecsysServer, type ServerOptions } from '../../ts/index.js';
import { existsSync, readdirSync } from 'node:fs';
import { mulberry32 } from '../helpers/random.js';

/** A logger that drops everything (services under test that would otherwise print). */
export const quiet = { info() {}, warn() {}, error() {} };

/** The event-log segment files of a directory, oldest first (none when it does not exist). */
export const segmentsIn = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.log'))
        .sort()
    : [];

/** Numeric user and item ids (users 1..40, items 100..159), 8 interactions per user, ratings 1..5. */
export function numericData(): Dataset {
  const rnd = mulberry32(17);
  const users: number[] = [],
    items: number[] = [],
    ratings: number[] = [];
  for (let u = 1; u <= 40; u++) {
    const chosen = new Set<number>();
    while (chosen.size < 8) chosen.add(100 + Math.floor(rnd() ** 2 * 60));
    for (const i of chosen) {
      users.push(u);
      items.push(i);
      ratings.push(1 + Math.floor(rnd() * 5));
    }
  }
  return Dataset.fromArrays({ users, items, ratings });
}

/**
 * Implicit data for the live-service tests: 60 users 'u0'.. with 4-11 items each, in two taste groups (even users
 * items 0-19, odd users 20-39, popular items first), so that an event moves a user's list in a predictable
 * direction. `seed` 5 is the data most tests use.
 */
export function twoGroupData(seed = 5): Dataset {
  const rnd = mulberry32(seed);
  const users: string[] = [];
  const items: number[] = [];
  for (let u = 0; u < 60; u++) {
    const chosen = new Set<number>();
    const n = 4 + Math.floor(rnd() * 8);
    while (chosen.size < n) chosen.add((u % 2) * 20 + Math.floor(rnd() ** 1.5 * 20));
    for (const i of chosen) {
      users.push(`u${u}`);
      items.push(i);
    }
  }
  return Dataset.fromArrays({ users, items });
}

/** The small ImplicitALS the live-service tests serve (one thread: the same vectors on every run). */
export function liveAls(data: Dataset = twoGroupData()): ImplicitALS {
  return new ImplicitALS({ factors: 8, iterations: 10, reg: 0.1, alpha: 2, seed: 3, threads: 1 }).fit(data);
}

export function popularity(): Popularity {
  return new Popularity().fit(numericData());
}

export function baseline(): BaselineOnly {
  return new BaselineOnly().fit(numericData());
}

export async function server(options: ServerOptions): Promise<RecsysServer> {
  return createServer({ logger: false, eventLoopMetrics: false, ...options });
}
