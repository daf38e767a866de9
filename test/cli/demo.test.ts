import { afterEach, describe, expect, it, vi } from 'vitest';
import { demoCommand } from '../../ts/cli/demo.js';
import { infoCommand } from '../../ts/cli/info.js';
import { models } from '../../ts/index.js';

// Each demo test fits every demo model (~30 s on an idle 2-core machine, twice that and more under load): their own
// timeout, so a busy machine does not fail them.
const DEMO_TIMEOUT = 300_000;

describe('recsys demo', () => {
  afterEach(() => vi.restoreAllMocks());

  it(
    'fits every demo model on the built-in dataset and evaluates it',
    async () => {
      const out: string[] = [];
      vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
      await demoCommand(['--generated', '--json', '--threads', '2']);
      const report = JSON.parse(out.join('\n')) as { results: { model: string; 'ndcg@10': number; rmse?: number }[]; recommendations: { title: string }[] };
      const expected = models.filter((m) => m.demo !== false).map((m) => m.name);
      expect(report.results.map((r) => r.model)).toEqual(expected);
      const by = Object.fromEntries(report.results.map((r) => [r.model, r]));
      expect(by.Popularity!['ndcg@10']).toBeGreaterThan(by.Random!['ndcg@10']);
      expect(by.BaselineOnly!.rmse).toBeGreaterThan(0);
      expect(report.recommendations).toHaveLength(10);
      expect(report.recommendations[0]!.title).toMatch(/#\d+$/);
    },
    DEMO_TIMEOUT,
  );

  it(
    'rejects unknown options and users with typed errors',
    async () => {
      await expect(demoCommand(['--nope'])).rejects.toMatchObject({ code: 'E_ARG' });
      vi.spyOn(console, 'log').mockImplementation(() => {});
      await expect(demoCommand(['--generated', '--user', 'no-such-user'])).rejects.toMatchObject({ code: 'E_UNKNOWN_USER' });
    },
    DEMO_TIMEOUT,
  );
});

describe('recsys info', () => {
  it('prints the BLAS in use, threads and SIMD level; --native-only leaves the deep backend out', async () => {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    await infoCommand(['--json', '--native-only']);
    const i = JSON.parse(out.join('\n'));
    expect(i.deep).toBeUndefined();
    expect(i.blas).toMatch(/^(openblas|builtin)/);
    expect(i.defaultThreads).toBeGreaterThan(0);
    expect(typeof i.simd).toBe('string');
    vi.restoreAllMocks();
  });
});
