// Locates the shared MovieLens files (never copied into the repo) and parses ML-100k's u.data for tests that
// check published figures. Tests skip, saying so, when the files are absent.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Dataset } from '../../ts/data/dataset.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function dataDir(): string {
  return process.env.RECSYS_DATA_DIR ?? resolve(root, '..', 'shared', 'datasets');
}

export function ml100kPath(file = 'u.data'): string | undefined {
  const p = join(dataDir(), 'ml-100k', file);
  return existsSync(p) ? p : undefined;
}

/** ML-100k's tab-separated `user item rating timestamp` lines as a Dataset (ids kept as numbers). */
export function loadMl100k(file = 'u.data'): Dataset {
  const p = ml100kPath(file);
  if (!p) throw new Error(`ml-100k/${file} not found under ${dataDir()}`);
  const lines = readFileSync(p, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const users = new Array<number>(lines.length);
  const items = new Array<number>(lines.length);
  const ratings = new Float32Array(lines.length);
  const times = new Float64Array(lines.length);
  lines.forEach((l, j) => {
    const f = l.split('\t');
    users[j] = Number(f[0]);
    items[j] = Number(f[1]);
    ratings[j] = Number(f[2]);
    times[j] = Number(f[3]);
  });
  return Dataset.fromArrays({ users, items, ratings, timestamps: times });
}
