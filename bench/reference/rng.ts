// The native Rng (native/core/rng.h: xoshiro256** seeded by splitmix64 from (seed, stream)) in plain TS, so the
// plain references draw exactly the native samples. 64-bit words are kept as two uint32 halves; BigInt is used
// only when seeding.
const M64 = (1n << 64n) - 1n;

function splitmix64(state: { x: bigint }): bigint {
  state.x = (state.x + 0x9e3779b97f4a7c15n) & M64;
  let z = state.x;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}

export class Rng {
  // s[2w] = high half, s[2w + 1] = low half of word w
  private readonly s = new Uint32Array(8);
  constructor(seed: number | bigint, stream: number | bigint = 0) {
    const st = { x: (BigInt(seed) ^ ((BigInt(stream) * 0x9e3779b97f4a7c15n + 0x632be59bd9b4e019n) & M64)) & M64 };
    for (let w = 0; w < 4; w++) {
      const v = splitmix64(st);
      this.s[2 * w] = Number(v >> 32n);
      this.s[2 * w + 1] = Number(v & 0xffffffffn);
    }
  }

  /** next() as [high, low] uint32 halves. */
  private next(): [number, number] {
    const s = this.s;
    // result = rotl(s1 * 5, 7) * 9
    let [h, l] = add64(s[2]!, s[3]!, (s[2]! << 2) | (s[3]! >>> 30), s[3]! << 2);
    [h, l] = [((h << 7) | (l >>> 25)) >>> 0, ((l << 7) | (h >>> 25)) >>> 0];
    const [rh, rl] = add64(h, l, (h << 3) | (l >>> 29), l << 3);
    // t = s1 << 17
    const th = ((s[2]! << 17) | (s[3]! >>> 15)) >>> 0,
      tl = (s[3]! << 17) >>> 0;
    s[4]! ^= s[0]!;
    s[5]! ^= s[1]!; // s2 ^= s0
    s[6]! ^= s[2]!;
    s[7]! ^= s[3]!; // s3 ^= s1
    s[2]! ^= s[4]!;
    s[3]! ^= s[5]!; // s1 ^= s2
    s[0]! ^= s[6]!;
    s[1]! ^= s[7]!; // s0 ^= s3
    s[4]! ^= th;
    s[5]! ^= tl; // s2 ^= t
    // s3 = rotl(s3, 45) = rotl(swap halves, 13)
    const h3 = s[7]!,
      l3 = s[6]!;
    s[6] = ((h3 << 13) | (l3 >>> 19)) >>> 0;
    s[7] = ((l3 << 13) | (h3 >>> 19)) >>> 0;
    return [rh, rl];
  }

  /** Uniform integer in [0, n), n in [1, 2^32) (Lemire's method, as native). */
  below(n: number): number {
    let [lo, hi] = mul32(this.next()[0], n);
    if (lo < n) {
      const threshold = (0x100000000 - n) % n;
      while (lo < threshold) [lo, hi] = mul32(this.next()[0], n);
    }
    return hi;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const [h, l] = this.next();
    return (h * 2097152 + (l >>> 11)) * 2 ** -53;
  }
}

function add64(ah: number, al: number, bh: number, bl: number): [number, number] {
  const lo = (al >>> 0) + (bl >>> 0);
  const carry = lo > 0xffffffff ? 1 : 0;
  return [((ah >>> 0) + (bh >>> 0) + carry) >>> 0, lo >>> 0];
}

/** a * b for uint32 a, b as [low 32 bits, high 32 bits], exactly. */
function mul32(a: number, b: number): [number, number] {
  const p1 = a * (b & 0xffff); // < 2^48
  const p2 = a * (b >>> 16); // < 2^48
  const mid = (p2 % 65536) * 65536 + p1; // < 2^49
  const lo = mid % 4294967296;
  const hi = Math.floor(p2 / 65536) + Math.floor(mid / 4294967296);
  return [lo, hi % 4294967296];
}
