/**
 * The generator's only source of randomness: a pure-rand xoroshiro128+ behind the handful of
 * draws the chat model needs. Every independent part of a run (a channel's profile, its burst
 * schedule, its messages) gets its own `Rng` from `deriveSeed`, so drawing more of one never shifts
 * another: the labels can be computed without generating a single message, and a channel's
 * messages are the same whether it is generated alone or merged with others.
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import { skipN } from 'pure-rand/utils/skipN';

/**
 * xoroshiro128+ seeded from a 32-bit value starts from a sparse state whose first outputs echo
 * the seed; skipping this many draws lets the state mix. Fewer makes neighbouring seeds give
 * visibly related first draws; changing it changes every generated stream.
 */
const WARM_UP_DRAWS = 16;

/**
 * Below this mean a Poisson count is drawn by inversion (cost grows with the mean); at and above
 * it by Hörmann's PTRS rejection, whose constants are only valid for means of about 10 and up.
 */
const POISSON_INVERSION_LIMIT = 12;

/**
 * Mixes a seed with stream identifiers into a well-spread 32-bit seed (murmur3's finaliser per
 * part), so that seed 1 and seed 2, or channel 3 and channel 4, start far apart.
 *
 * @example
 * const messages = new Rng(deriveSeed(42, channelIndex, STREAM_MESSAGES));
 */
export function deriveSeed(seed: number, ...parts: readonly number[]): number {
  let h = fmix32((seed | 0) ^ 0x9e3779b9);
  // Seeds above 2^32 would otherwise collide with their low 32 bits.
  h = fmix32(h ^ Math.floor(seed / 0x1_0000_0000));
  for (const part of parts) h = fmix32(Math.imul(h ^ (part | 0), 0x85ebca6b) + 0x6b43a9b5);
  return h | 0;
}

function fmix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/**
 * A mutable seeded random source. Not pure on purpose: the generator draws millions of values and
 * must not allocate a new generator per draw.
 *
 * @example
 * const rng = new Rng(42);
 * const dice = rng.int(1, 6);
 * const arrivals = rng.poisson(2.5);
 */
export class Rng {
  private readonly gen: RandomGenerator;
  /** Box–Muller makes normals in pairs; the second waits here. */
  private spareNormal = Number.NaN;

  constructor(seed: number) {
    this.gen = xoroshiro128plus(seed | 0);
    skipN(this.gen, WARM_UP_DRAWS);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return uniformFloat64(this.gen);
  }

  /** Uniform integer in [`from`, `to`], both included. */
  int(from: number, to: number): number {
    return uniformInt(this.gen, from, to);
  }

  /** Uniform in [`from`, `to`). */
  between(from: number, to: number): number {
    return from + (to - from) * uniformFloat64(this.gen);
  }

  chance(probability: number): boolean {
    return uniformFloat64(this.gen) < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[uniformInt(this.gen, 0, items.length - 1)] as T;
  }

  /** Standard normal. */
  normal(): number {
    const spare = this.spareNormal;
    if (!Number.isNaN(spare)) {
      this.spareNormal = Number.NaN;
      return spare;
    }
    // 1 - u keeps the logarithm finite: uniformFloat64 can return 0 but never 1.
    const radius = Math.sqrt(-2 * Math.log(1 - uniformFloat64(this.gen)));
    const angle = 2 * Math.PI * uniformFloat64(this.gen);
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - uniformFloat64(this.gen));
  }

  /** Poisson-distributed count with the given mean (0 for a mean of 0 or less). */
  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean < POISSON_INVERSION_LIMIT) return this.poissonByInversion(mean);
    return this.poissonPtrs(mean);
  }

  private poissonByInversion(mean: number): number {
    const u = uniformFloat64(this.gen);
    let k = 0;
    let p = Math.exp(-mean);
    let cumulative = p;
    // The tail beyond this is below double precision for means under the inversion limit.
    while (u > cumulative && k < 200) {
      k++;
      p *= mean / k;
      cumulative += p;
    }
    return k;
  }

  /** W. Hörmann, "The transformed rejection method for generating Poisson random variables" (1993). */
  private poissonPtrs(mean: number): number {
    const slam = Math.sqrt(mean);
    const logMean = Math.log(mean);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = uniformFloat64(this.gen) - 0.5;
      const v = uniformFloat64(this.gen);
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (
        Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <=
        -mean + k * logMean - logFactorial(k)
      ) {
        return k;
      }
    }
  }
}

const LOG_FACTORIALS: number[] = [0];

/** ln(k!): exact sums for small k (cached), Stirling's series beyond, where it is exact to double precision. */
function logFactorial(k: number): number {
  if (k < 256) {
    for (let i = LOG_FACTORIALS.length; i <= k; i++)
      LOG_FACTORIALS[i] = (LOG_FACTORIALS[i - 1] as number) + Math.log(i);
    return LOG_FACTORIALS[k] as number;
  }
  const inv = 1 / k;
  return k * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI * k) + inv / 12 - (inv * inv * inv) / 360;
}
