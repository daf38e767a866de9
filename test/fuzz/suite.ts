// The vitest side of a fuzz target: draws a seed (or takes FUZZ_SEED), prints it, runs the target's cases in
// worker processes and fails with every finding (kind, case, input, how to reproduce). FUZZ_CASE=n runs one case.
import { describe, expect, it } from 'vitest';
import { KINDS, distinctFindings, formatFinding, formatTable, runRange, runSeed, runsFor } from './driver.js';
import { TARGETS } from './targets/index.js';

export function fuzzTarget(name: string): void {
  const meta = TARGETS[name]!;
  const seed = runSeed();
  const only = process.env.FUZZ_CASE;
  const start = only ? Number(only) : 0;
  const runs = only ? 1 : runsFor(name);
  // Generous: the cases' budgets are enforced by the driver; this only stops a runaway run.
  const timeout = 300_000 + runs * meta.budgetMs;
  describe(`fuzz: ${name}`, () => {
    it(
      `${runs} random cases: a well-formed result or a RecsysError, never a crash, hang, other exception or silent coercion`,
      async () => {
        process.stdout.write(`fuzz: ${name} seed ${seed} runs ${runs}${only ? ` case ${only}` : ''} (FUZZ_SEED=${seed} to reproduce)\n`);
        const t = await runRange(name, seed, start, start + runs);
        const refused = Object.entries(t.refused)
          .map(([c, n]) => `${c} ${n}`)
          .join(', ');
        process.stdout.write(`${formatTable([t])}\nrefusals: ${refused || 'none'}\n`);
        const counts = KINDS.map((k) => `${k} ${t.counts[k]}`).join(', ');
        const report = distinctFindings(t.findings)
          .map(({ first, count }) => `${count}x ${formatFinding(first)}`)
          .join('\n');
        expect(t.findings.length, `fuzz ${name} (seed ${seed}): ${counts}; distinct findings:\n${report}\n`).toBe(0);
        expect(t.skipped).toBe(0);
      },
      timeout,
    );
  });
}
