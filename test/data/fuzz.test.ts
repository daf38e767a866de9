// Property tests: on any bytes the native parser either returns exactly what the reference TS parser reads from
// the same text, or fails with the RecsysError the reference predicts (same code, same line) — never a crash or
// another kind of error.
import { unlinkSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Dataset, RecsysError } from '../../ts/index.js';
import { PARSE_PRESETS as PRESETS, PARSE_TOKENS, type Preset } from '../helpers/parse_cases.js';
import { TempDir } from '../helpers/tmpdir.js';
import { expectMatchesReference, refParse } from './reference.js';

const tmp = new TempDir();
afterAll(() => tmp.remove());

async function check(bytes: Uint8Array, p: Preset): Promise<void> {
  const path = tmp.file(bytes);
  const ref = refParse(bytes, p.ref);
  let ds: Dataset | undefined;
  let err: unknown;
  try {
    ds = await Dataset.fromFile(path, p.opts);
  } catch (e) {
    err = e;
  } finally {
    unlinkSync(path);
  }
  if (ds) {
    if (!ref.ok) throw new Error(`native parsed what the reference rejects (${ref.code} line ${ref.line}: ${ref.why})`);
    expectMatchesReference(ds, ref);
    return;
  }
  expect(err).toBeInstanceOf(RecsysError);
  const e = err as RecsysError;
  if (ref.ok) throw new Error(`native rejected what the reference parses: ${e.code} ${e.message}`);
  expect(e.code).toBe(ref.code);
  if (ref.line !== undefined) expect(e.message).toContain(`${path}:${ref.line}: `);
}

const TOKENS = [...PARSE_TOKENS, '-1e-400'];

// Mostly well-formed lines with the preset's field count; now and then a field count, delimiter or token is off.
const line = (p: Preset) =>
  fc
    .tuple(
      fc.oneof({ weight: 40, arbitrary: fc.constant(p.fields) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 6 }) }),
      fc.array(fc.oneof({ weight: 60, arbitrary: fc.integer({ min: 0, max: 12 }).map(String) }, { weight: 1, arbitrary: fc.constantFrom(...TOKENS) }), {
        minLength: 6,
        maxLength: 6,
      }),
      fc.oneof({ weight: 60, arbitrary: fc.constant(p.ref.delimiter) }, { weight: 1, arbitrary: fc.constantFrom(',', '\t', '::', ';', ' ') }),
    )
    .map(([n, toks, d]) => toks.slice(0, n).join(d));

const document = (p: Preset) =>
  fc
    .record({
      bom: fc.boolean(),
      header: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      lines: fc.array(fc.oneof({ weight: 12, arbitrary: line(p) }, { weight: 1, arbitrary: fc.constantFrom('', '  ', '\t', '\r') }), { maxLength: 15 }),
      eol: fc.constantFrom('\n', '\r\n'),
      cut: fc.option(fc.nat(), { nil: undefined, freq: 4 }),
    })
    .map(({ bom, header, lines, eol, cut }) => {
      let text = (bom ? '\xEF\xBB\xBF' : '') + (header && p.header ? p.header + eol : '') + lines.join(eol);
      if (cut !== undefined && text.length > 0) text = text.slice(0, cut % (text.length + 1)); // a truncated file
      return Buffer.from(text, 'latin1');
    });

describe('parser fuzzing', () => {
  it('random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PRESETS), fc.uint8Array({ maxLength: 300 }), async (p, bytes) => check(bytes, p)),
      { numRuns: 300 },
    );
  });

  it('random bytes drawn mostly from separators, digits and line ends', async () => {
    const alphabet = fc.constantFrom(...Buffer.from('0123456789\t\n\r,:;."-+e| a\xE9', 'latin1'));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PRESETS), fc.array(alphabet, { maxLength: 300 }), async (p, bytes) => check(Uint8Array.from(bytes), p)),
      { numRuns: 300 },
    );
  });

  for (const p of PRESETS) {
    it(`near-valid documents: ${p.name} (wrong delimiters, bad numbers, huge ids, truncated lines)`, async () => {
      await fc.assert(
        fc.asyncProperty(document(p), async (bytes) => check(bytes, p)),
        { numRuns: 150 },
      );
    });
  }

  it('random options never give anything but a dataset the reference agrees with or a RecsysError', async () => {
    const colRef = fc.oneof(fc.integer({ min: -1, max: 4 }), fc.constantFrom('a', 'b', ''));
    const opts = fc.record(
      {
        delimiter: fc.constantFrom(',', '\t', ' ', '::', 'a', '"', ',,', ''),
        header: fc.boolean(),
        quote: fc.boolean(),
        columns: fc.record({ user: colRef, item: colRef, rating: colRef, timestamp: colRef }, { requiredKeys: ['user', 'item'] }),
      },
      { requiredKeys: ['columns'] },
    );
    const bytes = fc.array(fc.constantFrom(...Buffer.from('a,b\n1\t2 3::"x""y",0.5\n', 'latin1')), { maxLength: 120 }).map((a) => Uint8Array.from(a));
    await fc.assert(
      fc.asyncProperty(opts, bytes, async (o, b) => {
        const path = tmp.file(b);
        try {
          const ds = await Dataset.fromFile(path, o);
          const named = Object.values(o.columns).some((c) => typeof c === 'string');
          const delimiter = o.delimiter ?? ',';
          const ref = refParse(b, {
            delimiter,
            quote: o.quote ?? delimiter === ',',
            header: o.header ?? named,
            fields: 0,
            columns: o.columns,
          });
          if (!ref.ok) throw new Error(`native parsed what the reference rejects: ${ref.why}`);
          expectMatchesReference(ds, ref);
        } catch (e) {
          if (!(e instanceof RecsysError)) throw e;
          expect(['E_ARG', 'E_PARSE', 'E_EMPTY']).toContain(e.code);
        } finally {
          unlinkSync(path);
        }
      }),
      { numRuns: 300 },
    );
  });
});
