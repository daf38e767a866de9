// Dataset -> Parquet files (DuckDB's COPY), for Spark and for Dataset.fromParquet. Apart from the readers in
// bigdata.ts because it takes Datasets, and the readers must not import dataset.ts (which imports them).
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RecsysError, argError, show } from '../errors.js';
import { loadIdTable } from './bigdata.js';
import { Dataset } from './dataset.js';
import { DuckSession, duckError, sqlString, withDuckDB, type DuckDBOptions } from './duckdb.js';
import type { TrainTest } from './split.js';

export interface ExportParquetOptions extends DuckDBOptions {
  /** Number of files; interactions are cut by user ranges of about equal size, so a user's rows share a file. Default 1. */
  partitions?: number;
  /** Parquet compression. Default 'zstd'. */
  compression?: 'zstd' | 'snappy' | 'gzip' | 'uncompressed';
  /** Replace part-*.parquet files already in the directory. Default false (E_IO if there are any). */
  overwrite?: boolean;
}

export interface ExportParquetResult {
  /** The files written, in user order. */
  files: string[];
  rows: number;
}

/**
 * Writes a dataset as Parquet files `dir/part-00000.parquet`, ... with columns `user`, `item`, and `rating` /
 * `timestamp` (seconds) when the dataset has them; ids keep their type (BIGINT for integer ids, VARCHAR for text,
 * DOUBLE for other numbers; a map mixing numbers and strings is written as text). Rows are in CSR order. A split
 * ({ train, test }) is written as `dir/train/` and `dir/test/`. Spark reads the directory as one table, and
 * Dataset.fromParquet(dir) reads it back.
 */
export async function exportParquet(data: Dataset | TrainTest, dir: string, options: ExportParquetOptions = {}): Promise<ExportParquetResult> {
  if (typeof dir !== 'string' || dir.length === 0) throw argError('dir must be a non-empty path');
  if (options === null || typeof options !== 'object') throw argError('options must be an object');
  const partitions = options.partitions ?? 1;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 100000)
    throw argError(`partitions must be an integer in [1, 100000], got ${show(partitions)}`);
  const compression = options.compression ?? 'zstd';
  if (!['zstd', 'snappy', 'gzip', 'uncompressed'].includes(compression))
    throw argError(`compression must be 'zstd', 'snappy', 'gzip' or 'uncompressed', got ${show(compression)}`);
  if (options.overwrite !== undefined && typeof options.overwrite !== 'boolean') throw argError('overwrite must be a boolean');
  const parts: [Dataset, string][] = [];
  if (data instanceof Dataset) parts.push([data, dir]);
  else if (data && typeof data === 'object' && data.train instanceof Dataset && data.test instanceof Dataset) {
    parts.push([data.train, join(dir, 'train')], [data.test, join(dir, 'test')]);
  } else throw argError('exportParquet expects a Dataset or a split { train, test }');
  for (const [, d] of parts) prepareDir(d, options.overwrite ?? false);
  const out: ExportParquetResult = { files: [], rows: 0 };
  await withDuckDB(options, async (db) => {
    for (const [ds, d] of parts) {
      const r = await exportOne(db, ds, d, partitions, compression);
      out.files.push(...r.files);
      out.rows += r.rows;
    }
  });
  return out;
}

function prepareDir(dir: string, overwrite: boolean): void {
  try {
    mkdirSync(dir, { recursive: true });
    const old = readdirSync(dir).filter((f) => /^part-\d+.*\.parquet$/.test(f));
    if (old.length > 0) {
      if (!overwrite) throw new RecsysError('E_IO', `${dir} already holds ${old.length} part-*.parquet files (pass overwrite: true to replace them)`);
      for (const f of old) rmSync(join(dir, f));
    }
  } catch (err) {
    if (err instanceof RecsysError) throw err;
    throw new RecsysError('E_IO', `cannot write to ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

async function exportOne(db: DuckSession, ds: Dataset, dir: string, partitions: number, compression: string): Promise<ExportParquetResult> {
  const { rows, cols, values, times } = ds.toCoo();
  const nnz = rows.length;
  const defs = ['u INTEGER', 'i INTEGER', ...(values ? ['r FLOAT'] : []), ...(times ? ['t DOUBLE'] : [])];
  for (const t of ['coo', 'uid', 'iid']) await db.run(`DROP TABLE IF EXISTS ${t}`);
  await db.run(`CREATE TEMP TABLE coo (${defs.join(', ')})`);
  await db.appendColumns('coo', [rows, cols, ...(values ? [values] : []), ...(times ? [times] : [])], nnz);
  await loadIdTable(db, 'uid', ds.users);
  await loadIdTable(db, 'iid', ds.items);
  const select = `SELECT uid.id AS "user", iid.id AS "item"${values ? ', c.r AS "rating"' : ''}${times ? ', c.t AS "timestamp"' : ''} FROM coo c JOIN uid ON c.u = uid.ix JOIN iid ON c.i = iid.ix`;
  const files: string[] = [];
  // Cut points on user boundaries so that the parts hold about nnz / partitions rows each.
  const { indptr } = ds.csr;
  let u0 = 0;
  for (let p = 0; p < partitions && u0 < ds.nUsers; p++) {
    const target = Math.round((nnz * (p + 1)) / partitions);
    let lo = u0;
    let hi = ds.nUsers;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (indptr[mid + 1]! < target) lo = mid + 1;
      else hi = mid;
    }
    const u1 = p === partitions - 1 ? ds.nUsers : Math.min(ds.nUsers, lo + 1);
    if (indptr[u1]! > indptr[u0]! || (nnz === 0 && p === 0)) {
      const file = resolve(dir, `part-${String(files.length).padStart(5, '0')}.parquet`);
      try {
        await db.run(
          `COPY (${select} WHERE c.u >= ${u0} AND c.u < ${u1} ORDER BY c.u, c.i) TO ${sqlString(file)} (FORMAT PARQUET, COMPRESSION ${compression})`,
        );
      } catch (err) {
        throw duckError(err, 'E_IO', `writing ${file}`);
      }
      files.push(file);
    }
    u0 = u1;
  }
  return { files, rows: nnz };
}
