import { describe, expect, it } from 'vitest';
import { addon } from '../../ts/native.js';

// Reference digests from Python's `xxhash` package (xxhash.xxh64(data).hexdigest()).
describe('xxh64', () => {
  const enc = new TextEncoder();
  it('matches the reference implementation', () => {
    expect(addon.xxh64([])).toBe('ef46db3751d8e999');
    expect(addon.xxh64([enc.encode('a')])).toBe('d24ec4f1a98c6e5b');
    expect(addon.xxh64([enc.encode('abc')])).toBe('44bc2cf5ad770999');
    expect(addon.xxh64([Uint8Array.from({ length: 100 }, (_, i) => i)])).toBe('6ac1e58032166597');
    expect(addon.xxh64([enc.encode('recsys model file')])).toBe('a00d625e32e8fc84');
  });
  it('hashes the concatenation of chunks, however they are split', () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 256);
    expect(addon.xxh64([bytes])).toBe('25275608a9cfc168');
    for (const cuts of [[1], [31, 32, 33], [3, 64, 500, 999], [0, 0, 1000]]) {
      const parts: Uint8Array[] = [];
      let at = 0;
      for (const c of [...cuts, 1000]) {
        parts.push(bytes.subarray(at, c));
        at = c;
      }
      expect(addon.xxh64(parts)).toBe('25275608a9cfc168');
    }
    // Typed arrays of any element type are hashed as their bytes.
    expect(addon.xxh64([new Int32Array(bytes.buffer, 0, 250)])).toBe('25275608a9cfc168');
  });
  it('rejects what is not a list of typed arrays', () => {
    expect(() => addon.xxh64('x' as never)).toThrow(/array/);
    expect(() => addon.xxh64([[1, 2]] as never)).toThrow(/typed array/);
  });
});
