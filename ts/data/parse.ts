// Options of Dataset.fromFile and the call into the native streaming parser (native/data/parse.cc).
import { basename, extname } from 'node:path';
import { argError, nativeAsync, show } from '../errors.js';
import { addon } from '../native.js';
import { IdMap, type Id } from './idmap.js';
import type { DatasetOptions, DatasetParts } from './types.js';

/**
 * Interaction file layouts:
 * - `movielens-100k`: tab separated `user item rating timestamp` (ml-100k `u.data`, `u1.base` ...);
 * - `movielens-1m`: `::` separated `user::item::rating::timestamp` (ml-1m `ratings.dat`);
 * - `movielens-csv`: CSV with the header `userId,movieId,rating,timestamp` (ml-latest `ratings.csv`);
 * - `delimited`: any delimited text described by `delimiter`, `columns`, `header` and `quote`.
 */
export type FileFormat = 'movielens-100k' | 'movielens-1m' | 'movielens-csv' | 'delimited';

/** A column of a delimited file: its 0-based field index, or its name in the header line. */
export type ColumnRef = number | string;

export interface ColumnMapping {
  user: ColumnRef;
  item: ColumnRef;
  /** Absent = implicit feedback (every interaction counts as 1). */
  rating?: ColumnRef;
  /** Seconds (any decimal number). */
  timestamp?: ColumnRef;
}

export interface FromFileOptions extends DatasetOptions {
  /**
   * Default 'delimited' when `columns` is given, else from the file name (as the CLI does): u.data, *.base, *.test
   * -> 'movielens-100k', *.dat -> 'movielens-1m', *.csv -> 'movielens-csv'; E_ARG for any other name.
   */
  format?: FileFormat;
  /** 'delimited' only: the field separator, one or more characters. Default ','. */
  delimiter?: string;
  /** 'delimited' only: which field holds what. */
  columns?: ColumnMapping;
  /**
   * 'delimited' only: whether the first non-blank line is a header. Default: true when a column is given by name,
   * else false.
   */
  header?: boolean;
  /** 'delimited' only: whether fields may be "quoted" (with "" for a quote inside). Default: delimiter is ','. */
  quote?: boolean;
  /**
   * Start from these id maps: ids they hold keep their dense indices and new ids get indices after them (used to
   * read a test file against its training file). The result's maps extend these; see Dataset.withIdMaps.
   */
  extend?: { users: IdMap; items: IdMap };
}

interface NativeParseOptions {
  delimiter: string;
  quote: boolean;
  header: boolean;
  fields: number;
  columns: ColumnMapping;
  duplicates: string;
  knownUsers?: readonly Id[];
  knownItems?: readonly Id[];
}

const MOVIELENS: Record<Exclude<FileFormat, 'delimited'>, Omit<NativeParseOptions, 'duplicates'>> = {
  'movielens-100k': { delimiter: '\t', quote: false, header: false, fields: 4, columns: { user: 0, item: 1, rating: 2, timestamp: 3 } },
  'movielens-1m': { delimiter: '::', quote: false, header: false, fields: 4, columns: { user: 0, item: 1, rating: 2, timestamp: 3 } },
  'movielens-csv': {
    delimiter: ',',
    quote: true,
    header: true,
    fields: 4,
    columns: { user: 'userId', item: 'movieId', rating: 'rating', timestamp: 'timestamp' },
  },
};

/**
 * The format a file's name implies (the one guess for Dataset.fromFile and the CLI): u.data, *.base and *.test ->
 * movielens-100k (ml-100k's files), *.dat -> movielens-1m, *.csv -> movielens-csv; undefined for any other name.
 */
export function guessFormat(path: string): Exclude<FileFormat, 'delimited'> | undefined {
  const name = basename(path).toLowerCase();
  const ext = extname(name);
  if (name === 'u.data' || ext === '.base' || ext === '.test') return 'movielens-100k';
  if (ext === '.dat') return 'movielens-1m';
  if (ext === '.csv') return 'movielens-csv';
  return undefined;
}

function checkColumn(name: string, v: unknown, required: boolean): void {
  if (v === undefined && !required) return;
  if (typeof v === 'string' ? v.length > 0 : Number.isInteger(v) && (v as number) >= 0 && (v as number) < 4096) return;
  throw argError(`columns.${name} must be a field index (an integer >= 0) or a header name, got ${JSON.stringify(v)}`);
}

function nativeOptions(path: string, options: FromFileOptions): NativeParseOptions {
  if (options === null || typeof options !== 'object') throw argError('fromFile options must be an object');
  const duplicates = options.duplicates ?? 'last';
  if (!['last', 'sum', 'max', 'error'].includes(duplicates)) {
    throw argError(`duplicates must be 'last', 'sum', 'max' or 'error', got ${show(duplicates)}`);
  }
  const format = options.format ?? (options.columns !== undefined ? 'delimited' : guessFormat(path));
  if (format === undefined) {
    throw argError(`cannot tell the format of ${path} from its name; give format ('movielens-100k', 'movielens-1m', 'movielens-csv', 'delimited') or columns`);
  }
  if (format !== 'delimited') {
    const preset = MOVIELENS[format];
    if (!preset) throw argError(`unknown format ${JSON.stringify(format)}; use 'movielens-100k', 'movielens-1m', 'movielens-csv' or 'delimited'`);
    for (const k of ['delimiter', 'columns', 'header', 'quote'] as const) {
      if (options[k] !== undefined) throw argError(`${k} is only for format 'delimited'; ${format} fixes it`);
    }
    return { ...preset, duplicates };
  }
  const { columns } = options;
  if (columns === null || typeof columns !== 'object') throw argError("format 'delimited' needs columns: { user, item, rating?, timestamp? }");
  checkColumn('user', columns.user, true);
  checkColumn('item', columns.item, true);
  checkColumn('rating', columns.rating, false);
  checkColumn('timestamp', columns.timestamp, false);
  const refs = [columns.user, columns.item, columns.rating, columns.timestamp].filter((c) => c !== undefined);
  if (new Set(refs).size !== refs.length) throw argError('two columns of the mapping name the same field');
  const delimiter = options.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length === 0 || /[\r\n\0]/.test(delimiter) || Buffer.byteLength(delimiter) > 16) {
    throw argError(`delimiter must be 1 to 16 bytes of text without line breaks, got ${JSON.stringify(delimiter)}`);
  }
  const named = refs.some((c) => typeof c === 'string');
  const header = options.header ?? named;
  if (typeof header !== 'boolean') throw argError('header must be a boolean');
  if (named && !header) throw argError('columns given by name need the header line (header: true)');
  const quote = options.quote ?? delimiter === ',';
  if (typeof quote !== 'boolean') throw argError('quote must be a boolean');
  if (quote && delimiter.includes('"')) throw argError('a delimiter containing " cannot be used with quote: true');
  return { delimiter, quote, header, fields: 0, columns: { ...columns }, duplicates };
}

function idsOf(list: Float64Array | string[]): Id[] {
  return Array.isArray(list) ? list : Array.from(list);
}

/** The extended map: the given one itself when the file added no ids and kept the id type. */
function extendedMap(known: IdMap | undefined, ids: Float64Array | string[]): IdMap {
  if (known && known.size === ids.length) {
    const wasString = known.size > 0 && typeof known.ids[0] === 'string';
    if (wasString === Array.isArray(ids)) return known;
  }
  return new IdMap(idsOf(ids));
}

function knownIds(map: IdMap, name: string): readonly Id[] {
  const ids = map.ids;
  const strings = ids.length > 0 && typeof ids[0] === 'string';
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (strings ? typeof id !== 'string' : !Number.isSafeInteger(id)) {
      throw argError(`extend.${name} must hold only safe-integer ids or only string ids (index ${i} is ${JSON.stringify(id)})`);
    }
  }
  return ids;
}

/** Parses an interaction file natively (streaming, on a worker thread) into id maps and a CSR. */
export async function parseFile(path: string, options: FromFileOptions): Promise<DatasetParts> {
  if (typeof path !== 'string' || path.length === 0) throw argError('path must be a non-empty string');
  const opts = nativeOptions(path, options);
  const { extend } = options;
  if (extend !== undefined) {
    if (!(extend?.users instanceof IdMap) || !(extend.items instanceof IdMap)) throw argError('extend must be { users: IdMap, items: IdMap }');
    opts.knownUsers = knownIds(extend.users, 'users');
    opts.knownItems = knownIds(extend.items, 'items');
  }
  // eslint-disable-next-line @typescript-eslint/unbound-method -- the addon's functions do not use `this`
  const parse = addon.parseInteractions;
  const r = await nativeAsync(Promise.resolve().then(() => parse(path, opts)));
  const { users, items, duplicates, interactions: _n, lines: _l, ...csr } = r;
  return { users: extendedMap(extend?.users, users), items: extendedMap(extend?.items, items), csr, duplicates };
}
