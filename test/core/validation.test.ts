// Issue 12 item 1: every native entry point checks every array it reads. The corrupted arrays are public fields
// (ds.csr, ds.csc) or plain arguments; the checks run in a child process so that a segfault fails the test.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('native input validation', () => {
  it('corrupted CSR and index arrays give E_ARG naming the argument, never a crash', () => {
    const out = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'test/core/validation.child.ts')], { cwd: root, encoding: 'utf8' });
    const lines = out.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { name: string; code: string; message?: string });
    // A crash shows as a signal or a non-zero status with the last case that completed.
    expect({ status: out.status, signal: out.signal, last: lines.at(-1)?.name, stderr: out.stderr.slice(-2000) }).toMatchObject({ status: 0, signal: null });
    expect(lines.length).toBeGreaterThan(60);
    for (const l of lines) {
      expect(l.code, `${l.name}: ${l.message}`).toBe('E_ARG');
      // The message names the argument that was corrupted (train, trainTransposed, seen, matrix, test, rows ...).
      const arg = l.name.split(' ')[1]!.split('.')[0]!;
      expect(l.message, l.name).toContain(arg);
    }
  }, 180_000);
});
