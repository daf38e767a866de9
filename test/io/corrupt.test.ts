import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ImplicitALS, RecsysError, loadModel, loadModelAsync, readModelInfo, type Recommender } from '../../ts/index.js';
import { synthetic } from '../helpers/synthetic.js';
import { buildFile, factorModel, fittedModels, parseFile, rewrite, tempDir } from './helpers.js';

const tmp = tempDir('recsys-corrupt-');
afterAll(() => tmp.remove());

function loadError(path: string, options?: { verify?: boolean }): RecsysError {
  try {
    loadModel(path, options);
  } catch (err) {
    if (!(err instanceof RecsysError)) throw new Error(`expected a RecsysError, got ${String(err)}`, { cause: err });
    return err;
  }
  throw new Error(`${path} loaded`);
}

function expectFormat(path: string, message: RegExp, options?: { verify?: boolean }): void {
  const e = loadError(path, options);
  expect(e.code).toBe('E_FORMAT');
  expect(e.message).toMatch(message);
  expect(e.message).toContain(path);
}

const good = tmp.path('good.rsm');
const model = factorModel(20, 30, 4, 9);
model.save(good);
const bytes = readFileSync(good);
let n = 0;
function write(content: Uint8Array | string): string {
  const p = tmp.path(`bad${n++}.rsm`);
  writeFileSync(p, content);
  return p;
}

describe('loadModel on bad files', () => {
  it('foreign files', () => {
    expectFormat(write(''), /not a recsys model file \(only 0 bytes\)/);
    expectFormat(write('abc'), /not a recsys model file/);
    expectFormat(write('{"users": [1, 2, 3], "items": "not a model at all, just some JSON"}'), /not a recsys model file/);
    expectFormat(write(Buffer.alloc(4096, 0xff)), /not a recsys model file/);
    // A valid safetensors file from another tool.
    const header = JSON.stringify({ weight: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
    const st = Buffer.concat([Buffer.alloc(8), Buffer.from(header), Buffer.alloc(8)]);
    st.writeBigUInt64LE(BigInt(header.length));
    expectFormat(write(st), /a safetensors file, but not a recsys model file/);
  });

  it('missing or unreadable paths are E_IO', () => {
    expect(loadError(tmp.path('nope.rsm')).code).toBe('E_IO');
    const d = tmp.path('dir.rsm');
    mkdirSync(d);
    expect(['E_IO', 'E_FORMAT']).toContain(loadError(d).code);
  });

  it('truncated files, at every kind of place', () => {
    const hdr = Number(bytes.readBigUInt64LE(0));
    for (const cut of [8, 30, 60, 8 + hdr - 1, 8 + hdr, 8 + hdr + 1, bytes.length - 1]) {
      expectFormat(write(bytes.subarray(0, cut)), /truncated|not a recsys|does not start/);
    }
    expectFormat(write(Buffer.concat([bytes, Buffer.from('junk')])), /bytes after its last tensor/);
  });

  it('a flipped bit anywhere in the data fails the checksum', () => {
    const hdr = Number(bytes.readBigUInt64LE(0));
    for (const at of [8 + hdr, 8 + hdr + 100, bytes.length - 1]) {
      const b = Buffer.from(bytes);
      b[at]! ^= 0x10;
      expectFormat(write(b), /checksum mismatch/);
    }
  });

  it('loadModelAsync rejects the same way', async () => {
    const b = Buffer.from(bytes);
    b[b.length - 3]! ^= 1;
    const p = write(b);
    await expect(loadModelAsync(p)).rejects.toMatchObject({ code: 'E_FORMAT', message: expect.stringMatching(/checksum mismatch/) });
    await expect(loadModelAsync(write('nope'))).rejects.toMatchObject({ code: 'E_FORMAT' });
    await expect(loadModelAsync(tmp.path('absent.rsm'))).rejects.toMatchObject({ code: 'E_IO' });
  });

  it('a newer or unknown format version', () => {
    const p = tmp.path('v3.rsm');
    rewrite(good, p, (h) => {
      h.__metadata__.format_version = '3';
    });
    expectFormat(p, /newer recsys \(model format version 3; this version reads up to 2\)/);
    rewrite(good, p, (h) => {
      h.__metadata__.format_version = '0';
    });
    expectFormat(p, /unknown model format version "0"/);
    rewrite(good, p, (h) => {
      h.__metadata__.format_version = 'one';
    });
    expectFormat(p, /does not start as|unknown model format version/);
  });

  it('header and metadata inconsistencies behind a valid checksum', () => {
    const p = tmp.path('edit.rsm');
    const cases: [string, (h: any, m: any, d: Uint8Array) => Uint8Array | void, RegExp][] = [
      ['unknown class', (_h, m) => void (m.class = 'NoSuchModel'), /model class 'NoSuchModel' is not known/],
      ['unknown kind', (_h, m) => void (m.kind = 'NoSuchKind'), /NoSuchKind/],
      ['bad params', (_h, m) => void (m.params = { threads: -4 }), /parameters are not valid/],
      ['params not an object', (_h, m) => void (m.params = 3), /no params object/],
      ['wrong dtype', (h) => void (h.item_factors.dtype = 'F16'), /dtype "F16"/],
      ['shape and bytes disagree', (h) => void (h.item_factors.shape = [30, 5]), /bytes for shape/],
      [
        'consistent but wrong shape',
        (h) => {
          h.item_factors.shape = [60, 2];
        },
        /item_factors' has shape \[60, 2\], expected|shape/,
      ],
      [
        'overlapping tensors',
        (h) => void (h.item_factors.data_offsets = [0, h.item_factors.data_offsets[1] - h.item_factors.data_offsets[0]]),
        /does not start where|bytes after|data_offsets/,
      ],
      ['missing state tensor', (_h, m) => void m.state.push('no_such'), /state tensor list/],
      ['ids count mismatch', (_h, m) => void (m.data.items = 31), /id tensor|train|larger than its id maps/],
      ['repeated ids', (_h, m) => void (m.ids.users = { values: Array(m.data.users).fill('same') }), /repeat/],
      [
        'non-finite factors',
        (h, _m, d) => {
          new DataView(d.buffer, d.byteOffset).setFloat32(h.item_factors.data_offsets[0] + 8, NaN, true);
        },
        /non-finite/,
      ],
      [
        'seen items out of range',
        (h, _m, d) => {
          new DataView(d.buffer, d.byteOffset).setInt32(h['train.indptr'].data_offsets[0] + 4, 5, true);
        },
        /train\.indptr|train\.indices/,
      ],
      [
        'bad metadata JSON',
        (h) => {
          h.__metadata__.recsys = '{"class":';
        },
        /metadata is not valid JSON/,
      ],
      ['metadata value not a string', (h) => void (h.__metadata__.extra = 5), /not a string/],
    ];
    const fromFactor = fittedModels().find((m) => m.name === 'FactorModel')!;
    fromFactor.save(good);
    for (const [name, edit, message] of cases) {
      if (name === 'bad metadata JSON') {
        // rewrite() re-serialises the metadata object; write the broken string directly.
        const { header, data } = parseFile(readFileSync(good));
        header.__metadata__.recsys = '{"class":';
        writeFileSync(p, buildFile(header, data));
      } else {
        rewrite(good, p, edit);
      }
      try {
        expectFormat(p, message);
      } catch (err) {
        throw new Error(`case '${name}': ${(err as Error).message}`, { cause: err });
      }
    }
  });

  it('a crafted train.data (non-finite, wrong length, dtype or shape) is E_FORMAT naming the file and the tensor', async () => {
    const withValues = new ImplicitALS({ factors: 4, iterations: 2, threads: 1 }).fit(
      synthetic({ users: 20, items: 30, minPerUser: 2, maxPerUser: 8, seed: 4 }),
    );
    const src = tmp.path('values.rsm');
    withValues.save(src);
    const nnz = withValues.trainData.nnz;
    const p = tmp.path('values-edit.rsm');
    // train.data is the last tensor: its length can change by cutting or adding bytes at the end.
    const resize = (h: any, d: Uint8Array, count: number): Uint8Array => {
      const t = h['train.data'];
      t.shape = [count];
      t.data_offsets = [t.data_offsets[0], t.data_offsets[0] + 4 * count];
      const out = new Uint8Array(t.data_offsets[1]);
      out.set(d.subarray(0, Math.min(d.length, out.length)));
      return out;
    };
    const setValue = (h: any, d: Uint8Array, at: number, v: number) =>
      new DataView(d.buffer, d.byteOffset).setFloat32(h['train.data'].data_offsets[0] + 4 * at, v, true);
    const cases: [string, (h: any, m: any, d: Uint8Array) => Uint8Array | void, RegExp][] = [
      ['NaN', (h, _m, d) => setValue(h, d, 3, NaN), /tensor 'train\.data' holds a non-finite value at 3/],
      ['Infinity', (h, _m, d) => setValue(h, d, nnz - 1, -Infinity), new RegExp(`tensor 'train\\.data' holds a non-finite value at ${nnz - 1}`)],
      ['one value short', (h, _m, d) => resize(h, d, nnz - 1), new RegExp(`tensor 'train\\.data' must be F32 of shape \\[${nnz}\\].*got F32 \\[${nnz - 1}\\]`)],
      ['one value over', (h, _m, d) => resize(h, d, nnz + 1), /tensor 'train\.data' must be F32 of shape/],
      ['I32', (h) => void (h['train.data'].dtype = 'I32'), /tensor 'train\.data' must be F32 of shape.*got I32/],
      ['two dimensions', (h) => void (h['train.data'].shape = [1, nnz]), /tensor 'train\.data' must be F32 of shape/],
    ];
    for (const [name, edit, message] of cases) {
      rewrite(src, p, edit);
      try {
        expectFormat(p, message);
        const e = await loadModelAsync(p).then(
          () => undefined,
          (err: unknown) => err as RecsysError,
        );
        expect(e?.code).toBe('E_FORMAT');
        expect(e?.message).toMatch(message);
      } catch (err) {
        throw new Error(`case '${name}': ${(err as Error).message}`, { cause: err });
      }
    }
    // The header checks also stop readModelInfo.
    rewrite(src, p, (h) => void (h['train.data'].dtype = 'I32'));
    expect(() => readModelInfo(p)).toThrow(/train\.data/);
    // The unedited file loads with its values.
    expect(loadModel(src).trainData.csr.data).toEqual(withValues.trainData.csr.data);
  });

  it('a checksum entry that is not the one hashed (a repeated key) is refused', () => {
    const { header, data } = parseFile(bytes);
    const text = JSON.stringify(header).replace('"recsys":', '"checksum":"xxh64:0123456789abcdef","recsys":');
    const body = Buffer.from(text + ' '.repeat((8 - ((8 + text.length) % 8)) % 8));
    const out = Buffer.concat([Buffer.alloc(8), body, data]);
    out.writeBigUInt64LE(BigInt(body.length));
    out.fill('0', 8 + 35, 8 + 35 + 16);
    const e = loadError(write(out));
    expect(e.message).toMatch(/inconsistent checksum entry/);
  });
});

describe('fuzzing the loader', () => {
  const small = factorModel(6, 9, 3, 4);
  const src = tmp.path('fuzz-src.rsm');
  small.save(src);
  const base = new Uint8Array(readFileSync(src));
  const fuzzPath = tmp.path('fuzz.rsm');

  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  );
  type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;
  function mutate(b: Uint8Array, ms: Mutation[]): Uint8Array {
    let out = new Uint8Array(b);
    for (const m of ms) {
      const at = out.length ? m.at % out.length : 0;
      if (m.kind === 'flip') out[at]! ^= 1 << m.bit;
      else if (m.kind === 'set') out[at] = m.value;
      else if (m.kind === 'truncate') out = out.slice(0, at);
      else if (m.kind === 'insert') out = Uint8Array.from([...out.subarray(0, at), ...m.bytes, ...out.subarray(at)]);
      else out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + m.count)]);
    }
    return out;
  }
  // A loaded model must work or refuse with a RecsysError; nothing may crash or throw anything else.
  function exercise(m: Recommender): void {
    for (const u of m.trainData.users.ids.slice(0, 3)) m.recommend(u, { k: 5 });
    m.recommendBatch(m.trainData.users.ids.slice(0, 3), { k: 3 });
    if (m.trainData.items.size) m.similarItems(m.trainData.items.ids[0]!, 3);
  }
  function attempt(path: string, verify: boolean): 'loaded' | string {
    try {
      const m = loadModel(path, { verify });
      try {
        exercise(m);
      } catch (err) {
        if (!(err instanceof RecsysError)) throw err;
      }
      return 'loaded';
    } catch (err) {
      if (!(err instanceof RecsysError)) throw err;
      return err.code;
    }
  }

  it('random byte mutations give E_FORMAT (checksum on)', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
        const b = mutate(base, ms);
        if (Buffer.compare(Buffer.from(b), Buffer.from(base)) === 0) return;
        writeFileSync(fuzzPath, b);
        expect(attempt(fuzzPath, true)).toBe('E_FORMAT');
      }),
      { numRuns: 300, seed: 42 },
    );
  });

  it('random byte mutations never crash the loader behind the checksum (checksum off)', () => {
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (ms) => {
        writeFileSync(fuzzPath, mutate(base, ms));
        const r = attempt(fuzzPath, false);
        expect(['loaded', 'E_FORMAT']).toContain(r);
        outcomes.set(r, (outcomes.get(r) ?? 0) + 1);
      }),
      { numRuns: 400, seed: 7 },
    );
    expect(outcomes.get('loaded')).toBeGreaterThan(0); // mutations in the data bytes load (no checksum to catch them)
  });

  // The second file has training values, so train.data is among the tensors whose headers are edited.
  const valuesSrc = tmp.path('fuzz-values.rsm');
  new ImplicitALS({ factors: 3, iterations: 2, threads: 1 }).fit(synthetic({ users: 8, items: 10, minPerUser: 2, maxPerUser: 5, seed: 6 })).save(valuesSrc);
  it.each([
    ['a FactorModel', src],
    ['an ImplicitALS with train.data', valuesSrc],
  ])('structured header edits with a valid checksum give E_FORMAT or a working model (%s)', (_name, file) => {
    const { header, data } = parseFile(new Uint8Array(readFileSync(file)));
    const tensorNames = Object.keys(header).filter((k) => k !== '__metadata__');
    if (file === valuesSrc) expect(tensorNames).toContain('train.data');
    const meta = JSON.parse(header.__metadata__.recsys);
    const anyJson = fc.oneof(
      fc.integer({ min: -3, max: 100 }),
      fc.constant(2 ** 31),
      fc.string({ maxLength: 4 }),
      fc.constant(null),
      fc.array(fc.integer({ min: -1, max: 40 }), { maxLength: 3 }),
      fc.boolean(),
    );
    const edit = fc.oneof(
      fc.record({
        where: fc.constant('tensor' as const),
        name: fc.constantFrom(...tensorNames),
        field: fc.constantFrom('dtype', 'shape', 'data_offsets'),
        value: anyJson,
      }),
      fc.record({
        where: fc.constant('meta' as const),
        field: fc.constantFrom('class', 'kind', 'users', 'items', 'params', 'state', 'ids', 'data'),
        value: anyJson,
      }),
      fc.record({ where: fc.constant('data' as const), field: fc.constantFrom('users', 'items', 'interactions'), value: fc.integer({ min: -1, max: 12 }) }),
    );
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        const h = structuredClone(header);
        const m = structuredClone(meta);
        for (const e of edits) {
          if (e.where === 'tensor') h[e.name][e.field] = e.value;
          else if (e.where === 'meta') m[e.field] = e.value;
          else if (m.data !== null && typeof m.data === 'object') m.data[e.field] = e.value;
        }
        h.__metadata__.recsys = JSON.stringify(m);
        writeFileSync(fuzzPath, buildFile(h, data));
        expect(['loaded', 'E_FORMAT']).toContain(attempt(fuzzPath, true));
      }),
      { numRuns: 300, seed: 3 },
    );
  });

  it('readModelInfo refuses what loadModel refuses in the header', () => {
    expect(() => readModelInfo(write('nonsense'))).toThrow(RecsysError);
  });
});
