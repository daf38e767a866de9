import { argError, show } from './errors.js';

/**
 * A small seeded generator for the TS side (splits, folds): xoshiro128** (Blackman & Vigna) on four 32-bit
 * words. Integer-only arithmetic (Math.imul, shifts), so a seed gives the same sequence on every machine and
 * Node version; never Math.random.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** seed: a non-negative safe integer; stream: a second integer that selects an independent sequence. */
  constructor(seed: number, stream = 0) {
    checkSeed(seed, 'seed');
    checkSeed(stream, 'stream');
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    const slo = stream >>> 0;
    const shi = Math.floor(stream / 4294967296) >>> 0;
    // Expand (seed, stream) through a counter and the murmur3 finalizer, as splitmix does for 64-bit state.
    let x = (lo ^ Math.imul(hi, 0x9e3779b9) ^ Math.imul(slo, 0x85ebca6b) ^ Math.imul(shi, 0xc2b2ae35)) | 0;
    const words: number[] = [];
    for (let w = 0; w < 4; w++) {
      x = (x + 0x9e3779b9) | 0;
      words.push(fmix32(x ^ Math.imul(w + 1, hi ^ 0x27d4eb2f)));
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state never leaves zero
  }

  /** Builds a generator from the raw 128-bit state (for checking against the reference algorithm). */
  static fromState(s: readonly [number, number, number, number]): Rng {
    const r = new Rng(0);
    [r.s0, r.s1, r.s2, r.s3] = s.map((v) => v >>> 0) as [number, number, number, number];
    return r;
  }

  /** The next 32 random bits as an unsigned integer. */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform integer in [0, n) for 1 <= n <= 2^32, without modulo bias (rejects the short last bucket). */
  below(n: number): number {
    const limit = 4294967296 - (4294967296 % n);
    let r = this.next();
    while (r >= limit) r = this.next();
    return r % n;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.next() >>> 5;
    const b = this.next() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Shuffles a[0..n) in place (Fisher-Yates, from the end). */
  shuffle(a: { [i: number]: number; length: number }): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function checkSeed(v: number, name: string): void {
  if (!Number.isSafeInteger(v) || v < 0) throw argError(`${name} must be a non-negative safe integer, got ${show(v)}`);
}
