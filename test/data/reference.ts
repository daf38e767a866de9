// Checks a native Dataset against the plain-TS reference parser (bench/reference/parse.ts).
import { expect } from 'vitest';
import type { Dataset } from '../../ts/index.js';
import type { RefResult } from '../../bench/reference/parse.js';

export { refParse, type RefOptions, type RefResult } from '../../bench/reference/parse.js';

/** Checks a parsed Dataset against the reference result: the same ids in the same order and the same CSR. */
export function expectMatchesReference(ds: Dataset, ref: Extract<RefResult, { ok: true }>): void {
  expect([...ds.users.ids]).toEqual(ref.users);
  expect([...ds.items.ids]).toEqual(ref.items);
  expect(Array.from(ds.csr.indptr)).toEqual(ref.indptr);
  expect(Array.from(ds.csr.indices)).toEqual(ref.indices);
  expect(ds.csr.data === undefined ? undefined : Array.from(ds.csr.data)).toEqual(ref.data);
  expect(ds.csr.times === undefined ? undefined : Array.from(ds.csr.times)).toEqual(ref.times);
}
