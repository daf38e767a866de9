// Cases that long campaigns (npm run fuzz) once reported, rerun on every test run with their seeds, so neither
// the fix nor the oracle fix that answered them can come back. Add a line per distinct finding a campaign shows.
import { describe, expect, it } from 'vitest';
import { distinctFindings, formatFinding, runRange } from './driver.js';

const CASES: ReadonlyArray<readonly [target: string, seed: number, index: number, what: string]> = [
  // Campaign of 2026-12-06 (seed 92752502, 200,000 cases).
  ['options', 92752502, 1525, 'a key drawn twice: the oracle kept an earlier never-valid value (seed = new Date(0))'],
  ['options', 92752502, 5691, 'the same with threads = -Infinity, then a valid threads'],
  ['options', 92752502, 4251, 'MLP validation = 1e-320 holds out nothing: E_ARG naming validation, not E_EMPTY'],
  ['options', 92752502, 5422, 'MultVAE latent 65536: refused by the estimate under the capped maxMemoryBytes'],
  ['http', 92752502, 16983, "'/v1/users/../recommendations' is routed as '/v1/recommendations' (dot segments resolved)"],
  ['modelfile', 2720205316, 14208, 'ItemKNN neighbor_scores[56] = 3e38: refused at load (scores would overflow), not Infinity'],
  ['modelfile', 1926696654, 5706, 'KNNWithMeans neighbor_sims[13] = 3e38: refused at load (similarities lie in [-1, 1]), not Infinity'],
  ['csr', 1926696654, 7105, 'PureSVD on values near FLT_MAX: E_ARG saying they are too large for a float SVD (was E_NATIVE from LAPACK)'],
  ['modelfile', 1797331691, 13083, 'EASE B[64] = 3e38: refused at load (scores would overflow), not Infinity'],
  ['modelfile', 50076230, 24175, 'MLP output_weight = 3e38: refused at load (the fit-end output check runs on load), not Infinity'],
  // npm test of 2026-12-06 evening (the http suite's random seed).
  ['http', 1830077120, 67, 'POST /v1/users/:id/recommendations (the rules route) takes k from its body, not the query'],
  ['csr', 3771111685, 18, 'ItemTransitions (a TS fit) on a csr.indptr written to 2^28: E_ARG from the native check, not a walk out of memory'],
];

describe('fuzz regressions: cases earlier campaigns reported', () => {
  it.each(CASES)(
    '%s seed %i case %i: %s',
    async (target, seed, index) => {
      const t = await runRange(target, seed, index, index + 1);
      const report = distinctFindings(t.findings)
        .map(({ first }) => formatFinding(first))
        .join('\n');
      expect(t.findings.length, report).toBe(0);
      expect(t.skipped).toBe(0);
    },
    120_000,
  );
});
