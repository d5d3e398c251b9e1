/**
 * The seedable generator behind rand/randn/randint, dropout and initializers. xoshiro128** seeded
 * through splitmix32: fast, 32-bit, and reproducible across platforms (`manualSeed`).
 */
export class Generator {
  private s = new Uint32Array(4);
  private spare: number | null = null;

  constructor(seed = Date.now()) {
    this.manualSeed(seed);
  }

  manualSeed(seed: number): this {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    this.spare = null;
    return this;
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Standard normal (Box-Muller, caching the second value). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [low, high). */
  int(low: number, high: number): number {
    return low + Math.floor(this.uniform() * (high - low));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The default generator (torch.default_generator). */
export const defaultGenerator = new Generator(0x5eed);

/** Seeds the default generator, as torch.manual_seed. */
export function manualSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}
