// Models and servers for the HTTP tests.
import { Dataset, Popularity, BaselineOnly, createServer, type RecsysServer, type ServerOptions } from '../../ts/index.js';
import { mulberry32 } from '../helpers/random.js';

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

export function popularity(): Popularity {
  return new Popularity().fit(numericData());
}

export function baseline(): BaselineOnly {
  return new BaselineOnly().fit(numericData());
}

export async function server(options: ServerOptions): Promise<RecsysServer> {
  return createServer({ logger: false, eventLoopMetrics: false, ...options });
}
