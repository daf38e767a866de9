// Dataset.fromArrays takes numbers as numbers and nothing else: no coercion of null, '', true, [3] or '5' into
// ratings or timestamps, typed arrays of any numeric kind (on an ArrayBuffer or a SharedArrayBuffer), and an E_ARG
// naming the argument and the index for everything else (issue 12, item 8).
import { describe, expect, it } from 'vitest';
import { Dataset } from '../../ts/data/dataset.js';
import { RecsysError } from '../../ts/errors.js';

function argErr(f: () => unknown): string {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(RecsysError);
  expect((err as RecsysError).code).toBe('E_ARG');
  return (err as RecsysError).message;
}

const users = [1, 2, 3];
const items = [10, 20, 30];

describe('fromArrays: ratings and timestamps are finite numbers, never coerced', () => {
  it.each([
    [null, 'null'],
    ['', '""'],
    [true, 'true'],
    [[3], '\\[3\\]'],
    ['5', '"5"'],
    [undefined, 'undefined'],
    [{}, '\\{\\}'],
    [3n, '3'],
  ])('ratings[1] = %s is E_ARG naming the index', (bad, shown) => {
    const msg = argErr(() => Dataset.fromArrays({ users, items, ratings: [4, bad, 5] as never }));
    expect(msg).toMatch(new RegExp(`^ratings\\[1\\] is ${shown}; ratings must be finite numbers`));
    const t = argErr(() => Dataset.fromArrays({ users, items, timestamps: [1, 2, bad] as never }));
    expect(t).toMatch(/^timestamps\[2\] is .*; timestamps must be finite numbers/);
  });

  it('a hole in a sparse array is named as one', () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(argErr(() => Dataset.fromArrays({ users, items, ratings: [1, , 2] as never }))).toMatch(/ratings\[1\] is missing \(a hole\)/);
  });

  it('a rating beyond float32 is refused, not stored as Infinity', () => {
    expect(argErr(() => Dataset.fromArrays({ users, items, ratings: [1, 1e39, 2] }))).toMatch(/ratings\[1\] is 1e\+39, beyond the float32 range/);
    expect(argErr(() => Dataset.fromArrays({ users, items, ratings: Float64Array.of(1, 2, 1e39) }))).toMatch(/ratings\[2\] is 1e\+39/);
  });

  it('not an array at all is E_ARG', () => {
    expect(argErr(() => Dataset.fromArrays({ users, items, ratings: 5 as never }))).toMatch(/ratings must be an array of numbers/);
    expect(argErr(() => Dataset.fromArrays({ users, items, timestamps: 'abc' as never }))).toMatch(/timestamps must be an array/);
  });
});

describe('fromArrays: typed arrays', () => {
  it('numeric typed arrays of any kind are read as numbers', () => {
    const ds = Dataset.fromArrays({
      users: Int32Array.of(1, 2, 3),
      items: Uint16Array.of(10, 20, 30),
      ratings: Uint8Array.of(5, 4, 3),
      timestamps: Int32Array.of(7, 8, 9),
    });
    expect(Array.from(ds.csr.data!)).toEqual([5, 4, 3]);
    expect(Array.from(ds.csr.times!)).toEqual([7, 8, 9]);
    expect(ds.users.ids).toEqual([1, 2, 3]);
  });

  it('typed arrays over a SharedArrayBuffer are accepted (ids, ratings, timestamps)', () => {
    const sab = (n: number, bytes: number) => new SharedArrayBuffer(n * bytes);
    const u = new Int32Array(sab(3, 4));
    u.set([1, 2, 3]);
    const r = new Float32Array(sab(3, 4));
    r.set([5, 4, 3]);
    const t = new Float64Array(sab(3, 8));
    t.set([100, 200, 300]);
    const ds = Dataset.fromArrays({ users: u, items, ratings: r, timestamps: t });
    expect(ds.nnz).toBe(3);
    expect(Array.from(ds.csr.data!)).toEqual([5, 4, 3]);
    expect(Array.from(ds.csr.times!)).toEqual([100, 200, 300]);
    expect(ds.csc.indptr.length).toBe(4); // the native transpose reads the arrays too
  });

  it('BigInt64Array and BigUint64Array are E_ARG, not a TypeError', () => {
    expect(argErr(() => Dataset.fromArrays({ users, items, ratings: BigInt64Array.of(1n, 2n, 3n) as never }))).toMatch(
      /ratings is a BigInt64Array; use numbers/,
    );
    expect(argErr(() => Dataset.fromArrays({ users, items, timestamps: BigUint64Array.of(1n, 2n, 3n) as never }))).toMatch(/timestamps is a BigUint64Array/);
    expect(argErr(() => Dataset.fromArrays({ users: BigInt64Array.of(1n, 2n, 3n) as never, items }))).toMatch(/users is a BigInt64Array/);
  });

  it('a detached buffer is E_ARG, not a TypeError or an empty column', () => {
    const detached = <T extends ArrayBufferView>(a: T): T => {
      structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
      return a;
    };
    expect(argErr(() => Dataset.fromArrays({ users, items, ratings: detached(Float32Array.of(1, 2, 3)) }))).toMatch(
      /ratings is a Float32Array whose buffer is detached/,
    );
    expect(argErr(() => Dataset.fromArrays({ users: detached(Int32Array.of(1, 2, 3)), items: detached(Int32Array.of(1, 2, 3)) }))).toMatch(
      /users is a Int32Array whose buffer is detached/,
    );
    expect(argErr(() => Dataset.fromArrays({ users, items, timestamps: new DataView(new ArrayBuffer(24)) as never }))).toMatch(/DataView/);
  });
});

describe('fromArrays: ids are numbers or strings', () => {
  it.each([
    [null, 'null'],
    [true, 'true'],
    [{}, 'an object'],
    [[1], 'an array'],
    [undefined, 'undefined'],
    [5n, '5n \\(a bigint\\)'],
  ])('users[2] = %s is E_ARG naming the index', (bad, shown) => {
    expect(argErr(() => Dataset.fromArrays({ users: [1, 2, bad] as never, items }))).toMatch(
      new RegExp(`^users\\[2\\] is ${shown}; ids must be numbers or strings`),
    );
    expect(argErr(() => Dataset.fromArrays({ users, items: [bad, 2, 3] as never }))).toMatch(new RegExp(`^items\\[0\\] is ${shown}`));
  });

  it('NaN and Infinity ids are E_ARG', () => {
    expect(argErr(() => Dataset.fromArrays({ users: [1, NaN, 3], items }))).toMatch(/users\[1\] is NaN/);
    expect(argErr(() => Dataset.fromArrays({ users, items: Float64Array.of(1, 2, Infinity) }))).toMatch(/items\[2\] is Infinity/);
  });

  it('users or items that are not arrays are E_ARG', () => {
    expect(argErr(() => Dataset.fromArrays({ users: 'abc', items }))).toMatch(/users must be an array of ids/);
    expect(argErr(() => Dataset.fromArrays({ users, items: null as never }))).toMatch(/items must be an array of ids/);
  });
});
