// A temp directory for tests that need files; remove() it in afterAll.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
