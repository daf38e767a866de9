// The addon reports which BLAS it links and which instruction set its hot kernels run with; with run-time dispatch
// (the portable x64 build and the prebuilt binaries) that must be the best level this CPU supports, judged here from
// /proc/cpuinfo independently of the addon's own test (__builtin_cpu_supports).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { info } from '../../ts/index.js';

const root = join(import.meta.dirname, '..', '..');

/** The x86-64 microarchitecture level of this CPU from its /proc/cpuinfo flags (the psABI's definitions). */
function cpuLevel(): string {
  const flags = new Set(/^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.split(/\s+/) ?? []);
  const has = (...f: string[]) => f.every((x) => flags.has(x));
  const v3 = has('avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave');
  if (v3 && has('avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl')) return 'avx512';
  return v3 ? 'avx2+fma' : 'sse4.2';
}

const x64Linux = process.platform === 'linux' && process.arch === 'x64';

describe('addon info: BLAS and kernel instruction set', () => {
  it.runIf(x64Linux)('a portable build dispatches its kernels to the best level this CPU has', () => {
    const i = info();
    if (i.archFlag !== '-march=x86-64-v2') {
      // RECSYS_MARCH builds (e.g. native) compile one level and do not dispatch
      expect(i.dispatch).toBe(false);
      return;
    }
    expect(i.dispatch).toBe(true);
    expect(i.simd).toBe(cpuLevel());
  });

  const prebuilt = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'recsys.napi.glibc.node');
  it.runIf(x64Linux && existsSync(prebuilt) && existsSync(join(root, 'dist', 'cli', 'main.js')))(
    'recsys info on the prebuilt binary names OpenBLAS (static) and the chosen kernel level',
    () => {
      // PREBUILDS_ONLY: node-gyp-build skips build/Release and loads prebuilds/ (as in an installed package)
      const r = spawnSync(process.execPath, [join(root, 'dist', 'cli', 'main.js'), 'info', '--native-only'], {
        encoding: 'utf8',
        env: { ...process.env, PREBUILDS_ONLY: '1' },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^BLAS: +openblas \d+\.\d+\.\d+ static$/m);
      expect(r.stdout).toContain(`SIMD:     ${cpuLevel()} (chosen at run time over the -march=x86-64-v2 baseline)`);
    },
  );
});
