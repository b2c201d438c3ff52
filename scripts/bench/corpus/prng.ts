/**
 * Seeded pseudo-random numbers for the synthetic corpus (sfc32: small, fast,
 * 32-bit state words). Never Math.random: the same seed gives the same bytes.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    this.a = 0x9e3779b9 ^ stream;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.nextU32();
  }

  /** Uniform integer in [0, 2^32). */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** Approximately standard normal (sum of four uniforms, scaled). */
  gauss(): number {
    return (this.float() + this.float() + this.float() + this.float() - 2) * 1.7320508;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

/** 32-bit integer hash (lowbias32): decides per-id traits without drawing from a stream. */
export function hash32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A bijection on [0, 2^24): scatters consecutive ids over an address block. */
export function permute24(x: number, key: number): number {
  const mask = 0xffffff;
  x = (x ^ key) & mask;
  x = Math.imul(x, 0x2c1b3c6d | 1) & mask;
  x ^= x >>> 12;
  x = Math.imul(x, 0x297a2d39 | 1) & mask;
  x ^= x >>> 11;
  return x;
}

/**
 * Zipf–Mandelbrot-like sampler over ids [0, n): density ∝ (id + q)^-s, drawn by
 * inverting the continuous CDF (one pow per draw). q flattens the head so the
 * top id gets about 1% of draws rather than 5–15%.
 */
export class ZipfSampler {
  private readonly lo: number;
  private readonly span: number;
  private readonly inv: number;

  constructor(
    private readonly n: number,
    private readonly s = 1.1,
    private readonly q = 20,
  ) {
    const e = 1 - s;
    this.lo = Math.pow(q, e);
    this.span = this.lo - Math.pow(n + q, e);
    this.inv = 1 / e;
  }

  sample(u: number): number {
    const x = Math.pow(this.lo - u * this.span, this.inv);
    const id = Math.floor(x - this.q);
    return id < 0 ? 0 : id >= this.n ? this.n - 1 : id;
  }
}

/** Cumulative weight table: pick an index with probability ∝ weight. */
export class WeightedTable {
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(weights: readonly number[]) {
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    for (let i = 0; i < weights.length; i++) {
      sum += weights[i] as number;
      this.cumulative[i] = sum;
    }
    this.total = sum;
  }

  /** Index for a uniform u in [0, 1). */
  index(u: number): number {
    const target = u * this.total;
    const c = this.cumulative;
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((c[mid] as number) > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
