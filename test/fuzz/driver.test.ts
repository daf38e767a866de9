// The fuzz driver itself: a case that crashes its worker, hangs or eats memory is counted against that case
// (with its input), and a fresh worker goes on with the next case.
import { describe, expect, it } from 'vitest';
import { runRange } from './driver.js';

describe('fuzz driver', () => {
  it('counts each kind of misbehaviour against its case and carries on', async () => {
    const t = await runRange('selftest', 1, 0, 9, { maxRssMb: 400 });
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
    expect(byCase.get(6)).toMatchObject({ kind: 'crash', input: 'behave: memory', message: expect.stringMatching(/memory: worker RSS above 400 MB/) });
  }, 120_000);
});
