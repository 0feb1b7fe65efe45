import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalCdf, normalQuantile } from './normal.ts';

describe('normalCdf and normalQuantile', () => {
  it('match known values', () => {
    assert.ok(Math.abs(normalCdf(0) - 0.5) < 1e-7);
    assert.ok(Math.abs(normalCdf(1.959964) - 0.975) < 1e-6);
    assert.ok(Math.abs(normalCdf(-1) - 0.158655) < 1e-6);
    assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-5);
    assert.ok(Math.abs(normalQuantile(0.001) + 3.090232) < 1e-5);
  });

  it('invert each other across the range, tails included', () => {
    for (const p of [1e-6, 0.01, 0.02425, 0.1, 0.5, 0.9, 0.97575, 0.999]) {
      assert.ok(Math.abs(normalCdf(normalQuantile(p)) - p) < 2e-7 + p * 1e-5, `p = ${p}`);
    }
  });
});
