// Seeded generators for the fuzz targets: every case is drawn from its own seed (run seed, target, case index), so
// one case reproduces alone (FUZZ_SEED=... FUZZ_CASE=...) without replaying the cases before it.
import { mulberry32 } from '../helpers/random.js';

/** A 32-bit hash of the run seed, the target's name and the case index: the seed of one case. */
export function caseSeed(seed: number, target: string, index: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  const mix = (x: number) => {
    h = Math.imul(h ^ x, 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  };
  for (let c = 0; c < target.length; c++) mix(target.charCodeAt(c));
  mix(index >>> 0);
  mix(Math.floor(index / 2 ** 32));
  return h;
}

export class Gen {
  private readonly rnd: () => number;
  constructor(seed: number) {
    this.rnd = mulberry32(seed);
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.rnd();
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }
  bool(p = 0.5): boolean {
    return this.rnd() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }
  /** One of several weighted choices (weights need not sum to 1). */
  weighted<T>(choices: readonly (readonly [number, () => T])[]): T {
    let total = 0;
    for (const [w] of choices) total += w;
    let r = this.rnd() * total;
    for (const [w, f] of choices) {
      if ((r -= w) < 0) return f();
    }
    return choices[choices.length - 1]![1]();
  }
  array<T>(n: number, f: (i: number) => T): T[] {
    return Array.from({ length: n }, (_, i) => f(i));
  }
  /** Small sizes mostly, now and then a large one. */
  size(small: number, large: number): number {
    return this.bool(0.93) ? this.int(0, small) : this.int(small, large);
  }
}

/** Values that are never a valid number, id, option or count. Functions, so buffers are fresh per draw. */
export const HOSTILE: readonly (readonly [string, () => unknown])[] = [
  ['null', () => null],
  ['undefined', () => undefined],
  ["''", () => ''],
  ["' '", () => ' '],
  ["'5'", () => '5'],
  ["'abc'", () => 'abc'],
  ['true', () => true],
  ['false', () => false],
  ['[3]', () => [3]],
  ['[]', () => []],
  ['{}', () => ({})],
  ['{valueOf:5}', () => ({ valueOf: () => 5 })],
  ['{toString:{}}', () => ({ toString: {} })],
  ['Object.create(null)', () => Object.create(null)],
  ['NaN', () => NaN],
  ['Infinity', () => Infinity],
  ['-Infinity', () => -Infinity],
  ['5n', () => 5n],
  ['Symbol()', () => Symbol('fuzz')],
  ['new Number(5)', () => new Number(5)],
  ['new Date(0)', () => new Date(0)],
  ['() => 5', () => () => 5],
  ['new Float32Array(2)', () => new Float32Array(2)],
];

/** Numbers at the edges: valid as numbers, often out of any sensible range. */
export const EDGE_NUMBERS: readonly number[] = [
  -0,
  0,
  1,
  -1,
  0.5,
  2,
  3,
  7,
  1e-320,
  5e-324,
  1e-7,
  0.999999,
  1.0000001,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e7,
  2e7,
  1e9,
  1e38,
  1e39,
  3.4028235e38,
  1e300,
  -1e300,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  1e6,
  65536,
  4096,
  100,
];

export function hostile(g: Gen): { label: string; value: unknown } {
  const [label, f] = g.pick(HOSTILE);
  return { label, value: f() };
}

/** Human-readable form of a fuzz value (never throws; BigInts, symbols, typed arrays and cycles included). */
export function showValue(v: unknown, depth = 0): string {
  try {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'symbol') return 'Symbol()';
    if (typeof v === 'function') return 'function';
    if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
    if (typeof v === 'string') return JSON.stringify(v.length > 80 ? v.slice(0, 80) + '…' : v);
    if (v === null || typeof v !== 'object') return String(v);
    if (depth > 3) return '…';
    if (ArrayBuffer.isView(v)) {
      const buf = (v as { buffer: ArrayBufferLike }).buffer;
      const shared = typeof SharedArrayBuffer !== 'undefined' && buf instanceof SharedArrayBuffer;
      const name = v.constructor.name;
      let a: string[];
      try {
        a = Array.from(v as unknown as ArrayLike<number | bigint>)
          .slice(0, 12)
          .map((x) => showValue(x, depth + 1));
      } catch {
        return `${name}(detached)`;
      }
      if (!shared && (buf as ArrayBuffer).byteLength === 0 && (buf as { detached?: boolean }).detached === true) return `${name}(detached)`;
      return `${shared ? 'shared ' : ''}${name}[${a.join(', ')}${(v as unknown as ArrayLike<unknown>).length > 12 ? ', …' : ''}]`;
    }
    if (Array.isArray(v)) {
      const a = v.slice(0, 16).map((x) => showValue(x, depth + 1));
      return `[${a.join(', ')}${v.length > 16 ? `, … (${v.length})` : ''}]`;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return `${proto?.constructor?.name ?? 'object'}`;
    const keys = Reflect.ownKeys(v).slice(0, 16);
    return `{${keys.map((k) => `${String(k)}: ${showValue((v as Record<PropertyKey, unknown>)[k], depth + 1)}`).join(', ')}}`;
  } catch {
    return '<unprintable>';
  }
}
