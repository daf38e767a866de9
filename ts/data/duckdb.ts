// Embedded DuckDB for the out-of-core paths (Dataset.fromParquet / fromCsv / fromQuery, exportParquet, the Spark
// model files). DuckDB (about 70 MB) is an optional peer dependency: it is imported on first use only, so
// `import 'recsys'` never loads it, and without it these paths raise E_DEPENDENCY with the npm install line. Results come back as column chunks copied straight into typed arrays (no row objects), and typed
// arrays go in the same way (appender + data chunks). Every session is an in-memory database with its own spill
// directory, and extension auto-install/auto-load are off: Parquet, CSV and JSON are compiled in, and nothing is
// ever fetched at run time.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { RecsysError, argError, show, type RecsysErrorCode } from '../errors.js';
import { packageJson } from '../info.js';

type NodeApi = typeof import('@duckdb/node-api');
type Bindings = typeof import('@duckdb/node-bindings');
type Connection = import('@duckdb/node-api').DuckDBConnection;
type Instance = import('@duckdb/node-api').DuckDBInstance;
type DataChunk = import('@duckdb/node-api').DuckDBDataChunk;

/** The npm command that installs DuckDB at the version recsys is tested with (package.json peerDependencies). */
export function duckdbInstallCommand(): string {
  const peers = packageJson().peerDependencies;
  return `npm install ${['@duckdb/node-api', '@duckdb/node-bindings'].map((p) => `${p}@${peers[p]}`).join(' ')}`;
}

let loading: Promise<{ api: NodeApi; raw: Bindings }> | undefined;

/** @internal Imports DuckDB once; E_DEPENDENCY (with the install command) when the optional dependency is missing. */
export function loadDuckDB(): Promise<{ api: NodeApi; raw: Bindings }> {
  loading ??= (async () => {
    try {
      const api = await import('@duckdb/node-api');
      // A CommonJS module whose exports Node cannot list statically: everything is on its default export.
      const mod = (await import('@duckdb/node-bindings')) as Bindings & { default?: Bindings };
      const raw = mod.default ?? mod;
      return { api, raw };
    } catch (err) {
      loading = undefined;
      throw new RecsysError(
        'E_DEPENDENCY',
        `this needs DuckDB, an optional dependency of recsys that is not installed here (${(err as Error).message}); ` +
          `install it with: ${duckdbInstallCommand()}`,
        { cause: err },
      );
    }
  })();
  return loading;
}

/** Resources of the embedded DuckDB a call may use. */
export interface DuckDBOptions {
  /** DuckDB worker threads. Default: every hardware thread. */
  threads?: number;
  /**
   * Memory DuckDB may hold before it spills to `tempDirectory`, as DuckDB writes it ('4GB', '800MB'). Default: a
   * quarter of the machine's RAM (the typed arrays and the CSR built from them come on top of it).
   */
  memoryLimit?: string;
  /** Where DuckDB spills. Default: a fresh directory under the OS temp dir, removed afterwards. */
  tempDirectory?: string;
}

function checkOptions(o: DuckDBOptions): void {
  if (o.threads !== undefined && (!Number.isInteger(o.threads) || o.threads < 1 || o.threads > 1024)) {
    throw argError(`threads must be an integer in [1, 1024], got ${show(o.threads)}`);
  }
  if (o.memoryLimit !== undefined && (typeof o.memoryLimit !== 'string' || !/^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$/i.test(o.memoryLimit))) {
    throw argError(`memoryLimit must be a size such as '4GB' or '800MB', got ${show(o.memoryLimit)}`);
  }
  if (o.tempDirectory !== undefined && (typeof o.tempDirectory !== 'string' || o.tempDirectory.length === 0)) {
    throw argError('tempDirectory must be a non-empty path');
  }
}

/** SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}
/** SQL identifier. */
export function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** The first line of a DuckDB error ("Binder Error: ..."), without the SQL excerpt DuckDB appends. */
export function duckMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.split('\n')[0]!.trim();
}

/** A RecsysError from a DuckDB error: a missing file is E_IO, a missing extension E_UNSUPPORTED, the rest `code`. */
export function duckError(err: unknown, code: RecsysErrorCode, context: string): RecsysError {
  if (err instanceof RecsysError) return err;
  const m = duckMessage(err);
  let c = code;
  if (/^IO Error/i.test(m) || /No files found/i.test(m)) c = 'E_IO';
  else if (/extension/i.test(m) && /(autoload|not loaded|install|Missing Extension)/i.test(m)) c = 'E_UNSUPPORTED';
  else if (/^Out of Memory Error/i.test(m)) c = 'E_MEMORY';
  else if (/^INTERRUPT/i.test(m)) c = 'E_CANCELLED';
  const hint = c === 'E_UNSUPPORTED' ? ' (recsys runs DuckDB without downloading extensions: read remote data through a local copy or Spark)' : '';
  return new RecsysError(c, `${context}: ${m}${hint}`, { cause: err });
}

/** Columns of a chunk as typed arrays. */
export type ColumnKind = 'i32' | 'f32' | 'f64';

/** @internal One in-memory DuckDB with one connection. close() frees it and removes its spill directory. */
export class DuckSession {
  private spill?: string;
  private constructor(
    readonly api: NodeApi,
    readonly raw: Bindings,
    private readonly instance: Instance,
    readonly conn: Connection,
    spill: string | undefined,
  ) {
    this.spill = spill;
  }

  static async open(options: DuckDBOptions = {}): Promise<DuckSession> {
    if (options === null || typeof options !== 'object') throw argError('options must be an object');
    checkOptions(options);
    const { api, raw } = await loadDuckDB();
    const spill = options.tempDirectory === undefined ? mkdtempSync(join(tmpdir(), 'recsys-duckdb-')) : undefined;
    const config: Record<string, string> = {
      threads: String(options.threads ?? availableParallelism()),
      memory_limit: options.memoryLimit ?? `${Math.max(256, Math.floor(totalmem() / 4 / 2 ** 20))}MB`,
      temp_directory: options.tempDirectory ?? spill!,
      // Never fetch anything: the formats recsys reads are compiled into the binding.
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      allow_community_extensions: 'false',
    };
    let instance: Instance | undefined;
    try {
      instance = await api.DuckDBInstance.create(':memory:', config);
      const conn = await instance.connect();
      return new DuckSession(api, raw, instance, conn, spill);
    } catch (err) {
      instance?.closeSync();
      if (spill) rmSync(spill, { recursive: true, force: true });
      throw duckError(err, 'E_ARG', 'DuckDB could not start');
    }
  }

  async run(sql: string): Promise<void> {
    await this.conn.run(sql);
  }

  /** A small result as rows of JS values (bigints become numbers when safe). */
  async rows(sql: string): Promise<unknown[][]> {
    const r = await this.conn.runAndReadAll(sql);
    return r.getRowsJS() as unknown[][];
  }

  /**
   * Streams a query and hands each chunk's columns to `sink` as typed arrays of the given kinds (INTEGER -> i32,
   * FLOAT -> f32, DOUBLE -> f64; the query must cast to those). The arrays are copies of DuckDB's vectors, valid
   * only during the call. A NULL in any column is an error (`nullMessage(column)`): callers validate before.
   */
  async stream(sql: string, kinds: readonly ColumnKind[], sink: (cols: (Int32Array | Float32Array | Float64Array)[], n: number) => void): Promise<void> {
    const result = await this.conn.stream(sql);
    if (result.columnCount !== kinds.length) throw new RecsysError('E_STATE', `query returned ${result.columnCount} columns, expected ${kinds.length}`);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      sink(this.columns(chunk, kinds), chunk.rowCount);
    }
  }

  /** A chunk's columns as typed arrays (copied from DuckDB's vectors by the binding). */
  columns(chunk: DataChunk, kinds: readonly ColumnKind[]): (Int32Array | Float32Array | Float64Array)[] {
    const n = chunk.rowCount;
    return kinds.map((kind, c) => {
      const vec = this.raw.data_chunk_get_vector(chunk.chunk, c);
      // A validity mask exists only when a NULL may be there; then check its bits.
      const mask = this.raw.vector_get_validity(vec, Math.ceil(n / 64) * 8);
      if (mask) {
        for (let r = 0; r < n; r++) {
          if (!this.raw.validity_row_is_valid(mask, r)) throw new RecsysError('E_STATE', `column ${c} of a DuckDB result has a NULL at row ${r}`);
        }
      }
      const width = kind === 'f64' ? 8 : 4;
      const bytes = this.raw.vector_get_data(vec, n * width);
      const aligned = bytes.byteOffset % width === 0 ? bytes : bytes.slice();
      if (kind === 'i32') return new Int32Array(aligned.buffer, aligned.byteOffset, n);
      if (kind === 'f32') return new Float32Array(aligned.buffer, aligned.byteOffset, n);
      return new Float64Array(aligned.buffer, aligned.byteOffset, n);
    });
  }

  /** The VARCHAR column of a query, in order (for id lists: strings have to become JS strings one by one). */
  async strings(sql: string): Promise<string[]> {
    const result = await this.conn.stream(sql);
    const out: string[] = [];
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const v = chunk.getColumnVector(0);
      for (let r = 0; r < chunk.rowCount; r++) {
        const s = v.getItem(r);
        if (typeof s !== 'string') throw new RecsysError('E_STATE', 'a string id came back NULL');
        out.push(s);
      }
    }
    return out;
  }

  /**
   * Appends typed arrays to a table whose columns match them (INTEGER <- Int32Array, FLOAT <- Float32Array,
   * DOUBLE <- Float64Array), a vector's worth of rows at a time copied by the binding (no per-value JS work).
   */
  async appendColumns(table: string, columns: (Int32Array | Float32Array | Float64Array)[], n: number): Promise<void> {
    const { api, raw } = this;
    const types = columns.map((c) => (c instanceof Int32Array ? api.INTEGER : c instanceof Float32Array ? api.FLOAT : api.DOUBLE));
    const appender = await this.conn.createAppender(table);
    try {
      const size = api.DuckDBVector.standardSize();
      const chunk = api.DuckDBDataChunk.create(types, size);
      for (let start = 0; start < n; start += size) {
        const m = Math.min(size, n - start);
        chunk.rowCount = m;
        columns.forEach((col, c) => {
          const w = col.BYTES_PER_ELEMENT;
          raw.copy_data_to_vector(raw.data_chunk_get_vector(chunk.chunk, c), 0, col.buffer as ArrayBuffer, col.byteOffset + start * w, m * w);
        });
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  /**
   * Streams a query whose only column is FLOAT[width] (a fixed-size array: cast lists with ::FLOAT[width]) and
   * hands each chunk's vectors to `sink` as one row-major Float32Array of n * width values.
   */
  async floatRows(sql: string, width: number, sink: (rows: Float32Array, n: number) => void): Promise<void> {
    const { raw } = this;
    const result = await this.conn.stream(sql);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const n = chunk.rowCount;
      const vec = raw.data_chunk_get_vector(chunk.chunk, 0);
      const mask = raw.vector_get_validity(vec, Math.ceil(n / 64) * 8);
      if (mask)
        for (let r = 0; r < n; r++) if (!raw.validity_row_is_valid(mask, r)) throw new RecsysError('E_STATE', `a factor row came back NULL at row ${r}`);
      const bytes = raw.vector_get_data(raw.array_vector_get_child(vec), n * width * 4);
      const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
      sink(new Float32Array(aligned.buffer, aligned.byteOffset, n * width), n);
    }
  }

  /** Appends (id INTEGER, v FLOAT[width]) rows from ids and a row-major matrix, a vector's worth at a time. */
  async appendFloatRows(table: string, ids: Int32Array, rows: Float32Array, width: number): Promise<void> {
    const { api, raw } = this;
    const n = ids.length;
    const appender = await this.conn.createAppender(table);
    try {
      const size = api.DuckDBVector.standardSize();
      const chunk = api.DuckDBDataChunk.create([api.INTEGER, api.ARRAY(api.FLOAT, width)], size);
      for (let start = 0; start < n; start += size) {
        const m = Math.min(size, n - start);
        chunk.rowCount = m;
        raw.copy_data_to_vector(raw.data_chunk_get_vector(chunk.chunk, 0), 0, ids.buffer as ArrayBuffer, ids.byteOffset + start * 4, m * 4);
        const child = raw.array_vector_get_child(raw.data_chunk_get_vector(chunk.chunk, 1));
        raw.copy_data_to_vector(child, 0, rows.buffer as ArrayBuffer, rows.byteOffset + start * width * 4, m * width * 4);
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  /** Appends strings to a one-column VARCHAR table. */
  async appendStrings(table: string, values: readonly string[]): Promise<void> {
    const appender = await this.conn.createAppender(table);
    try {
      for (const v of values) {
        appender.appendVarchar(v);
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  close(): void {
    try {
      this.conn.closeSync();
      this.instance.closeSync();
    } finally {
      if (this.spill) rmSync(this.spill, { recursive: true, force: true });
      this.spill = undefined;
    }
  }
}

/** @internal Opens a session, runs `f`, and always closes it. */
export async function withDuckDB<T>(options: DuckDBOptions, f: (s: DuckSession) => Promise<T>): Promise<T> {
  const s = await DuckSession.open(options);
  try {
    return await f(s);
  } finally {
    s.close();
  }
}
