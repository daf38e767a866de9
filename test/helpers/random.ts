// Small seeded generators for tests (tests make their own data; shared datasets are never copied).
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomMatrix(rows: number, cols: number, rnd: () => number): Float32Array {
  const m = new Float32Array(rows * cols);
  for (let i = 0; i < m.length; i++) m[i] = rnd() * 2 - 1;
  return m;
}

/** Random interactions: each user rates `perUser` distinct items, ratings 1..5. */
export function randomInteractions(nUsers: number, nItems: number, perUser: number, rnd: () => number) {
  const users: number[] = [];
  const items: number[] = [];
  const ratings: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    const chosen = new Set<number>();
    while (chosen.size < Math.min(perUser, nItems)) chosen.add(Math.floor(rnd() * nItems));
    for (const i of chosen) {
      users.push(u);
      items.push(i);
      ratings.push(1 + Math.floor(rnd() * 5));
    }
  }
  return { users, items, ratings };
}
