// Spark MLlib ALS interop. A saved ALSModel is a directory: metadata/ (one JSON line: class, uid, paramMap, rank),
// userFactors/ and itemFactors/ (Parquet, `id int, features array<float>`). spark/train_als.py adds, beside
// those, userIds/ and itemIds/ (Parquet `id, index`: the external id of each Spark int id) and params/ (one JSON
// line: implicitPrefs, alpha, regParam, ... and the holdout metrics). loadSparkALS reads all of it through
// DuckDB into a FactorModel that serves with the native top-K and folds new users in by Spark's own
// least-squares problem; exportSparkALS writes a recsys factor model in the same layout for Spark's ALSModel.load.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RecsysError, argError } from '../errors.js';
import type { Id } from '../data/idmap.js';
import { loadIdTable } from '../data/bigdata.js';
import { duckError, sqlString, withDuckDB, type DuckDBOptions, type DuckSession } from '../data/duckdb.js';
import { FactorRecommender } from './base.js';
import { FactorModel, type LeastSquaresFoldIn } from './factors.js';

const ALS_CLASS = 'org.apache.spark.ml.recommendation.ALSModel';
/** The Spark release whose ALSModel layout exportSparkALS writes (and CI loads it with). */
export const SPARK_LAYOUT_VERSION = '3.5.8';

/** What spark/train_als.py records in params/ (and exportSparkALS writes). */
export interface SparkALSParams {
  implicitPrefs: boolean;
  alpha: number;
  regParam: number;
  /** Whether regParam is scaled by each user's interaction count (Spark: true; recsys's ImplicitALS: false). */
  scaleReg?: boolean;
  rank?: number;
  maxIter?: number;
  [key: string]: unknown;
}

export interface LoadSparkALSOptions extends DuckDBOptions {
  /** Fold-in settings, overriding params/. Default: from params/, else Spark's defaults (explicit, regParam 0.1). */
  foldIn?: LeastSquaresFoldIn;
  /** Threads of the returned model (batch recommendation). Default 0 = all. */
  modelThreads?: number;
}

export interface SparkALSInfo {
  /** The metadata JSON Spark wrote (class, uid, sparkVersion, paramMap, rank, ...). */
  metadata: Record<string, unknown>;
  /** params/ as spark/train_als.py or exportSparkALS wrote it, when present. */
  params?: SparkALSParams;
  rank: number;
}

/** The first JSON line of the first data file of a Spark text output directory (metadata/, params/). */
function readJsonDir(dir: string, what: string): Record<string, unknown> | undefined {
  if (!existsSync(dir)) return undefined;
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => !f.startsWith('.') && !f.startsWith('_') && statSync(join(dir, f)).isFile())
      .sort();
  } catch (err) {
    throw new RecsysError('E_IO', `cannot read ${dir}: ${(err as Error).message}`, { cause: err });
  }
  for (const f of files) {
    const line = readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .find((l) => l.trim().length > 0);
    if (line === undefined) continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw new RecsysError('E_PARSE', `${join(dir, f)}: the ${what} is not a JSON object`);
  }
  throw new RecsysError('E_PARSE', `${dir}: no ${what} file in it`);
}

/** Reads a saved ALSModel's metadata and, when present, the training params beside it. */
export function readSparkALSInfo(dir: string): SparkALSInfo {
  if (typeof dir !== 'string' || dir.length === 0) throw argError('dir must be a non-empty path');
  if (!existsSync(dir)) throw new RecsysError('E_IO', `${dir} does not exist`);
  const metadata = readJsonDir(join(dir, 'metadata'), 'ALSModel metadata');
  if (!metadata) throw new RecsysError('E_IO', `${dir} has no metadata/ directory: not a saved Spark model`);
  if (metadata.class !== ALS_CLASS) throw new RecsysError('E_PARSE', `${dir}/metadata: class is ${JSON.stringify(metadata.class)}, not ${ALS_CLASS}`);
  const rank = metadata.rank;
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1 || rank > 4096)
    throw new RecsysError('E_PARSE', `${dir}/metadata: rank ${JSON.stringify(rank)} is not an integer in [1, 4096]`);
  const p = readJsonDir(join(dir, 'params'), 'training params');
  let params: SparkALSParams | undefined;
  if (p) {
    if (typeof p.implicitPrefs !== 'boolean' || typeof p.alpha !== 'number' || typeof p.regParam !== 'number') {
      throw new RecsysError('E_PARSE', `${dir}/params: needs implicitPrefs (boolean), alpha and regParam (numbers)`);
    }
    params = p as SparkALSParams;
  }
  return { metadata, params, rank };
}

/** External ids and factor rows of one side, in Spark id order. */
async function readSide(db: DuckSession, dir: string, side: 'user' | 'item', rank: number): Promise<{ ids: Id[]; factors: Float32Array }> {
  const fdir = join(dir, `${side}Factors`);
  const mdir = join(dir, `${side}Ids`);
  const label = `${dir}/${side}Factors`;
  const fsrc = `read_parquet(${sqlString(join(fdir, '*.parquet'))})`;
  let types: Map<string, string>;
  try {
    types = new Map((await db.rows(`DESCRIBE SELECT * FROM ${fsrc}`)).map((r) => [String(r[0]), String(r[1]).toUpperCase()]));
  } catch (err) {
    throw duckError(err, 'E_PARSE', label);
  }
  if (!/^(INTEGER|BIGINT)$/.test(types.get('id') ?? ''))
    throw new RecsysError('E_PARSE', `${label}: needs an integer column "id" (has ${[...types].map(([k, v]) => `${k} ${v}`).join(', ')})`);
  if (!/^(FLOAT|DOUBLE)\[\d*\]$/.test(types.get('features') ?? ''))
    throw new RecsysError('E_PARSE', `${label}: needs a column "features" of float arrays (has ${[...types].map(([k, v]) => `${k} ${v}`).join(', ')})`);
  const [n, distinct, badLen] = (
    await db.rows(`SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE id IS NULL OR features IS NULL OR len(features) <> ${rank}) FROM ${fsrc}`)
  )[0]!.map(Number) as [number, number, number];
  if (badLen > 0) throw new RecsysError('E_PARSE', `${label}: ${badLen} rows have a NULL id or features whose length is not the rank ${rank}`);
  if (distinct !== n) throw new RecsysError('E_PARSE', `${label}: ids repeat`);
  let from = `${fsrc} f`;
  let idExpr = 'f.id';
  let numeric = true;
  if (existsSync(mdir)) {
    const msrc = `read_parquet(${sqlString(join(mdir, '*.parquet'))})`;
    const mtypes = new Map((await db.rows(`DESCRIBE SELECT * FROM ${msrc}`)).map((r) => [String(r[0]), String(r[1]).toUpperCase()]));
    const idType = mtypes.get('id') ?? '';
    if (!mtypes.has('index') || !/^(TINYINT|SMALLINT|INTEGER|BIGINT|VARCHAR|DOUBLE)$/.test(idType)) {
      throw new RecsysError('E_PARSE', `${dir}/${side}Ids: needs columns "id" (integer or text) and "index"`);
    }
    from = `${fsrc} f JOIN ${msrc} m ON f.id = m."index"`;
    idExpr = 'm.id';
    numeric = idType !== 'VARCHAR';
    const [joined, unsafe] = (await db.rows(`SELECT count(*), ${numeric ? `count(*) FILTER (WHERE abs(m.id) > 9007199254740991)` : '0'} FROM ${from}`))[0]!.map(
      Number,
    ) as [number, number];
    if (joined !== n) throw new RecsysError('E_PARSE', `${dir}/${side}Ids: ${n - joined} of the ${n} ${side} factors have no id (or ids repeat)`);
    if (unsafe > 0) numeric = false; // beyond 2^53: keep them exact as text
  }
  let ids: Id[];
  if (numeric) {
    const out: number[] = [];
    await db.stream(`SELECT ${idExpr}::DOUBLE FROM ${from} ORDER BY f.id`, ['f64'], (c) => {
      for (const v of c[0]!) out.push(v);
    });
    ids = out;
  } else {
    ids = await db.strings(`SELECT ${idExpr}::VARCHAR FROM ${from} ORDER BY f.id`);
  }
  const factors = new Float32Array(n * rank);
  let at = 0;
  await db.floatRows(`SELECT f.features::FLOAT[${rank}] FROM ${from} ORDER BY f.id`, rank, (rows) => {
    factors.set(rows, at);
    at += rows.length;
  });
  if (at !== n * rank) throw new RecsysError('E_STATE', `${label}: read ${at / rank} rows of ${n}`);
  return { ids, factors };
}

/**
 * Loads a saved Spark MLlib ALSModel (ALSModel.save, or spark/train_als.py's output with its id maps) as a
 * FactorModel: recommend / recommendBatch / similarItems with the native top-K (scores = <user, item> as Spark's
 * recommendForUserSubset computes them), recommendForNewUser by Spark's least-squares fold-in. Users and items
 * are named by the ids in userIds/ and itemIds/ when present, else by Spark's int ids. The model has no training
 * interactions, so filterSeen filters nothing (pass exclude, or build with FactorModel.fromFactors and `seen`).
 */
export async function loadSparkALS(dir: string, options: LoadSparkALSOptions = {}): Promise<FactorModel> {
  if (options === null || typeof options !== 'object') throw argError('options must be an object');
  const info = readSparkALSInfo(dir);
  const p = info.params;
  const foldIn: LeastSquaresFoldIn =
    options.foldIn ?? (p ? { implicit: p.implicitPrefs, alpha: p.alpha, reg: p.regParam, scaleReg: p.scaleReg ?? true } : { implicit: false, reg: 0.1 });
  const sides = await withDuckDB(options, async (db) => ({
    user: await readSide(db, dir, 'user', info.rank),
    item: await readSide(db, dir, 'item', info.rank),
  }));
  return FactorModel.fromFactors({
    users: sides.user.ids,
    items: sides.item.ids,
    factors: info.rank,
    userFactors: sides.user.factors,
    itemFactors: sides.item.factors,
    foldIn,
    threads: options.modelThreads,
  });
}

export interface ExportSparkALSOptions extends DuckDBOptions {
  /** Recorded in params/ for loadSparkALS's fold-in (Spark's ALSModel does not keep them). */
  params?: Partial<SparkALSParams>;
  /** Replace an existing model directory. Default false (E_IO). */
  overwrite?: boolean;
}

/**
 * Writes a fitted factor model (ImplicitALS, FactorModel, any FactorRecommender without bias terms) as a Spark
 * ALSModel directory that `ALSModel.load(dir)` reads: Spark int ids are the dense indices, and userIds/ and
 * itemIds/ map them back to the external ids (so loadSparkALS restores the same model).
 */
export async function exportSparkALS(model: FactorRecommender, dir: string, options: ExportSparkALSOptions = {}): Promise<void> {
  if (!(model instanceof FactorRecommender)) throw argError('exportSparkALS expects a fitted factor model');
  if (typeof dir !== 'string' || dir.length === 0) throw argError('dir must be a non-empty path');
  if (options === null || typeof options !== 'object') throw argError('options must be an object');
  const state = model.nativeModel.state();
  const U = state.user_factors;
  const V = state.item_factors;
  if (!U || !V || !(U.data instanceof Float32Array) || !(V.data instanceof Float32Array))
    throw new RecsysError('E_UNSUPPORTED', `${model.name} has no factor matrices to export`);
  const nonzero = (t?: { data: Float32Array | Int32Array }) => t !== undefined && t.data.some((v) => v !== 0);
  if (nonzero(state.user_bias) || nonzero(state.item_bias) || nonzero(state.global_bias)) {
    throw new RecsysError('E_UNSUPPORTED', `${model.name} has bias terms, which Spark's ALSModel cannot hold`);
  }
  const [nu, rank] = U.shape as [number, number];
  const [ni] = V.shape as [number];
  const train = model.trainData;
  if (train.nUsers < nu || train.nItems < ni) throw new RecsysError('E_STATE', 'the model has more factor rows than its id maps');
  const out = resolve(dir);
  if (existsSync(out) && readdirSync(out).length > 0) {
    if (!options.overwrite) throw new RecsysError('E_IO', `${out} exists and is not empty (pass overwrite: true to replace it)`);
    rmSync(out, { recursive: true, force: true });
  }
  try {
    for (const d of ['metadata', 'userFactors', 'itemFactors', 'userIds', 'itemIds', 'params']) mkdirSync(join(out, d), { recursive: true });
    const uid = `ALS_${Math.floor(Math.random() * 2 ** 48)
      .toString(16)
      .padStart(12, '0')}`;
    const cols = { userCol: 'user', itemCol: 'item' };
    const metadata = {
      class: ALS_CLASS,
      timestamp: Date.now(),
      sparkVersion: SPARK_LAYOUT_VERSION,
      uid,
      paramMap: { ...cols, blockSize: 4096 },
      defaultParamMap: { ...cols, coldStartStrategy: 'nan', blockSize: 4096, predictionCol: 'prediction' },
      rank,
    };
    writeFileSync(join(out, 'metadata', 'part-00000'), JSON.stringify(metadata) + '\n');
    const params: SparkALSParams = { implicitPrefs: false, alpha: 1, regParam: 0.1, ...options.params, rank, source: `recsys ${model.name}` };
    writeFileSync(join(out, 'params', 'part-00000'), JSON.stringify(params) + '\n');
    for (const d of ['metadata', 'params']) writeFileSync(join(out, d, '_SUCCESS'), '');
  } catch (err) {
    throw new RecsysError('E_IO', `cannot write ${out}: ${(err as Error).message}`, { cause: err });
  }
  await withDuckDB(options, async (db) => {
    for (const [side, n, data, map] of [
      ['user', nu, U.data as Float32Array, train.users],
      ['item', ni, V.data as Float32Array, train.items],
    ] as const) {
      const ix = new Int32Array(n);
      for (let k = 0; k < n; k++) ix[k] = k;
      await db.run(`CREATE TEMP TABLE ${side}_f (id INTEGER, features FLOAT[${rank}])`);
      await db.appendFloatRows(`${side}_f`, ix, data, rank);
      const file = join(out, `${side}Factors`, 'part-00000.snappy.parquet');
      try {
        await db.run(`COPY (SELECT id, features::FLOAT[] AS features FROM ${side}_f ORDER BY id) TO ${sqlString(file)} (FORMAT PARQUET, COMPRESSION snappy)`);
        await loadIdTable(db, `${side}_ids`, map);
        const idFile = join(out, `${side}Ids`, 'part-00000.snappy.parquet');
        await db.run(
          `COPY (SELECT id, ix AS "index" FROM ${side}_ids WHERE ix < ${n} ORDER BY ix) TO ${sqlString(idFile)} (FORMAT PARQUET, COMPRESSION snappy)`,
        );
      } catch (err) {
        throw duckError(err, 'E_IO', `writing ${out}`);
      }
      writeFileSync(join(out, `${side}Factors`, '_SUCCESS'), '');
      writeFileSync(join(out, `${side}Ids`, '_SUCCESS'), '');
    }
  });
}
