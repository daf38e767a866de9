// The fuzz driver itself: a case that crashes its worker, hangs or eats memory is counted against that case
// (with its input), and a fresh worker goes on with the next case.
import { describe, expect, it } from 'vitest';
import { runRange } from './driver.js';

describe('fuzz driver', () => {
  it('counts each kind of misbehaviour against its case and carries on', async () => {
    // Under the sanitizer a worker starts with hundreds of MB of shadow memory resident: the cap sits 400 MB above
    // this process's own RSS (a worker loads less than vitest), low enough that the memory case reaches it in time.
    const maxRssMb = 400 + (process.env.RECSYS_SANITIZER ? Math.ceil(process.memoryUsage().rss / 2 ** 20) : 0);
    const t = await runRange('selftest', 1, 0, 9, { maxRssMb });
    expect(t.cases).toBe(9);
    expect(t.skipped).toBe(0);
    expect(t.ok).toBe(2); // cases 0 and 7
    expect(t.refused).toEqual({ E_ARG: 2 }); // cases 1 and 8
    expect(t.counts).toEqual({ crash: 2, hang: 1, exception: 1, coercion: 1, wrong: 0 });
    const byCase = new Map(t.findings.map((f) => [f.index, f]));
    expect(byCase.get(2)).toMatchObject({ kind: 'exception', message: expect.stringMatching(/^TypeError: thrown on purpose/) });
    expect(byCase.get(3)).toMatchObject({ kind: 'coercion', message: 'coerced on purpose' });
    expect(byCase.get(4)).toMatchObject({ kind: 'crash', input: 'behave: crash', message: expect.stringMatching(/worker died \(SIGABRT/) });
    expect(byCase.get(5)).toMatchObject({ kind: 'hang', input: 'behave: hang', message: expect.stringMatching(/no result within 2000 ms/) });
    expect(byCase.get(6)).toMatchObject({ kind: 'crash', input: 'behave: memory', message: `memory: worker RSS above ${maxRssMb} MB` });
  }, 120_000);
});
