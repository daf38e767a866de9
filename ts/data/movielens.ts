// Finding and loading the MovieLens datasets: the three layouts (ml-100k, ml-1m, ml-latest), their titles, and the
// predefined ml-100k folds. The data itself is never shipped (the licence forbids it); it is looked up locally.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { RecsysError, argError } from '../errors.js';
import { Dataset, type DuplicatePolicy } from './dataset.js';
import { matchItemInfo, readItemInfoFile, type ItemInfoFormat } from './iteminfo.js';
import type { FileFormat } from './parse.js';
import { PACKAGE_ROOT } from '../package_root.cjs';

/** Where a dataset folder was found, or not: `dir` is undefined when none of `searched` exists. */
export interface DatasetLocation {
  dir: string | undefined;
  searched: string[];
}

/**
 * Finds a dataset folder (e.g. 'ml-100k') in, in order: $RECSYS_DATA_DIR/<name>, ../shared/datasets/<name> from the
 * working directory, and the same beside the package root. Returns the first that is a directory, with the list of
 * places looked in, so callers can say where they looked when it is missing.
 */
export function findDatasetDir(name: string): DatasetLocation {
  if (typeof name !== 'string' || name.length === 0) throw argError('dataset name must be a non-empty string');
  const bases: string[] = [];
  const env = process.env.RECSYS_DATA_DIR;
  if (env) bases.push(resolve(env));
  bases.push(resolve(process.cwd(), '..', 'shared', 'datasets'), resolve(PACKAGE_ROOT, '..', 'shared', 'datasets'));
  const searched = [...new Set(bases.map((b) => join(b, name)))];
  const dir = searched.find(isDirectory);
  return { dir, searched };
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** A directory path as is; a bare name (no path separator) through findDatasetDir. E_IO when neither exists. */
function resolveDir(dirOrName: string): string {
  if (typeof dirOrName !== 'string' || dirOrName.length === 0) throw argError('expected a directory or a dataset name');
  if (isDirectory(dirOrName)) return dirOrName;
  if (isAbsolute(dirOrName) || /[\\/]/.test(dirOrName)) throw new RecsysError('E_IO', `${dirOrName} is not a directory`);
  const loc = findDatasetDir(dirOrName);
  if (!loc.dir) {
    throw new RecsysError('E_IO', `dataset ${dirOrName} not found; looked in ${loc.searched.join(', ')} (set RECSYS_DATA_DIR to the folder that holds it)`);
  }
  return loc.dir;
}

export type MovieLensLayout = 'ml-100k' | 'ml-1m' | 'ml-latest';

export interface MovieLensFiles {
  layout: MovieLensLayout;
  ratings: string;
  /** The format of both the ratings and the titles file. */
  format: Exclude<FileFormat, 'delimited'>;
  /** The titles file, when the folder has one. */
  items?: string;
}

/** The titles file beside ratings of each format. */
const ITEMS_FILE: Record<ItemInfoFormat, string> = { 'movielens-100k': 'u.item', 'movielens-1m': 'movies.dat', 'movielens-csv': 'movies.csv' };

/**
 * Which MovieLens layout a folder holds: u.data (ml-100k), ratings.csv (ml-latest / ml-latest-small) or
 * ratings*.dat (ml-1m, including a partial ratings file); undefined when none.
 */
export function detectMovieLens(dir: string): MovieLensFiles | undefined {
  const files = (layout: MovieLensLayout, ratings: string, format: MovieLensFiles['format']): MovieLensFiles => {
    const f: MovieLensFiles = { layout, ratings: join(dir, ratings), format };
    if (existsSync(join(dir, ITEMS_FILE[format]))) f.items = join(dir, ITEMS_FILE[format]);
    return f;
  };
  if (existsSync(join(dir, 'u.data'))) return files('ml-100k', 'u.data', 'movielens-100k');
  if (existsSync(join(dir, 'ratings.csv'))) return files('ml-latest', 'ratings.csv', 'movielens-csv');
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const dat = names.includes('ratings.dat') ? 'ratings.dat' : names.filter((n) => /^ratings.*\.dat$/.test(n)).sort()[0];
  return dat ? files('ml-1m', dat, 'movielens-1m') : undefined;
}

export interface LoadMovieLensOptions {
  duplicates?: DuplicatePolicy;
  /** Attach titles and genres from the folder's items file (default true). */
  itemInfo?: boolean;
}

/**
 * Loads a MovieLens folder (ml-100k, ml-1m or ml-latest layout, detected from its files) with item titles.
 * `dirOrName` is a directory, or a folder name looked up by findDatasetDir (e.g. 'ml-100k').
 */
export async function loadMovieLens(dirOrName: string, options: LoadMovieLensOptions = {}): Promise<Dataset> {
  const dir = resolveDir(dirOrName);
  const files = detectMovieLens(dir);
  if (!files) throw new RecsysError('E_IO', `${dir} does not look like a MovieLens folder (no u.data, ratings.csv or ratings*.dat)`);
  const ds = await Dataset.fromFile(files.ratings, { format: files.format, duplicates: options.duplicates });
  if (options.itemInfo !== false && files.items) await ds.loadItemInfo(files.items, { format: files.format });
  return ds;
}

export interface PredefinedFold {
  /** The file stem, e.g. 'u1'. */
  name: string;
  train: Dataset;
  test: Dataset;
}

export interface LoadFoldsOptions {
  /** File stems: each has <name>.base (train) and <name>.test. Default u1..u5 (ml-100k's 5-fold split). */
  names?: string[];
  format?: Exclude<FileFormat, 'delimited'>;
  duplicates?: DuplicatePolicy;
  /** Attach titles from the folder's items file (default true). */
  itemInfo?: boolean;
}

/**
 * Reads predefined train/test splits (ml-100k u1..u5.base/.test). In each fold the test file is read extending the
 * training file's id maps, and train and test share the resulting maps, so dense indices agree. Users and items
 * that occur only in the test file get indices >= the training counts and have no training interactions: models
 * fitted on `train` treat them as unknown (cold start).
 */
export async function loadPredefinedFolds(dirOrName: string, options: LoadFoldsOptions = {}): Promise<PredefinedFold[]> {
  const dir = resolveDir(dirOrName);
  const names = options.names ?? ['u1', 'u2', 'u3', 'u4', 'u5'];
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string' && n.length > 0)) {
    throw argError('names must be a non-empty array of file stems');
  }
  const format = options.format ?? 'movielens-100k';
  if (!(format in ITEMS_FILE)) throw argError(`format must be 'movielens-100k', 'movielens-1m' or 'movielens-csv', got ${JSON.stringify(format)}`);
  const itemsFile = join(dir, ITEMS_FILE[format]);
  const records = options.itemInfo !== false && existsSync(itemsFile) ? await readItemInfoFile(itemsFile, format) : undefined;
  const folds: PredefinedFold[] = [];
  for (const name of names) {
    const base = await Dataset.fromFile(join(dir, `${name}.base`), { format, duplicates: options.duplicates });
    const test = await Dataset.fromFile(join(dir, `${name}.test`), {
      format,
      duplicates: options.duplicates,
      extend: { users: base.users, items: base.items },
    });
    const train = base.withIdMaps(test.users, test.items);
    if (records) train.itemInfo = test.itemInfo = matchItemInfo(test.items, records);
    folds.push({ name, train, test });
  }
  return folds;
}
