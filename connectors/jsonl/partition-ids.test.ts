import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { partitionIds } from './partition-ids.ts';

describe('partitionIds', () => {
  it('names each file by its base name', () => {
    assert.deepEqual(partitionIds(['data/a.jsonl', '/tmp/x/b.jsonl.gz']), ['a.jsonl', 'b.jsonl.gz']);
  });

  it('adds parent folders only to files whose base names clash, until they differ', () => {
    assert.deepEqual(partitionIds(['/d/2024/01/xqc.jsonl', '/d/2024/02/xqc.jsonl', '/d/other.jsonl']), [
      '01/xqc.jsonl',
      '02/xqc.jsonl',
      'other.jsonl',
    ]);
    assert.deepEqual(partitionIds(['/a/same/x.jsonl', '/b/same/x.jsonl']), [
      'a/same/x.jsonl',
      'b/same/x.jsonl',
    ]);
  });

  it('rejects a file listed twice, however it is spelled', () => {
    assert.throws(() => partitionIds(['/d/a.jsonl', '/d/../d/a.jsonl']), /replay file listed twice/);
  });
});
