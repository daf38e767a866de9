// Out-of-core ingestion through embedded DuckDB (ts/data/duckdb.ts). The work happens in SQL: column
// checks, validation, deduplication, minimum-interaction filters and the dense id mapping (ids sorted ascending,
// numbered by ROW_NUMBER over the distinct ids, joined back). Only dense int32 coordinates and float values come
// back, chunk by chunk, into preallocated typed arrays from which the native code builds the CSR; the id lists
// come from the distinct-id tables. No interaction ever becomes a JS object.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RecsysError, argError, native, show } from '../errors.js';
import { addon } from '../native.js';
import type { DatasetOptions, DatasetParts, DuplicatePolicy } from './types.js';
import { IdMap, type Id } from './idmap.js';
import type { ColumnMapping, ColumnRef } from './parse.js';
import { DuckSession, duckError, duckMessage, sqlIdent, sqlString, withDuckDB, type DuckDBOptions } from './duckdb.js';

/** Options shared by Dataset.fromParquet, fromCsv and fromQuery. */
export interface DuckDBReadOptions extends DatasetOptions, DuckDBOptions {
  /**
   * Which column holds what, by name (or 0-based position). Default: `user` and `item`, plus `rating` and
   * `timestamp` when the source has columns of those names.
   */
  columns?: ColumnMapping;
  /** A SQL predicate on the source's columns; only rows where it holds are read (e.g. "rating >= 4"). */
  where?: string;
  /**
   * Keep only users with at least this many distinct items (counted after `where` and deduplication, on the
   * input: one pass, not iterated to a k-core). Default 1.
   */
  minUserInteractions?: number;
  /** Keep only items with at least this many distinct users (counted like minUserInteractions). Default 1. */
  minItemInteractions?: number;
  /** Called as each phase ends, with its wall time in seconds (for benchmarks and logs). */
  onPhase?: (phase: string, seconds: number) => void;
}

export interface DuckDBCsvOptions extends DuckDBReadOptions {
  /** Field separator. Default: detected by DuckDB's CSV sniffer. */
  delimiter?: string;
  /** Whether the first line is a header. Default: detected. Without one, columns are named column0, column1, ... */
  header?: boolean;
}

/** Where the rows come from: a table expression plus what error messages call it. */
interface Source {
  kind: 'parquet' | 'csv' | 'query';
  from: string;
  label: string;
  csv?: { delimiter?: string; header?: boolean };
}

const INT_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
const TEXT_TYPE = /^(VARCHAR|TEXT|STRING)$/;
const NUMBER_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|REAL|DOUBLE|DECIMAL(\(\d+,\s*\d+\))?)$/;
const TIME_TYPE = /^(TIMESTAMP.*|DATE)$/;
const MAX_SAFE = '9007199254740991';

// ---- sources ---------------------------------------------------------------------------------------

// A guard rather than Array.isArray inline: that narrows to any[], and a JS caller may pass anything.
function isPathArray(v: unknown): v is readonly string[] {
  return Array.isArray(v) && v.length > 0 && v.every((p: unknown) => typeof p === 'string' && p.length > 0);
}

function pathList(globOrPaths: string | readonly string[], what: string): string[] {
  const list: unknown = typeof globOrPaths === 'string' ? [globOrPaths] : globOrPaths;
  if (!isPathArray(list)) {
    throw argError(`${what} expects a path, a glob, or a non-empty array of them`);
  }
  // A directory means the files in it (how Spark and partitioned exports lay data out).
  return list.map((p) => (!/[*?[]/.test(p) && existsSync(p) && statSync(p).isDirectory() ? join(p, '**', what === 'fromCsv' ? '*.csv' : '*.parquet') : p));
}

function parquetSource(globOrPaths: string | readonly string[]): Source {
  const paths = pathList(globOrPaths, 'fromParquet');
  return { kind: 'parquet', from: `read_parquet([${paths.map(sqlString).join(', ')}])`, label: paths.join(', ') };
}

function csvSource(glob: string | readonly string[], o: DuckDBCsvOptions): Source {
  const paths = pathList(glob, 'fromCsv');
  if (o.delimiter !== undefined && (typeof o.delimiter !== 'string' || o.delimiter.length === 0 || /[\r\n]/.test(o.delimiter))) {
    throw argError(`delimiter must be non-empty text without line breaks, got ${show(o.delimiter)}`);
  }
  if (o.header !== undefined && typeof o.header !== 'boolean') throw argError('header must be a boolean');
  const csv = { delimiter: o.delimiter, header: o.header };
  return { kind: 'csv', from: csvFrom(paths, csv), label: paths.join(', '), csv };
}

function csvFrom(paths: string[], o: { delimiter?: string; header?: boolean }): string {
  const args = [`[${paths.map(sqlString).join(', ')}]`];
  if (o.delimiter !== undefined) args.push(`delim = ${sqlString(o.delimiter)}`);
  if (o.header !== undefined) args.push(`header = ${o.header}`);
  return `read_csv(${args.join(', ')})`;
}

function querySource(sql: string): Source {
  if (typeof sql !== 'string' || sql.trim().length === 0) throw argError('fromQuery expects a SQL query');
  const body = sql.trim().replace(/;\s*$/, '');
  if (body.includes(';')) throw argError('fromQuery expects a single query (no ";")');
  return { kind: 'query', from: `(${body})`, label: 'the query' };
}

// ---- the read --------------------------------------------------------------------------------------

interface Resolved {
  name: string;
  type: string;
}

/** Resolves the column mapping against the source's columns; E_PARSE names the missing one and lists the rest. */
function resolveColumns(
  src: Source,
  schema: Resolved[],
  mapping: ColumnMapping | undefined,
): Record<'user' | 'item' | 'rating' | 'timestamp', Resolved | undefined> {
  const find = (ref: ColumnRef, role: string): Resolved => {
    if (typeof ref === 'number') {
      const c = schema[ref];
      if (!c)
        throw new RecsysError(
          'E_PARSE',
          `${src.label}: ${role} column ${ref} does not exist (${schema.length} columns: ${schema.map((s) => s.name).join(', ')})`,
        );
      return c;
    }
    const c = schema.find((s) => s.name === ref) ?? schema.find((s) => s.name.toLowerCase() === ref.toLowerCase());
    if (!c) throw new RecsysError('E_PARSE', `${src.label}: no column "${ref}" for ${role} (columns: ${schema.map((s) => s.name).join(', ')})`);
    return c;
  };
  if (mapping === undefined) {
    const has = (n: string) => schema.some((s) => s.name.toLowerCase() === n);
    return {
      user: find('user', 'user'),
      item: find('item', 'item'),
      rating: has('rating') ? find('rating', 'rating') : undefined,
      timestamp: has('timestamp') ? find('timestamp', 'timestamp') : undefined,
    };
  }
  if (mapping === null || typeof mapping !== 'object') throw argError('columns must be { user, item, rating?, timestamp? }');
  for (const k of ['user', 'item', 'rating', 'timestamp'] as const) {
    const v = mapping[k];
    if (v === undefined && (k === 'rating' || k === 'timestamp')) continue;
    if (!(typeof v === 'string' ? v.length > 0 : Number.isInteger(v) && (v as number) >= 0)) {
      throw argError(`columns.${k} must be a column name or a 0-based position, got ${show(v)}`);
    }
  }
  const out = {
    user: find(mapping.user, 'user'),
    item: find(mapping.item, 'item'),
    rating: mapping.rating === undefined ? undefined : find(mapping.rating, 'rating'),
    timestamp: mapping.timestamp === undefined ? undefined : find(mapping.timestamp, 'timestamp'),
  };
  const names = Object.values(out)
    .filter((c) => c !== undefined)
    .map((c) => c!.name);
  if (new Set(names).size !== names.length) throw argError('two roles of the column mapping name the same column');
  return out;
}

function checkTypes(src: Source, cols: ReturnType<typeof resolveColumns>): void {
  const bad = (role: string, c: Resolved, want: string) =>
    new RecsysError('E_PARSE', `${src.label}: column "${c.name}" (${role}) has type ${c.type}; ${role} must be ${want}`);
  for (const role of ['user', 'item'] as const) {
    const c = cols[role]!;
    if (!INT_TYPE.test(c.type) && !TEXT_TYPE.test(c.type)) throw bad(role, c, 'an integer or text column');
  }
  if (cols.rating && !NUMBER_TYPE.test(cols.rating.type)) throw bad('rating', cols.rating, 'a numeric column');
  if (cols.timestamp && !NUMBER_TYPE.test(cols.timestamp.type) && !TIME_TYPE.test(cols.timestamp.type)) {
    throw bad('timestamp', cols.timestamp, 'numeric (seconds), a TIMESTAMP or a DATE');
  }
}

function checkReadOptions(o: DuckDBReadOptions): { policy: DuplicatePolicy; minUser: number; minItem: number } {
  if (o === null || typeof o !== 'object') throw argError('options must be an object');
  const policy = o.duplicates ?? 'last';
  if (!['last', 'sum', 'max', 'error'].includes(policy)) throw argError(`duplicates must be 'last', 'sum', 'max' or 'error', got ${show(policy)}`);
  const count = (v: unknown, name: string) => {
    if (v === undefined) return 1;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw argError(`${name} must be an integer >= 1, got ${show(v)}`);
    return v;
  };
  if (o.where !== undefined && (typeof o.where !== 'string' || o.where.trim().length === 0 || o.where.includes(';'))) {
    throw argError('where must be a SQL predicate (non-empty, no ";")');
  }
  if (o.onPhase !== undefined && typeof o.onPhase !== 'function') throw argError('onPhase must be a function');
  return { policy, minUser: count(o.minUserInteractions, 'minUserInteractions'), minItem: count(o.minItemInteractions, 'minItemInteractions') };
}

/** Reads interactions from a DuckDB source: id maps and the CSR (dataset.ts builds the Dataset). */
async function ingest(src: Source, options: DuckDBReadOptions): Promise<DatasetParts> {
  const { policy, minUser, minItem } = checkReadOptions(options);
  let clock = performance.now();
  const phase = (name: string) => {
    const now = performance.now();
    options.onPhase?.(name, (now - clock) / 1000);
    clock = now;
  };
  const built = await withDuckDB(options, async (db) => {
    const where = options.where === undefined ? '' : ` WHERE (${options.where})`;
    let schema: Resolved[];
    try {
      const rows = await db.rows(`DESCRIBE SELECT * FROM ${src.from}`);
      schema = rows.map((r) => ({ name: String(r[0]), type: String(r[1]).toUpperCase() }));
    } catch (err) {
      throw duckError(err, src.kind === 'query' ? 'E_ARG' : 'E_PARSE', `${src.label}`);
    }
    const cols = resolveColumns(src, schema, options.columns);
    checkTypes(src, cols);
    const U = sqlIdent(cols.user!.name);
    const I = sqlIdent(cols.item!.name);
    const R = cols.rating ? sqlIdent(cols.rating.name) : undefined;
    const T = cols.timestamp ? sqlIdent(cols.timestamp.name) : undefined;
    const tExpr = T === undefined ? undefined : TIME_TYPE.test(cols.timestamp!.type) ? `epoch(${T})` : `CAST(${T} AS DOUBLE)`;
    const userInt = INT_TYPE.test(cols.user!.type);
    const itemInt = INT_TYPE.test(cols.item!.type);

    // One validating pass: the row count, NULLs, non-finite values, and whether integer ids stay within 2^53.
    // NULL counts and id ranges are count/min/max, which DuckDB answers from Parquet statistics without a scan.
    const checks: { test: string; agg: string; what: string }[] = [
      { test: `${U} IS NULL`, agg: `count(*) - count(${U})`, what: `user ("${cols.user!.name}") is NULL` },
      { test: `${I} IS NULL`, agg: `count(*) - count(${I})`, what: `item ("${cols.item!.name}") is NULL` },
    ];
    if (R) {
      checks.push({ test: `${R} IS NULL`, agg: `count(*) - count(${R})`, what: `rating ("${cols.rating!.name}") is NULL` });
      // Integers are always finite floats; floating columns need a scan (NaN, infinities, beyond float range).
      const t = cols.rating!.type;
      if (!INT_TYPE.test(t)) {
        const bad = /^(FLOAT|REAL)$/.test(t) ? `NOT isfinite(${R})` : `NOT isfinite(${R}) OR abs(${R}) > 3.4028234663852886e38`;
        checks.push({ test: bad, agg: `count(*) FILTER (WHERE ${bad})`, what: `rating ("${cols.rating!.name}") is not a finite float` });
      }
    }
    if (tExpr) {
      checks.push({ test: `${T} IS NULL`, agg: `count(*) - count(${T})`, what: `timestamp ("${cols.timestamp!.name}") is NULL` });
      if (!INT_TYPE.test(cols.timestamp!.type)) {
        const bad = `NOT isfinite(${tExpr})`;
        checks.push({ test: bad, agg: `count(*) FILTER (WHERE ${bad})`, what: `timestamp ("${cols.timestamp!.name}") is not a finite time` });
      }
    }
    const safe = (c: string, isInt: boolean) => (isInt ? `coalesce(min(${c}) >= -${MAX_SAFE} AND max(${c}) <= ${MAX_SAFE}, true)` : 'true');
    let stats: unknown[];
    try {
      stats = (await db.rows(`SELECT count(*), ${checks.map((c) => c.agg).join(', ')}, ${safe(U, userInt)}, ${safe(I, itemInt)} FROM ${src.from}${where}`))[0]!;
    } catch (err) {
      throw duckError(err, src.kind === 'query' || /Binder|Parser/.test(duckMessage(err)) ? 'E_ARG' : 'E_PARSE', src.label);
    }
    const total = Number(stats[0]);
    for (let k = 0; k < checks.length; k++) {
      if (Number(stats[1 + k]) > 0) {
        const at = await locate(db, src, options.where, checks[k]!.test);
        throw new RecsysError('E_PARSE', `${at}: ${checks[k]!.what} (${Number(stats[1 + k])} such rows)`);
      }
    }
    if (total === 0) throw new RecsysError('E_EMPTY', `${src.label}: no interactions${options.where ? ' match the where clause' : ''}`);
    if (total > 2 ** 31 - 1) throw new RecsysError('E_ARG', `${src.label}: ${total} rows; a Dataset holds at most 2^31-1 interactions`);
    // Integer ids beyond 2^53 cannot be JS numbers: such a column keeps its ids as decimal strings.
    const userNum = userInt && stats[1 + checks.length] === true;
    const itemNum = itemInt && stats[2 + checks.length] === true;
    const uExpr = userNum ? `CAST(${U} AS BIGINT)` : `CAST(${U} AS VARCHAR)`;
    const iExpr = itemNum ? `CAST(${I} AS BIGINT)` : `CAST(${I} AS VARCHAR)`;
    phase('open + validate');

    // Duplicates named by the 'error' policy stop here, before any other work.
    if (policy === 'error') {
      const dup = await db.rows(`SELECT ${uExpr}::VARCHAR AS u, ${iExpr}::VARCHAR AS i FROM ${src.from}${where} GROUP BY ALL HAVING count(*) > 1 LIMIT 1`);
      if (dup.length > 0) {
        const [u, i] = dup[0] as [string, string];
        const cond = `${uExpr} = ${userNum ? u : sqlString(u)} AND ${iExpr} = ${itemNum ? i : sqlString(i)}`;
        const at = await locate(db, src, options.where, cond, 2);
        throw new RecsysError(
          'E_DUPLICATE',
          `duplicate interaction of user ${JSON.stringify(userNum ? Number(u) : u)} and item ${JSON.stringify(itemNum ? Number(i) : i)} at ${at}`,
        );
      }
      phase('duplicates check');
    }

    // Dense ids: the distinct ids in ascending order, numbered from 0, in tables uid / iid (id, ix).
    const dense = async (table: string, expr: string) =>
      db.run(
        `CREATE TEMP TABLE ${table} AS SELECT id, (row_number() OVER (ORDER BY id) - 1)::INTEGER AS ix FROM (SELECT DISTINCT ${expr} AS id FROM ${src.from}${where})`,
      );
    await dense('uid', uExpr);
    await dense('iid', iExpr);
    phase('id maps');

    // The interactions on dense ids (grouping on two int32 beats grouping on the raw ids, text ids above all),
    // deduplicated by the policy. seq is the input order: files in order, rows in file order.
    const needSeq = policy === 'last' || policy === 'max';
    const fields = ['uid.ix AS u', 'iid.ix AS i'];
    if (R) fields.push(`CAST(b.${R} AS FLOAT) AS r`);
    if (tExpr) fields.push(`${tExpr.replaceAll(T!, `b.${T}`)} AS t`);
    if (needSeq) fields.push('b.seq');
    // Parquet rows carry their file and row number (DuckDB virtual columns): no window needed.
    const seqCol = !needSeq ? '' : src.kind === 'parquet' ? ', (file_index::BIGINT << 40) + file_row_number AS seq' : ', row_number() OVER () AS seq';
    const mapped = `(SELECT ${fields.join(', ')} FROM (SELECT *${seqCol} FROM ${src.from}${where}) b JOIN uid ON ${uExpr.replaceAll(U, `b.${U}`)} = uid.id JOIN iid ON ${iExpr.replaceAll(I, `b.${I}`)} = iid.id)`;
    let pairs: string;
    if (policy === 'error') pairs = mapped;
    else if (!R && !tExpr) pairs = `(SELECT DISTINCT u, i FROM ${mapped})`;
    else {
      const agg: string[] = [];
      if (R) agg.push(policy === 'sum' ? 'CAST(sum(r) AS FLOAT) AS r' : policy === 'max' ? 'max(r) AS r' : 'arg_max(r, seq) AS r');
      if (tExpr) {
        agg.push(policy === 'sum' ? 'max(t) AS t' : policy === 'last' ? 'arg_max(t, seq) AS t' : R ? 'arg_max(t, (r, -seq)) AS t' : 'arg_min(t, seq) AS t');
      }
      pairs = `(SELECT u, i, ${agg.join(', ')} FROM ${mapped} GROUP BY u, i)`;
    }

    // Filters count the deduplicated pairs, so those are materialized; the kept users and items are then
    // renumbered in the same (ascending id) order.
    let stream = pairs;
    let capacity = total;
    let nPairs = -1;
    let userIds = 'SELECT id FROM uid ORDER BY ix';
    let itemIds = 'SELECT id FROM iid ORDER BY ix';
    if (minUser > 1 || minItem > 1) {
      await db.run(`CREATE TEMP TABLE pairs AS SELECT * FROM ${pairs}`);
      nPairs = Number((await db.rows('SELECT count(*) FROM pairs'))[0]![0]);
      const conds: string[] = [];
      if (minUser > 1) conds.push(`u IN (SELECT u FROM pairs GROUP BY u HAVING count(*) >= ${minUser})`);
      if (minItem > 1) conds.push(`i IN (SELECT i FROM pairs GROUP BY i HAVING count(*) >= ${minItem})`);
      await db.run(`CREATE TEMP TABLE kept AS SELECT * FROM pairs WHERE ${conds.join(' AND ')}`);
      await db.run('DROP TABLE pairs');
      capacity = Number((await db.rows('SELECT count(*) FROM kept'))[0]![0]);
      if (capacity === 0) throw new RecsysError('E_EMPTY', `${src.label}: no interactions are left after the minimum-interaction filters`);
      await db.run('CREATE TEMP TABLE ku AS SELECT u AS old, (row_number() OVER (ORDER BY u) - 1)::INTEGER AS ix FROM (SELECT DISTINCT u FROM kept)');
      await db.run('CREATE TEMP TABLE ki AS SELECT i AS old, (row_number() OVER (ORDER BY i) - 1)::INTEGER AS ix FROM (SELECT DISTINCT i FROM kept)');
      stream = `(SELECT ku.ix AS u, ki.ix AS i${R ? ', k.r' : ''}${tExpr ? ', k.t' : ''} FROM kept k JOIN ku ON k.u = ku.old JOIN ki ON k.i = ki.old)`;
      userIds = 'SELECT uid.id FROM ku JOIN uid ON ku.old = uid.ix ORDER BY ku.ix';
      itemIds = 'SELECT iid.id FROM ki JOIN iid ON ki.old = iid.ix ORDER BY ki.ix';
      phase('filters');
    }
    const [nu, ni] = (await db.rows(`SELECT (SELECT count(*) FROM (${userIds})), (SELECT count(*) FROM (${itemIds}))`))[0]!.map(Number) as [number, number];
    if (nu >= 2 ** 31 - 1 || ni >= 2 ** 31 - 1) throw new RecsysError('E_ARG', `${src.label}: more than 2^31-2 distinct users or items`);

    // The interactions as dense coordinates, chunk by chunk into preallocated typed arrays.
    const rows = new Int32Array(capacity);
    const colsA = new Int32Array(capacity);
    const values = R ? new Float32Array(capacity) : undefined;
    const times = tExpr ? new Float64Array(capacity) : undefined;
    const kinds = ['i32', 'i32', ...(R ? ['f32'] : []), ...(tExpr ? ['f64'] : [])] as ('i32' | 'f32' | 'f64')[];
    let n = 0;
    await db.stream(`SELECT u, i${R ? ', r' : ''}${tExpr ? ', t' : ''} FROM ${stream}`, kinds, (c, m) => {
      if (n + m > capacity) throw new RecsysError('E_STATE', 'DuckDB returned more rows than it counted');
      rows.set(c[0] as Int32Array, n);
      colsA.set(c[1] as Int32Array, n);
      let k = 2;
      if (values) values.set(c[k++] as Float32Array, n);
      if (times) times.set(c[k++] as Float64Array, n);
      n += m;
    });
    phase('dedupe + stream');
    const ids = async (sql: string, numeric: boolean): Promise<Id[]> => {
      if (!numeric) return db.strings(sql);
      const out: number[] = [];
      await db.stream(`SELECT id::DOUBLE FROM (${sql})`, ['f64'], (c) => {
        for (const v of c[0]!) out.push(v);
      });
      return out;
    };
    const users = new IdMap(await ids(userIds, userNum));
    const items = new IdMap(await ids(itemIds, itemNum));
    if (users.size !== nu || items.size !== ni) throw new RecsysError('E_STATE', 'DuckDB id lists changed size');
    phase('id lists');
    const merged = policy === 'error' ? 0 : total - (nPairs >= 0 ? nPairs : n);
    return { users, items, rows: rows.subarray(0, n), cols: colsA.subarray(0, n), values: values?.subarray(0, n), times: times?.subarray(0, n), merged };
  });
  // DuckDB is closed by now: the CSR is built natively from the coordinates (no duplicates are left).
  const { duplicates: _none, ...csr } = native(() =>
    addon.buildCsr(built.users.size, built.items.size, built.rows, built.cols, built.values, built.times, 'error'),
  );
  phase('csr');
  return { users: built.users, items: built.items, csr, duplicates: built.merged };
}

/** "file: row N" (Parquet), "file: data row N" (CSV) or "row N of the query" for the first `count` rows matching `cond`. */
async function locate(db: DuckSession, src: Source, where: string | undefined, cond: string, count = 1): Promise<string> {
  const filter = ` WHERE (${cond})${where ? ` AND (${where})` : ''}`;
  // Row numbers count every row of the file or query, so the where clause goes into the test, not before it.
  const bad = `coalesce((${cond})${where ? ` AND (${where})` : ''}, false)`;
  try {
    if (src.kind === 'parquet') {
      const r = await db.rows(`SELECT filename, file_row_number FROM ${src.from}${filter} ORDER BY filename, file_row_number LIMIT ${count}`);
      return r.map((x) => `${String(x[0])}: row ${Number(x[1]) + 1}`).join(' and ') || src.label;
    }
    if (src.kind === 'csv') {
      const files = await db.rows(`SELECT DISTINCT filename FROM ${src.from}${filter} ORDER BY filename LIMIT ${count}`);
      const out: string[] = [];
      for (const [f] of files) {
        const one = csvFrom([String(f)], src.csv ?? {});
        const r = await db.rows(`SELECT n FROM (SELECT row_number() OVER () AS n, ${bad} AS bad FROM ${one}) WHERE bad LIMIT ${count - out.length}`);
        for (const [n] of r) out.push(`${String(f)}: data row ${Number(n)}`);
        if (out.length >= count) break;
      }
      return out.join(' and ') || src.label;
    }
    const r = await db.rows(`SELECT n FROM (SELECT row_number() OVER () AS n, ${bad} AS bad FROM ${src.from}) WHERE bad LIMIT ${count}`);
    return r.map((x) => `row ${Number(x[0])} of the query`).join(' and ') || src.label;
  } catch {
    return src.label; // the location is a courtesy: never let it hide the real error
  }
}

export function readParquet(globOrPaths: string | readonly string[], options: DuckDBReadOptions = {}): Promise<DatasetParts> {
  return ingest(parquetSource(globOrPaths), options ?? {});
}

export function readCsv(glob: string | readonly string[], options: DuckDBCsvOptions = {}): Promise<DatasetParts> {
  return ingest(csvSource(glob, options ?? {}), options ?? {});
}

export function readQuery(sql: string, options: DuckDBReadOptions = {}): Promise<DatasetParts> {
  return ingest(querySource(sql), options ?? {});
}

// ---- export ----------------------------------------------------------------------------------------

/** How a map's ids are stored: 'bigint' (safe integers), 'double' (other numbers) or 'text'. */
function idKind(map: IdMap): 'bigint' | 'double' | 'text' {
  let ints = true;
  for (const id of map.ids) {
    if (typeof id !== 'number') return 'text';
    if (!Number.isSafeInteger(id)) ints = false;
  }
  return ints ? 'bigint' : 'double';
}

/** @internal Loads an id map into table `name` (ix INTEGER, id BIGINT | DOUBLE | VARCHAR). */
export async function loadIdTable(db: DuckSession, name: string, map: IdMap): Promise<void> {
  const kind = idKind(map);
  const ix = new Int32Array(map.size);
  for (let k = 0; k < map.size; k++) ix[k] = k;
  if (kind === 'text') {
    await db.run(`CREATE TEMP TABLE ${name}_s (id VARCHAR)`);
    await db.appendStrings(`${name}_s`, map.ids.map(String));
    await db.run(`CREATE TEMP TABLE ${name} AS SELECT (row_number() OVER () - 1)::INTEGER AS ix, id FROM ${name}_s`);
    await db.run(`DROP TABLE ${name}_s`);
    return;
  }
  await db.run(`CREATE TEMP TABLE ${name}_d (ix INTEGER, id DOUBLE)`);
  await db.appendColumns(`${name}_d`, [ix, Float64Array.from(map.ids as number[])], map.size);
  await db.run(`CREATE TEMP TABLE ${name} AS SELECT ix, ${kind === 'bigint' ? 'CAST(id AS BIGINT)' : 'id'} AS id FROM ${name}_d`);
  await db.run(`DROP TABLE ${name}_d`);
}
