// A target that misbehaves on purpose, one way per case (case i does behaviour i % 7), to test the driver:
// ok, a RecsysError, a TypeError, a coercion, a crash (abort), a hang (busy loop), a memory blow-up.
import { RecsysError } from '../../../ts/index.js';
import type { Gen } from '../gen.js';
import { coercion, type Target } from '../target.js';

const KINDS = ['ok', 'refused', 'exception', 'coercion', 'crash', 'hang', 'memory'] as const;

export const target: Target<{ kind: (typeof KINDS)[number] }> = {
  name: 'selftest',
  setup: () => undefined,
  gen: (_g: Gen, _ctx: unknown, index: number) => ({ kind: KINDS[index % KINDS.length]! }),
  show: (c) => `behave: ${c.kind}`,
  run(c) {
    if (c.kind === 'refused') throw new RecsysError('E_ARG', 'refused on purpose');
    if (c.kind === 'exception') throw new TypeError('thrown on purpose');
    if (c.kind === 'coercion') coercion('coerced on purpose');
    if (c.kind === 'crash') process.abort();
    if (c.kind === 'hang') for (;;);
    if (c.kind === 'memory') {
      const keep: Buffer[] = [];
      for (;;) keep.push(Buffer.alloc(64 << 20, 1));
    }
  },
};
