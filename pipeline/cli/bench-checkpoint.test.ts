import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchCheckpointCommand } from './bench-checkpoint.ts';

describe('scout bench checkpoint', () => {
  it('prints the medians as JSON, and as lines next to the targets', async () => {
    let json = '';
    const result = await benchCheckpointCommand({ keys: 2_000, json: true, runs: 1 }, (s) => {
      json += s;
    });
    const printed = JSON.parse(json) as Record<string, unknown>;
    assert.equal(printed.benchmark, 'checkpoint');
    assert.equal(printed.keys, 2_000);
    for (const field of ['full_ms', 'full_mb', 'incremental_ms', 'incremental_mb', 'restore_ms'] as const) {
      assert.equal(printed[field], result[field]);
      assert.ok(result[field] > 0, `${field} = ${result[field]}`);
    }
    for (const field of ['pause_full_ms', 'pause_incremental_ms', 'write_block_ms'] as const) {
      assert.equal(printed[field], result[field]);
      assert.ok(result[field] >= 0 && Number.isFinite(result[field]), `${field} = ${result[field]}`);
    }
    // 1% of the channels changed: the incremental is a small fraction of the full checkpoint.
    assert.ok(
      result.incremental_mb < result.full_mb / 20,
      `${result.incremental_mb} vs ${result.full_mb} MB`,
    );

    let text = '';
    await benchCheckpointCommand({ keys: 1_000, json: false, runs: 1 }, (s) => {
      text += s;
    });
    assert.match(
      text,
      /^checkpoint store, 1,000 keys, median of 1 runs:\n {2}full .* MB {2}\(target ≤ 2,000 ms/,
    );
    assert.match(text, /\n {2}incremental .*\(target ≤ 100 ms/);
    assert.match(text, /\n {2}restore .*\(target ≤ 3,000 ms/);
    assert.match(text, /\n {2}full capture .*\(target ≤ 50 ms/);
    assert.match(text, /\n {2}during write .*\(longest event-loop block\)/);
    assert.match(text, /the targets are for 1,000,000 keys/);
  });
});
