import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveSeed, Rng } from './rng.ts';

function draws(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.float());
}

function meanAndVariance(values: readonly number[]): { mean: number; variance: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return { mean, variance };
}

describe('Rng', () => {
  it('repeats its sequence for the same seed and not for another', () => {
    assert.deepEqual(draws(new Rng(42), 100), draws(new Rng(42), 100));
    assert.notDeepEqual(draws(new Rng(42), 100), draws(new Rng(43), 100));
  });

  it('gives neighbouring seeds unrelated first draws', () => {
    // Unmixed xoroshiro128+ would echo the seed in its first outputs.
    const firsts = Array.from({ length: 50 }, (_, seed) => new Rng(seed).float());
    const { mean } = meanAndVariance(firsts);
    assert.ok(Math.abs(mean - 0.5) < 0.15, `mean of first draws ${mean}`);
    assert.equal(new Set(firsts.map((f) => f.toFixed(6))).size, 50);
  });

  it('draws integers over the whole inclusive range', () => {
    const rng = new Rng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const v = rng.int(-2, 3);
      assert.ok(v >= -2 && v <= 3);
      seen.add(v);
    }
    assert.equal(seen.size, 6);
  });

  for (const mean of [0.3, 4, 11.9, 12, 40, 300]) {
    it(`draws Poisson counts with mean and variance ${mean}`, () => {
      const rng = new Rng(Math.round(mean * 100));
      const values = Array.from({ length: 40_000 }, () => rng.poisson(mean));
      const stats = meanAndVariance(values);
      // Standard error of the mean is sqrt(mean / n); allow about 5 of them.
      assert.ok(Math.abs(stats.mean - mean) < 5 * Math.sqrt(mean / values.length), `mean ${stats.mean}`);
      assert.ok(Math.abs(stats.variance / mean - 1) < 0.05, `variance ${stats.variance}`);
      assert.ok(values.every((v) => Number.isInteger(v) && v >= 0));
    });
  }

  it('draws zero arrivals for a zero or negative mean', () => {
    const rng = new Rng(5);
    assert.equal(rng.poisson(0), 0);
    assert.equal(rng.poisson(-1), 0);
  });

  it('draws standard normals and exponentials', () => {
    const rng = new Rng(9);
    const normals = meanAndVariance(Array.from({ length: 40_000 }, () => rng.normal()));
    assert.ok(
      Math.abs(normals.mean) < 0.03 && Math.abs(normals.variance - 1) < 0.04,
      JSON.stringify(normals),
    );
    const exponentials = meanAndVariance(Array.from({ length: 40_000 }, () => rng.exponential(3)));
    assert.ok(Math.abs(exponentials.mean - 3) < 0.1, JSON.stringify(exponentials));
  });
});

describe('deriveSeed', () => {
  it('is stable and separates streams and seeds', () => {
    assert.equal(deriveSeed(42, 1, 2), deriveSeed(42, 1, 2));
    const seeds = new Set([
      deriveSeed(42),
      deriveSeed(42, 1),
      deriveSeed(42, 2),
      deriveSeed(42, 1, 2),
      deriveSeed(42, 2, 1),
      deriveSeed(43, 1),
      deriveSeed(42 + 2 ** 32, 1),
    ]);
    assert.equal(seeds.size, 7);
  });
});
