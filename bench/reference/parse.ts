// A plain TS parser of interaction files with the same rules as native/data/parse.cc (see its header comment),
// written for clarity (whole text in memory, regexes, sorting) so the native streaming parser can be checked
// against it on any input (test/data/fuzz.test.ts), and the plain-TS baseline of the kernel benchmark.
import type { Id } from '../../ts/index.js';

export interface RefOptions {
  delimiter: string;
  quote: boolean;
  header: boolean;
  /** exact field count, 0 = from header or first data line */
  fields: number;
  columns: { user: number | string; item: number | string; rating?: number | string; timestamp?: number | string };
}

export type RefResult =
  | {
      ok: true;
      users: Id[];
      items: Id[];
      indptr: number[];
      indices: number[];
      data?: number[];
      times?: number[];
    }
  | { ok: false; code: 'E_PARSE' | 'E_EMPTY'; line?: number; why: string };

class Fail extends Error {
  constructor(
    readonly line: number,
    readonly why: string,
  ) {
    super(why);
  }
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const CANONICAL = /^(0|-?[1-9]\d*)$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decode(binary: string): string | undefined {
  try {
    return utf8.decode(Buffer.from(binary, 'latin1'));
  } catch {
    return undefined;
  }
}

/** Parses a file's bytes; ids keep first-seen order, duplicates keep the last (policy 'last'). */
export function refParse(bytes: Uint8Array, o: RefOptions): RefResult {
  let s = Buffer.from(bytes).toString('latin1'); // one char per byte: positions are byte positions
  if (s.startsWith('\xEF\xBB\xBF')) s = s.slice(3);
  const trim = [' ', '\t'].filter((c) => !o.delimiter.includes(c));
  const isTrim = (c: string | undefined) => c !== undefined && trim.includes(c);
  const dl = o.delimiter.length;

  const split = (line: string, lineNo: number): string[] => {
    const out: string[] = [];
    let p = 0;
    for (;;) {
      let st = p;
      while (st < line.length && isTrim(line[st])) st++;
      if (o.quote && line[st] === '"') {
        let v = '';
        let q = st + 1;
        for (;;) {
          const c = line.indexOf('"', q);
          if (c < 0) throw new Fail(lineNo, 'no closing quote');
          v += line.slice(q, c);
          if (line[c + 1] === '"') {
            v += '"';
            q = c + 2;
            continue;
          }
          q = c + 1;
          break;
        }
        out.push(v);
        while (q < line.length && isTrim(line[q])) q++;
        if (q === line.length) return out;
        if (!line.startsWith(o.delimiter, q)) throw new Fail(lineNo, 'text after closing quote');
        p = q + dl;
        continue;
      }
      let d = line.indexOf(o.delimiter, st);
      if (d < 0) d = line.length;
      let e = d;
      while (e > st && isTrim(line[e - 1])) e--;
      out.push(line.slice(st, e));
      if (d === line.length) return out;
      p = d + dl;
    }
  };

  const cols = { ...o.columns };
  let expected = o.fields;
  let headerPending = o.header;
  const userTok: string[] = [];
  const itemTok: string[] = [];
  const values: number[] = [];
  const times: number[] = [];
  const need = () => 1 + Math.max(...[cols.user, cols.item, cols.rating ?? -1, cols.timestamp ?? -1].map((c) => (typeof c === 'number' ? c : -1)));
  const num = (tok: string, lineNo: number, what: string): number => {
    if (!NUMBER.test(tok)) throw new Fail(lineNo, `${what} not a number`);
    const v = Number(tok);
    if (!Number.isFinite(v)) throw new Fail(lineNo, `${what} not finite`);
    return v;
  };
  const idTok = (tok: string, lineNo: number, what: string): string => {
    if (tok.length === 0) throw new Fail(lineNo, `empty ${what}`);
    if (decode(tok) === undefined) throw new Fail(lineNo, `${what} not utf-8`);
    return tok;
  };

  try {
    const lines = s.split('\n');
    for (let k = 0; k < lines.length; k++) {
      const lineNo = k + 1;
      let line = lines[k]!;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (/^[ \t]*$/.test(line)) continue;
      const f = split(line, lineNo);
      if (headerPending) {
        headerPending = false;
        for (const key of ['user', 'item', 'rating', 'timestamp'] as const) {
          const c = cols[key];
          if (typeof c !== 'string') continue;
          const at = f.indexOf(c);
          if (at < 0) throw new Fail(lineNo, `no ${key} column`);
          cols[key] = at;
        }
        if (expected === 0) expected = f.length;
        else if (f.length !== expected) throw new Fail(lineNo, 'header field count');
        if (expected < need()) throw new Fail(lineNo, 'mapping needs more fields');
        continue;
      }
      if (expected === 0) {
        expected = f.length;
        if (expected < need()) throw new Fail(lineNo, 'mapping needs more fields');
      }
      if (f.length !== expected) throw new Fail(lineNo, 'field count');
      userTok.push(idTok(f[cols.user as number]!, lineNo, 'user'));
      itemTok.push(idTok(f[cols.item as number]!, lineNo, 'item'));
      if (cols.rating !== undefined) {
        const v = Math.fround(num(f[cols.rating as number]!, lineNo, 'rating'));
        if (!Number.isFinite(v)) throw new Fail(lineNo, 'rating not float32');
        values.push(v);
      }
      if (cols.timestamp !== undefined) times.push(num(f[cols.timestamp as number]!, lineNo, 'timestamp'));
    }
  } catch (err) {
    if (err instanceof Fail) return { ok: false, code: 'E_PARSE', line: err.line, why: err.why };
    throw err;
  }
  if (userTok.length === 0) return { ok: false, code: 'E_EMPTY', why: 'no interactions' };

  const mapIds = (toks: string[]): { ids: Id[]; ix: number[] } => {
    const numeric = toks.every((t) => CANONICAL.test(t) && Number.isSafeInteger(Number(t)));
    const seen = new Map<string, number>();
    const ids: Id[] = [];
    const ix = toks.map((t) => {
      let i = seen.get(t);
      if (i === undefined) {
        i = ids.length;
        seen.set(t, i);
        ids.push(numeric ? Number(t) : decode(t)!);
      }
      return i;
    });
    return { ids, ix };
  };
  const u = mapIds(userTok);
  const it = mapIds(itemTok);
  // CSR with 'last' for duplicates: per row, the last entry of each column wins.
  const rows: Map<number, number>[] = u.ids.map(() => new Map());
  for (let p = 0; p < userTok.length; p++) rows[u.ix[p]!]!.set(it.ix[p]!, p);
  const indptr = [0];
  const indices: number[] = [];
  const data: number[] = [];
  const ts: number[] = [];
  for (const r of rows) {
    for (const [c, p] of [...r.entries()].sort((a, b) => a[0] - b[0])) {
      indices.push(c);
      if (cols.rating !== undefined) data.push(values[p]!);
      if (cols.timestamp !== undefined) ts.push(times[p]!);
    }
    indptr.push(indices.length);
  }
  const res: RefResult = { ok: true, users: u.ids, items: it.ids, indptr, indices };
  if (cols.rating !== undefined) res.data = data;
  if (cols.timestamp !== undefined) res.times = ts;
  return res;
}
