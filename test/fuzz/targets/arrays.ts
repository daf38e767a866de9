// Dataset.fromArrays on hostile columns: plain arrays with a few bad entries, typed arrays of every kind,
// BigInt64Array, detached and SharedArrayBuffer-backed buffers, non-arrays, bad duplicate policies.
// Oracle: accepted input is exactly the valid input (ids are strings or finite numbers, ratings and timestamps
// finite numbers; SharedArrayBuffer-backed numeric arrays accepted) and the dataset holds what was given.
import { Dataset, RecsysError } from '../../../ts/index.js';
import { EDGE_NUMBERS, Gen, HOSTILE, showValue } from '../gen.js';
import { coercion, wrong, type Target } from '../target.js';

type Col = 'users' | 'items' | 'ratings' | 'timestamps';
interface Case {
  input: Record<Col, unknown>;
  options: unknown;
  /** Why the input is invalid (empty: valid). */
  invalid: string[];
  /** A SharedArrayBuffer-backed column (valid when its values are). */
  shared: boolean;
  n: number;
}

const isId = (v: unknown) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

const TYPED = ['Float32Array', 'Float64Array', 'Int32Array', 'Uint8Array', 'Int16Array', 'Uint32Array', 'BigInt64Array'] as const;

function typed(g: Gen, kind: (typeof TYPED)[number], values: number[], how: 'plain' | 'shared' | 'detached' | 'offset'): ArrayBufferView {
  const Ctor = globalThis[kind] as unknown as { new (b: ArrayBufferLike, o?: number, n?: number): any; BYTES_PER_ELEMENT: number };
  const bytes = Ctor.BYTES_PER_ELEMENT;
  const off = how === 'offset' ? g.int(1, 3) : 0;
  const buf = how === 'shared' ? new SharedArrayBuffer((values.length + off) * bytes) : new ArrayBuffer((values.length + off) * bytes);
  const a = new Ctor(buf, off * bytes, values.length);
  for (let p = 0; p < values.length; p++) a[p] = kind === 'BigInt64Array' ? BigInt(Math.trunc(values[p]!)) : values[p];
  if (how === 'detached') structuredClone(buf, { transfer: [buf as ArrayBuffer] });
  return a;
}

export const target: Target<Case> = {
  name: 'arrays',
  setup: () => undefined,
  gen(g) {
    const n = g.size(12, 3000);
    const invalid: string[] = [];
    let shared = false;
    const idPool: (string | number)[] = g.bool()
      ? g.array(g.int(1, 8), () => g.int(-5, 1e6))
      : g.array(g.int(1, 8), (j) => g.pick([`u${j}`, String(j), '', ' ', 'é', '\u0000', `${j}.0`]));
    const shortened: Col[] = [];
    const column = (col: Col): unknown => {
      const numeric = col === 'ratings' || col === 'timestamps';
      const base: number[] | unknown[] = numeric
        ? g.array(n, () => (col === 'ratings' ? g.pick([1, 2, 3, 4, 5, 0.5, -1, 0]) : g.int(0, 2e9)))
        : g.array(n, () => (col === 'users' ? g.pick(idPool) : g.pick([...idPool, g.int(0, 50)])));
      return g.weighted<unknown>([
        [numeric ? 2 : 0, () => undefined],
        [numeric ? 1 : 0, () => null],
        [
          10,
          () => {
            const a = [...base];
            const bad = new Map<number, string>();
            // A few hostile or edge entries.
            if (n > 0 && g.bool(0.25)) {
              for (let m = g.int(1, 3); m > 0; m--) {
                const p = g.int(0, n - 1);
                const v = g.bool(0.75) ? g.pick(HOSTILE)[1]() : g.pick(EDGE_NUMBERS);
                a[p] = v;
                if (numeric ? !isNum(v) || (col === 'ratings' && !Number.isFinite(Math.fround(v as number))) : !isId(v))
                  bad.set(p, `${col}[${p}] = ${showValue(v)}`);
                else bad.delete(p);
              }
            }
            invalid.push(...bad.values());
            return a;
          },
        ],
        [
          numeric ? 3 : 1.5,
          () => {
            const kind = g.pick(TYPED);
            const how = g.pick(['plain', 'plain', 'shared', 'detached', 'offset'] as const);
            const vals = base.map((v) => (typeof v === 'number' ? v : g.int(0, 9)));
            // NaN / Infinity in a float array.
            if (numeric && n > 0 && g.bool(0.2) && kind.startsWith('Float')) {
              const p = g.int(0, n - 1);
              vals[p] = g.pick([NaN, Infinity, -Infinity]);
              invalid.push(`${col}[${p}] = ${vals[p]} in a ${kind}`);
            }
            const a = typed(g, kind, vals, how);
            if (kind === 'BigInt64Array') invalid.push(`${col} is a BigInt64Array`);
            if (how === 'detached') invalid.push(`${col} is detached`);
            if (how === 'shared') shared = true;
            return a;
          },
        ],
        [
          1,
          () => {
            const [label, f] = g.pick(HOSTILE);
            const v = f();
            const list = Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView)) ? Array.from(v as ArrayLike<unknown>) : undefined;
            if (!(numeric && (v === null || v === undefined)) && !(list && list.length === n && list.every(numeric ? isNum : isId)))
              invalid.push(`${col} = ${label}`);
            return v;
          },
        ],
        [
          0.5,
          () => {
            shortened.push(col);
            return base.slice(0, Math.max(0, n - 1)).concat(n === 0 ? [1] : []);
          },
        ],
      ]);
    };
    const input = { users: column('users'), items: column('items'), ratings: column('ratings'), timestamps: column('timestamps') };
    // A shortened column is invalid only when it no longer matches the others (users and items both cut to the same
    // length are a smaller, valid input).
    if (shortened.length) {
      const len = (v: unknown) => (Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView)) ? (v as ArrayLike<unknown>).length : undefined);
      const lengths = new Set(
        Object.values(input)
          .map(len)
          .filter((l) => l !== undefined),
      );
      if (lengths.size > 1) invalid.push(`${shortened.join(' and ')} has another length`);
    }
    const options = g.weighted<unknown>([
      [6, () => undefined],
      [4, () => ({ duplicates: g.pick(['last', 'sum', 'max', 'error']) })],
      [
        1,
        () => {
          const v = g.pick([...HOSTILE.map(([, f]) => f()), 'mean', 'first', 'LAST']);
          // null, like undefined, means "not given" (as for the optional columns).
          if (v !== undefined && v !== null) invalid.push(`duplicates = ${showValue(v)}`);
          return { duplicates: v };
        },
      ],
      [
        0.5,
        () => {
          const v = g.pick(HOSTILE)[1]();
          return v;
        },
      ],
    ]);
    // The rows the input really has (shortened columns included), which bounds the dataset's interactions.
    const rows = Array.isArray(input.users) || ArrayBuffer.isView(input.users) ? (input.users as ArrayLike<unknown>).length : n;
    return { input, options, invalid, shared, n: rows };
  },
  show: (c) => `fromArrays(${showValue(c.input)}, ${showValue(c.options)})${c.invalid.length ? ` — invalid: ${c.invalid.join('; ')}` : ''}`,
  run(c) {
    let ds: Dataset;
    try {
      ds = Dataset.fromArrays(c.input as never, c.options as never);
    } catch (e) {
      if (!(e instanceof RecsysError)) throw e;
      if (
        c.invalid.length === 0 &&
        !['E_EMPTY', 'E_DUPLICATE'].includes(e.code) &&
        !(c.options !== undefined && (c.options === null || typeof c.options !== 'object'))
      )
        wrong(`valid input${c.shared ? ' (SharedArrayBuffer-backed)' : ''} refused: ${e.code} ${e.message}`);
      if (c.invalid.some((r) => /BigInt64Array|detached/.test(r)) && c.invalid.length === 1 && e.code !== 'E_ARG')
        wrong(`${c.invalid[0]} gave ${e.code}, not E_ARG`);
      throw e;
    }
    if (c.invalid.length) coercion(`accepted invalid input: ${c.invalid.join('; ')}`);
    // Well-formed: every row is an interaction over known ids, with finite values.
    if (ds.nnz > c.n || ds.nnz < 0) wrong(`nnz ${ds.nnz} for ${c.n} rows`);
    const { indptr, indices, data } = ds.csr;
    if (indptr.length !== ds.nUsers + 1 || indptr[ds.nUsers] !== ds.nnz) wrong('csr.indptr does not match nnz');
    for (let p = 0; p < indices.length; p++) if (indices[p]! < 0 || indices[p]! >= ds.nItems) wrong(`csr.indices[${p}] out of range`);
    if (data) for (let p = 0; p < data.length; p++) if (!Number.isFinite(data[p]!)) wrong(`csr.data[${p}] = ${data[p]}`);
    const users = c.input.users as ArrayLike<unknown>;
    for (let p = 0; p < Math.min(users.length, 50); p++) if (!ds.users.has(users[p] as never)) wrong(`user ${showValue(users[p])} missing from the dataset`);
  },
};
