// Pieces the train / evaluate / recommend / similar / serve commands share: reading data files, model names and
// --set parameters, the progress bar, and output (text or --json).
import { statSync } from 'node:fs';
import { argError } from '../errors.js';
import { Dataset } from '../data/dataset.js';
import { unknownIdError, type Id, type IdMap } from '../data/idmap.js';
import { loadMovieLens } from '../data/movielens.js';
import { guessFormat, type FileFormat, type FromFileOptions } from '../data/parse.js';
import type { FitProgress } from '../native.js';
import { modelEntry, models, type ModelEntry } from '../models/registry.js';

export const FORMATS: readonly FileFormat[] = ['movielens-100k', 'movielens-1m', 'movielens-csv', 'delimited'];

export const DATA_USAGE = [
  '  --data PATH          interactions: a file, or a MovieLens folder (ml-100k, ml-1m, ml-latest)',
  `  --format F           ${FORMATS.join(' | ')} (default: from the file name: u.data/*.base/*.test -> movielens-100k,`,
  '                       *.dat -> movielens-1m, *.csv -> movielens-csv)',
  '  --delimiter D        delimited: the field separator (default ,)',
  '  --columns U,I[,R[,T]]  delimited: user, item, rating and timestamp columns (indices or header names)',
  '  --header             delimited: the first line is a header',
];

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function formatOf(path: string): FileFormat {
  const f = guessFormat(path);
  if (f === undefined) throw argError(`cannot tell the format of ${path}; give --format (${FORMATS.join(', ')})`);
  return f;
}

/** Reads --data (a file through Dataset.fromFile, a folder through loadMovieLens). `extend` maps ids onto a model's. */
export async function readData(opts: Record<string, string | boolean>, key = 'data', extend?: { users: IdMap; items: IdMap }): Promise<Dataset> {
  const path = opts[key];
  if (typeof path !== 'string') throw argError(`--${key} PATH is required`);
  if (isDir(path) && opts.format === undefined) {
    if (extend) throw argError(`--${key} must be a file here (a folder holds a whole dataset)`);
    return loadMovieLens(path);
  }
  const format = (opts.format as FileFormat | undefined) ?? formatOf(path);
  if (!FORMATS.includes(format)) throw argError(`--format must be one of ${FORMATS.join(', ')}, got ${String(format)}`);
  const o: FromFileOptions = { format, extend };
  if (typeof opts.delimiter === 'string') o.delimiter = opts.delimiter === '\\t' ? '\t' : opts.delimiter;
  if (opts.header === true) o.header = true;
  if (typeof opts.columns === 'string') {
    const parts = opts.columns.split(',').map((c) => (/^[0-9]+$/.test(c) ? Number(c) : c));
    if (parts.length < 2 || parts.length > 4) throw argError('--columns takes user,item[,rating[,timestamp]]');
    o.columns = { user: parts[0]!, item: parts[1]!, rating: parts[2], timestamp: parts[3] };
  }
  return Dataset.fromFile(path, o);
}

// Short names people type, mapped to registry names (only those the registry has are offered).
const ALIASES: Record<string, string> = {
  als: 'ImplicitALS',
  'implicit-als': 'ImplicitALS',
  'explicit-als': 'ExplicitALS',
  svd: 'BiasedMF',
  mf: 'BiasedMF',
  'svd++': 'SVDpp',
  svdpp: 'SVDpp',
  pop: 'Popularity',
  baseline: 'BaselineOnly',
  'item-knn': 'ItemKNN',
  knn: 'KNNBasic',
  'pure-svd': 'PureSVD',
  'slope-one': 'SlopeOne',
  vae: 'MultVAE',
};

export function modelByName(name: string): ModelEntry {
  const target = ALIASES[name.toLowerCase()];
  if (target && models.some((m) => m.name === target)) return modelEntry(target);
  return modelEntry(name);
}

/** --set key=value (repeatable; value as JSON when it parses, e.g. 64, 0.01, true, else text). */
export function parseSets(sets: string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of sets ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw argError(`--set takes key=value, got '${s}'`);
    const key = s.slice(0, eq);
    const raw = s.slice(eq + 1);
    let v: unknown = raw;
    try {
      v = JSON.parse(raw);
    } catch {
      // plain text value
    }
    // Defined, not assigned: `__proto__=...` must be an option named __proto__ (refused as unknown by the model),
    // not a change of the object's prototype.
    Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** An id typed on the command line, in the form the model knows it. */
export function cliId(map: IdMap, raw: string, what: 'user' | 'item'): Id {
  const id = map.resolve(raw);
  if (id === undefined) throw unknownIdError(map, raw, what);
  return id;
}

export function splitIds(v: string | boolean | undefined): string[] | undefined {
  if (typeof v !== 'string') return undefined;
  return v.split(',').filter((s) => s.length > 0);
}

function clock(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600),
    m = Math.floor((t % 3600) / 60),
    sec = t % 60;
  return (h ? `${h}:${String(m).padStart(2, '0')}` : String(m)) + `:${String(sec).padStart(2, '0')}`;
}

/**
 * One line of the progress bar, fitted to `width` terminal columns (it never wraps: at most width - 1 characters).
 * In full: `label [#####-----] phase step/total  loss L  m:ss elapsed, ETA m:ss`. When that is too wide it gives up,
 * in order: bar length (24 down to 8), the loss, the word "elapsed", the bar, then the label's end; the step count
 * and the ETA stay while the width allows anything at all.
 */
export function progressLine(label: string, p: FitProgress, width: number): string {
  const max = Math.max(1, Math.floor(Number.isFinite(width) && width > 0 ? width : 80) - 1);
  const frac = p.total > 0 ? Math.min(1, p.step / p.total) : 0;
  const eta = p.step > 0 ? (p.seconds / p.step) * (p.total - p.step) : NaN;
  const loss = p.loss === undefined ? '' : `  loss ${p.loss.toPrecision(5)}`;
  const step = `${p.phase} ${p.step}/${p.total}`;
  const times = [`  ${clock(p.seconds)} elapsed, ETA ${clock(eta)}`, `  ETA ${clock(eta)}`];
  const bar = (w: number) => {
    const fill = Math.round(frac * w);
    return ` [${'#'.repeat(fill)}${'-'.repeat(w - fill)}] `;
  };
  for (const [lossPart, timePart] of [
    [loss, times[0]!],
    ['', times[0]!],
    ['', times[1]!],
  ] as const) {
    const tail = `${step}${lossPart}${timePart}`;
    const room = max - label.length - tail.length - 4; // 4 = " [" + "] "
    if (room >= 8) return `${label}${bar(Math.min(24, room))}${tail}`;
  }
  const tail = `${step}${times[1]}`;
  if (label.length + 1 + tail.length <= max) return `${label} ${tail}`;
  const keep = max - tail.length - 2; // label shortened with an ellipsis
  if (keep >= 1) return `${label.slice(0, keep)}… ${tail}`;
  const compact = `${p.step}/${p.total} ETA ${clock(eta)}`;
  return compact.length <= max ? compact : compact.slice(compact.length - max);
}

/**
 * A progress bar on stderr for fits (only when stderr is a terminal): phase, step/total, loss, elapsed and ETA,
 * fitted to the terminal's width (stream.columns, 80 when unknown). Returns the onProgress callback and done() to
 * end the line.
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): { onProgress?: (p: FitProgress) => void; done(): void } {
  if (!stream.isTTY) return { done() {} };
  let last = 0;
  let drawn = false;
  const draw = (p: FitProgress) => {
    const now = Date.now();
    if (now - last < 100 && p.step < p.total) return;
    last = now;
    stream.write(`\r${progressLine(label, p, stream.columns || 80)}\x1b[K`);
    drawn = true;
  };
  return {
    onProgress: draw,
    done() {
      if (drawn) stream.write('\n');
    },
  };
}

/** Prints rows as aligned columns. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const w = header.map((_, c) => Math.max(...cells.map((r) => r[c]!.length)));
  return cells.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(w[c]!) : v.padStart(w[c]!))).join('  ')).join('\n');
}

export function fmtBytes(n: number): string {
  return n < 1024
    ? `${n} B`
    : n < 1024 ** 2
      ? `${(n / 1024).toFixed(1)} KiB`
      : n < 1024 ** 3
        ? `${(n / 1024 ** 2).toFixed(1)} MiB`
        : `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
