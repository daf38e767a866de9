// Item metadata files (titles, genres) of the MovieLens layouts, read as a stream of lines and matched to a
// dataset's item ids. These files are small (< 1 MB), so TS does the work; the interaction files go native.
import { createReadStream } from 'node:fs';
import { RecsysError, argError } from '../errors.js';
import type { ItemInfo } from './types.js';
import type { IdMap } from './idmap.js';

/**
 * - `movielens-100k`: ml-100k `u.item`, latin-1, `id|title|release date|video release date|IMDb URL|19 genre flags`;
 * - `movielens-1m`: ml-1m `movies.dat`, latin-1, `id::title::genre|genre`;
 * - `movielens-csv`: ml-latest `movies.csv`, UTF-8 CSV `movieId,title,genres` with quoted titles.
 */
export type ItemInfoFormat = 'movielens-100k' | 'movielens-1m' | 'movielens-csv';

/** The genre flag columns of ml-100k u.item, in order (as listed in its u.genre). */
const ML100K_GENRES = [
  'unknown',
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
];

/** The fs error of a failed read as RecsysError E_IO naming the path. */
export function ioError(path: string, err: unknown): RecsysError {
  const message = (err as Error)?.message ?? String(err);
  return new RecsysError('E_IO', `cannot read ${path}: ${message}`, { cause: err });
}

/** Lines of a text file as a stream (one chunk in memory at a time), with their 1-based numbers. */
export async function* readLines(path: string, encoding: 'utf8' | 'latin1'): AsyncGenerator<[string, number]> {
  const stream = createReadStream(path, { encoding, highWaterMark: 1 << 20 });
  let rest = '';
  let lineNo = 0;
  let first = true;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      let text = rest + chunk;
      if (first) {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        yield [text.slice(start, end), ++lineNo];
        start = nl + 1;
      }
      rest = text.slice(start);
    }
  } catch (err) {
    if (err instanceof RecsysError) throw err;
    throw ioError(path, err);
  } finally {
    stream.destroy();
  }
  if (rest.length > 0) yield [rest.endsWith('\r') ? rest.slice(0, -1) : rest, ++lineNo];
}

/** Splits one CSV record (RFC 4180 quoting); undefined when a quote is left open (the record goes on). */
export function splitCsv(line: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = '';
      let j = i + 1;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) return undefined;
        v += line.slice(j, q);
        if (line[q + 1] === '"') {
          v += '"';
          j = q + 2;
          continue;
        }
        j = q + 1;
        break;
      }
      out.push(v);
      if (j >= line.length) return out;
      if (line[j] !== ',') throw new SyntaxError('unexpected text after a closing quote');
      i = j + 1;
      continue;
    }
    const c = line.indexOf(',', i);
    if (c < 0) {
      out.push(line.slice(i));
      return out;
    }
    out.push(line.slice(i, c));
    i = c + 1;
  }
}

function yearOf(title: string): number | undefined {
  const m = /\((\d{4})\)\s*$/.exec(title);
  return m ? Number(m[1]) : undefined;
}

/** Reads a metadata file into records keyed by the item id token as written in the file. */
export async function readItemInfoFile(path: string, format: ItemInfoFormat): Promise<Map<string, ItemInfo>> {
  if (typeof path !== 'string' || path.length === 0) throw argError('path must be a non-empty string');
  if (!['movielens-100k', 'movielens-1m', 'movielens-csv'].includes(format)) {
    throw argError(`item info format must be 'movielens-100k', 'movielens-1m' or 'movielens-csv', got ${JSON.stringify(format)}`);
  }
  const out = new Map<string, ItemInfo>();
  const bad = (line: number, what: string): never => {
    throw new RecsysError('E_PARSE', `${path}:${line}: ${what}`);
  };
  let pending = '';
  let pendingLine = 0;
  let sawHeader = false;
  for await (const [text, lineNo] of readLines(path, format === 'movielens-csv' ? 'utf8' : 'latin1')) {
    if (format === 'movielens-csv') {
      // A quoted field may span lines: keep reading until its quote closes.
      const record = pending ? `${pending}\n${text}` : text;
      const at = pending ? pendingLine : lineNo;
      let f: string[] | undefined;
      try {
        f = splitCsv(record);
      } catch (err) {
        bad(at, (err as Error).message);
      }
      if (f === undefined) {
        pending = record;
        pendingLine = at;
        continue;
      }
      pending = '';
      if (record.trim() === '') continue;
      if (!sawHeader) {
        sawHeader = true;
        if (f[0]!.trim() === 'movieId') continue;
      }
      if (f.length !== 3) bad(at, `expected 3 fields (movieId,title,genres), found ${f.length}`);
      const genres = f[2]!.trim();
      const title = f[1]!.trim();
      out.set(f[0]!.trim(), { title, genres: genres === '(no genres listed)' || genres === '' ? [] : genres.split('|'), year: yearOf(title) });
      continue;
    }
    if (text.trim() === '') continue;
    if (format === 'movielens-1m') {
      const f = text.split('::');
      if (f.length < 3) bad(lineNo, `expected 3 fields separated by '::' (id::title::genres), found ${f.length}`);
      const title = f.slice(1, -1).join('::').trim();
      const genres = f[f.length - 1]!.trim();
      out.set(f[0]!.trim(), { title, genres: genres ? genres.split('|') : [], year: yearOf(title) });
    } else {
      const f = text.split('|');
      if (f.length < 5) bad(lineNo, `expected at least 5 fields separated by '|' (id|title|release date|video release date|URL|genres), found ${f.length}`);
      const title = f[1]!.trim();
      const genres: string[] = [];
      for (let g = 0; g < ML100K_GENRES.length && 5 + g < f.length; g++) if (f[5 + g]!.trim() === '1') genres.push(ML100K_GENRES[g]!);
      const info: ItemInfo = { title, genres, year: yearOf(title) };
      if (f[2]) info.releaseDate = f[2];
      if (f[4]) info.url = f[4];
      out.set(f[0]!.trim(), info);
    }
  }
  if (pending) bad(pendingLine, 'a quoted field has no closing quote');
  return out;
}

const CANONICAL_INT = /^(0|-?[1-9]\d*)$/;

/**
 * Records matched to an item id map, by dense index. A file's id token matches the numeric id it spells when it is
 * a canonical integer, else the string id. Records of items the map lacks are ignored.
 */
export function matchItemInfo(items: IdMap, records: Map<string, ItemInfo>): (ItemInfo | undefined)[] {
  const out = new Array<ItemInfo | undefined>(items.size);
  for (const [token, info] of records) {
    let ix = -1;
    if (CANONICAL_INT.test(token) && Number.isSafeInteger(Number(token))) ix = items.index(Number(token));
    if (ix < 0) ix = items.index(token);
    if (ix >= 0) out[ix] = info;
  }
  return out;
}
