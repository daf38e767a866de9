// Dataset.fromFile on generated and mutated delimited files (MovieLens 100K / 1M / CSV layouts and custom
// delimiters and column maps). Oracle: the plain-TS reference parser (bench/reference/parse.ts) — the native
// parser returns exactly its dataset, or the RecsysError it predicts (code and line). Files named like MovieLens
// files but read without a format only need a dataset or a RecsysError.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataset, RecsysError } from '../../../ts/index.js';
import { refParse } from '../../../bench/reference/parse.js';
import { PARSE_PRESETS, PARSE_TOKENS, TAB_QUOTED_HEADER, type Preset } from '../../helpers/parse_cases.js';
import { Gen } from '../gen.js';
import { coercion, wrong, type Target } from '../target.js';

const PRESETS: readonly Preset[] = [...PARSE_PRESETS, TAB_QUOTED_HEADER];
// Files named like the MovieLens ones, read without options (the CLI guesses the format from the name).
const GUESSED = ['u.data', 'ratings.dat', 'ratings.csv', 'u1.base', 'data.tsv'];

const TOKENS = [...PARSE_TOKENS, '\r', '2147483648', '-2147483649', '1'.repeat(400)];

interface Case {
  preset?: Preset;
  fileName: string;
  bytes: Uint8Array;
  how: string;
}

function document(g: Gen, p: Preset): { text: string; how: string } {
  const delim = p.ref.delimiter;
  const eol = g.pick(['\n', '\r\n']);
  const lines: string[] = [];
  const n = g.size(15, 400);
  for (let j = 0; j < n; j++) {
    if (g.bool(0.04)) {
      lines.push(g.pick(['', '  ', '\t', '\r', '#c']));
      continue;
    }
    const nf = g.bool(0.995) ? p.fields : g.int(0, 6);
    const toks = g.array(nf, (f) =>
      g.bool(0.995) ? String(f === 2 ? g.pick([1, 2, 3, 4, 5, 3.5]) : f === 3 ? g.int(8e8, 9e8) : g.int(1, 30)) : g.pick(TOKENS),
    );
    lines.push(toks.join(g.bool(0.997) ? delim : g.pick([',', '\t', '::', ';', ' '])));
  }
  let text = (g.bool(0.1) ? '\xEF\xBB\xBF' : '') + (p.header && g.bool(0.92) ? p.header + eol : '') + lines.join(eol) + (g.bool(0.7) ? eol : '');
  if (g.bool(0.1) && text.length) text = text.slice(0, g.int(0, text.length)); // truncated
  return { text, how: `document of ${n} lines` };
}

function mutate(g: Gen, b: Uint8Array): { bytes: Uint8Array; how: string } {
  let out = new Uint8Array(b);
  const hows: string[] = [];
  for (let m = g.int(1, 4); m > 0; m--) {
    const at = out.length ? g.int(0, out.length - 1) : 0;
    const k = g.int(0, 4);
    if (k === 0 && out.length) {
      const bit = g.int(0, 7);
      out[at]! ^= 1 << bit;
      hows.push(`flip bit ${bit} at ${at}`);
    } else if (k === 1 && out.length) {
      const v = g.pick([0, 9, 10, 13, 34, 44, 58, 0x80, 0xc3, 0xff, 48 + g.int(0, 9)]);
      out[at] = v;
      hows.push(`byte ${at} = ${v}`);
    } else if (k === 2) {
      const ins = Buffer.from(g.pick(TOKENS), 'latin1');
      out = Uint8Array.from([...out.subarray(0, at), ...ins, ...out.subarray(at)]);
      hows.push(`insert ${JSON.stringify(ins.toString('latin1'))} at ${at}`);
    } else {
      const cnt = g.int(1, 8);
      out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + cnt)]);
      hows.push(`delete ${cnt} at ${at}`);
    }
  }
  return { bytes: out, how: hows.join(', ') };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export const target: Target<Case, { dir: string }> = {
  name: 'parse',
  setup() {
    const dir = mkdtempSync(join(tmpdir(), 'recsys-fuzz-parse-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    return { dir };
  },
  gen(g) {
    const guessed = g.bool(0.06);
    const preset = g.pick(PRESETS);
    const fileName = guessed ? g.pick(GUESSED) : 'data.txt';
    const kind = g.weighted<string>([
      [6, () => 'document'],
      [3, () => 'mutated'],
      [1, () => 'bytes'],
      [1, () => 'alphabet'],
    ]);
    if (kind === 'bytes')
      return { preset: guessed ? undefined : preset, fileName, bytes: Uint8Array.from(g.array(g.size(300, 5000), () => g.int(0, 255))), how: 'random bytes' };
    if (kind === 'alphabet') {
      const alpha = Buffer.from('0123456789\t\n\r,:;."-+e| a\xE9', 'latin1');
      return {
        preset: guessed ? undefined : preset,
        fileName,
        bytes: Uint8Array.from(g.array(g.size(300, 5000), () => g.pick([...alpha]))),
        how: 'separator soup',
      };
    }
    const d = document(g, preset);
    const bytes = Buffer.from(d.text, 'latin1');
    if (kind === 'document') return { preset: guessed ? undefined : preset, fileName, bytes, how: d.how };
    const m = mutate(g, bytes);
    return { preset: guessed ? undefined : preset, fileName, bytes: m.bytes, how: `${d.how}, ${m.how}` };
  },
  show: (c) =>
    `Dataset.fromFile('${c.fileName}', ${c.preset ? JSON.stringify(c.preset.opts) : 'no options'}) on ${c.bytes.length} bytes (${c.how}): ${JSON.stringify(Buffer.from(c.bytes.subarray(0, 300)).toString('latin1'))}${c.bytes.length > 300 ? '…' : ''}`,
  async run(c, ctx) {
    const path = join(ctx.dir, c.fileName);
    writeFileSync(path, c.bytes);
    let ds: Dataset;
    try {
      ds = await Dataset.fromFile(path, c.preset?.opts);
    } catch (e) {
      if (!(e instanceof RecsysError) || !c.preset) throw e;
      const ref = refParse(c.bytes, c.preset.ref);
      if (ref.ok) wrong(`native rejected what the reference parses: ${e.code} ${e.message}`);
      if (e.code !== ref.code) wrong(`native says ${e.code}, the reference ${ref.code} (${ref.why}): ${e.message}`);
      if (ref.line !== undefined && !e.message.includes(`${path}:${ref.line}: `)) wrong(`native error not at line ${ref.line} (${ref.why}): ${e.message}`);
      throw e;
    }
    // Well-formed in any case.
    const { indptr, indices, data } = ds.csr;
    if (indptr.length !== ds.nUsers + 1) wrong('indptr length');
    for (let p = 0; p < indices.length; p++) if (indices[p]! < 0 || indices[p]! >= ds.nItems) wrong(`indices[${p}] out of range`);
    if (data) for (let p = 0; p < data.length; p++) if (!Number.isFinite(data[p]!)) wrong(`data[${p}] = ${data[p]}`);
    if (!c.preset) return;
    const ref = refParse(c.bytes, c.preset.ref);
    if (!ref.ok) coercion(`native parsed what the reference rejects (${ref.code} line ${ref.line}: ${ref.why})`);
    const got = {
      users: [...ds.users.ids],
      items: [...ds.items.ids],
      indptr: Array.from(indptr),
      indices: Array.from(indices),
      data: data && Array.from(data),
      times: ds.csr.times && Array.from(ds.csr.times),
    };
    for (const k of Object.keys(got) as (keyof typeof got)[]) {
      if (!same(got[k], (ref as Record<string, unknown>)[k]))
        wrong(
          `${k} differs from the reference: ${JSON.stringify(got[k]).slice(0, 200)} vs ${JSON.stringify((ref as Record<string, unknown>)[k]).slice(0, 200)}`,
        );
    }
  },
};
