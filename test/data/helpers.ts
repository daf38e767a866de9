// Temp files for parser tests and a comparison of a parsed Dataset with the reference parser's result.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Dataset } from '../../ts/index.js';
import type { RefResult } from './reference.js';

export class TempDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'recsys-data-'));
  private n = 0;
  /** Writes text (UTF-8) or raw bytes to a new file and returns its path. */
  file(content: string | Uint8Array, name?: string): string {
    const p = join(this.dir, name ?? `f${this.n++}.txt`);
    writeFileSync(p, content);
    return p;
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function expectMatchesReference(ds: Dataset, ref: Extract<RefResult, { ok: true }>): void {
  expect([...ds.users.ids]).toEqual(ref.users);
  expect([...ds.items.ids]).toEqual(ref.items);
  expect(Array.from(ds.csr.indptr)).toEqual(ref.indptr);
  expect(Array.from(ds.csr.indices)).toEqual(ref.indices);
  expect(ds.csr.data === undefined ? undefined : Array.from(ds.csr.data)).toEqual(ref.data);
  expect(ds.csr.times === undefined ? undefined : Array.from(ds.csr.times)).toEqual(ref.times);
}
