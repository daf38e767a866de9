// The data layer imports one way: readers (parse, iteminfo, bigdata) hand plain parts to dataset.ts and never
// import it, so no module of ts/data is in an import cycle (type-only and dynamic imports count, as for madge).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../ts', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of files(root)) {
    const deps: string[] = [];
    for (const m of readFileSync(f, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
      deps.push(normalize(join(dirname(f), m[1]!.replace(/\.js$/, '.ts'))));
    }
    g.set(f, deps);
  }
  return g;
}

/** Every cycle through `start`, as module paths relative to ts/. */
function cyclesThrough(g: Map<string, string[]>, start: string): string[][] {
  const out: string[][] = [];
  const seen = new Set<string>();
  const walk = (v: string, path: string[]) => {
    for (const w of g.get(v) ?? []) {
      if (w === start) out.push([...path, w].map((p) => relative(root, p)));
      else if (!seen.has(w) && !path.includes(w)) {
        seen.add(w);
        walk(w, [...path, w]);
      }
    }
  };
  walk(start, [start]);
  return out;
}

describe('ts/data imports', () => {
  it('no module of ts/data is in an import cycle', () => {
    const g = graph();
    const cycles = [...g.keys()].filter((f) => relative(root, f).startsWith('data')).flatMap((f) => cyclesThrough(g, f));
    expect(cycles).toEqual([]);
  });
});
