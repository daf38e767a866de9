// Interaction-file parsing speed: Dataset.fromFile from the call to a ready Dataset (read, parse, id maps, CSR),
// median of several runs. The parser is single-threaded (one libuv worker). Inputs: ML-100K u.data (skipped with
// a message when the shared datasets are absent), the partial ML-1M ratings, and a generated 1M-line file in the
// ml-100k layout written to a temp dir.  Run: npx tsx bench/parse.ts [runs]
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataset, findDatasetDir, type FromFileOptions } from '../ts/index.js';

const runs = Number(process.argv[2] ?? 7);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function measure(label: string, path: string, options: FromFileOptions): Promise<void> {
  await Dataset.fromFile(path, options); // warm the page cache and the code
  const times: number[] = [];
  let ds: Dataset | undefined;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    ds = await Dataset.fromFile(path, options);
    times.push((performance.now() - t0) / 1000);
  }
  const mb = statSync(path).size / 2 ** 20;
  const med = median(times);
  console.log(
    `${label.padEnd(28)} ${String(ds!.nnz + ds!.duplicatesMerged).padStart(8)} lines  ${mb.toFixed(1).padStart(5)} MiB  median ${med.toFixed(3)} s` +
      `  (min ${Math.min(...times).toFixed(3)}, max ${Math.max(...times).toFixed(3)}; ${(ds!.nnz / med / 1e6).toFixed(1)} M lines/s)`,
  );
}

/** A deterministic ml-100k-style file: 1M lines, 70k users, 20k items with a skewed popularity. */
function generate(path: string, lines: number): void {
  let s = 0x9e3779b9;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const parts: string[] = [];
  for (let k = 0; k < lines; k++) {
    const u = 1 + Math.floor(rnd() * 70000);
    const i = 1 + Math.floor(20000 * rnd() ** 2);
    parts.push(`${u}\t${i}\t${1 + Math.floor(rnd() * 5)}\t${874724710 + Math.floor(rnd() * 2e7)}\n`);
  }
  writeFileSync(path, parts.join(''));
}

console.log(`parse benchmark: ${runs} runs each, parser on 1 thread; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}`);
const ml100k = findDatasetDir('ml-100k');
if (ml100k.dir) await measure('ML-100K u.data', join(ml100k.dir, 'u.data'), { format: 'movielens-100k' });
else console.log(`skipping ML-100K: not found; looked in ${ml100k.searched.join(', ')}`);
const ml1m = findDatasetDir('ml-1m');
if (ml1m.dir) await measure('ML-1M ratings (partial)', join(ml1m.dir, 'ratings.partial-users-1-2999.dat'), { format: 'movielens-1m' });
else console.log(`skipping ML-1M: not found; looked in ${ml1m.searched.join(', ')}`);
const dir = mkdtempSync(join(tmpdir(), 'recsys-bench-'));
try {
  const path = join(dir, 'generated-1m.data');
  generate(path, 1_000_000);
  await measure('generated 1M lines (tab)', path, { format: 'movielens-100k' });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
