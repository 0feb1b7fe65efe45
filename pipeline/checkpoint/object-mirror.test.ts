import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCheckpointStoreUrl, readS3Config, S3CheckpointMirror } from './object-mirror.ts';

describe('parseCheckpointStoreUrl', () => {
  it('takes a bucket and a prefix without its outer slashes', () => {
    assert.deepStrictEqual(parseCheckpointStoreUrl('s3://scout-checkpoints'), {
      bucket: 'scout-checkpoints',
      prefix: '',
    });
    assert.deepStrictEqual(parseCheckpointStoreUrl('s3://scout-checkpoints/'), {
      bucket: 'scout-checkpoints',
      prefix: '',
    });
    assert.deepStrictEqual(parseCheckpointStoreUrl('s3://my.bucket-2/prod/highlights/'), {
      bucket: 'my.bucket-2',
      prefix: 'prod/highlights',
    });
    assert.deepStrictEqual(parseCheckpointStoreUrl('s3://abc/a b/ünï'), { bucket: 'abc', prefix: 'a b/ünï' });
  });

  it('refuses anything but s3://bucket/prefix, on one line', () => {
    for (const url of [
      '',
      'bucket/prefix',
      'S3://bucket/prefix',
      's3:/bucket',
      's3://',
      's3:///prefix',
      'https://bucket/prefix',
      's3://bucket/prefix?versionId=1',
      's3://bucket/a//b',
      's3://bucket/a\nb',
    ]) {
      assert.throws(
        () => parseCheckpointStoreUrl(url),
        (e: Error) =>
          e.message === `--checkpoint-store must look like s3://bucket/prefix, got ${JSON.stringify(url)}`,
        url,
      );
    }
  });

  it('refuses bucket names S3 refuses, naming the rules', () => {
    for (const bucket of [
      'ab',
      'a'.repeat(64),
      'Upper',
      'under_score',
      '-starts-with-hyphen',
      'ends-with-dot.',
      'two..dots',
      '192.168.5.4',
    ]) {
      assert.throws(
        () => parseCheckpointStoreUrl(`s3://${bucket}/p`),
        (e: Error) =>
          e.message.startsWith(
            `--checkpoint-store: ${JSON.stringify(bucket)} is not a valid S3 bucket name (3–63`,
          ) && !e.message.includes('\n'),
        bucket,
      );
    }
    assert.equal(parseCheckpointStoreUrl(`s3://${'a'.repeat(63)}`).bucket.length, 63);
    assert.equal(parseCheckpointStoreUrl('s3://a1b').bucket, 'a1b');
  });
});

describe('readS3Config', () => {
  it('reads SCOUT_S3_*, with AWS S3 and us-east-1 as defaults', () => {
    assert.deepStrictEqual(
      readS3Config({
        SCOUT_S3_ENDPOINT: 'http://127.0.0.1:59000/',
        SCOUT_S3_ACCESS_KEY: 'key',
        SCOUT_S3_SECRET_KEY: 'secret',
        SCOUT_S3_REGION: 'eu-west-1',
      }),
      { endpoint: 'http://127.0.0.1:59000', accessKey: 'key', secretKey: 'secret', region: 'eu-west-1' },
    );
    assert.deepStrictEqual(readS3Config({ SCOUT_S3_ACCESS_KEY: 'key', SCOUT_S3_SECRET_KEY: 'secret' }), {
      endpoint: 'https://s3.amazonaws.com',
      accessKey: 'key',
      secretKey: 'secret',
      region: 'us-east-1',
    });
  });

  it('falls back to AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, never mixing the two pairs', () => {
    const aws = { AWS_ACCESS_KEY_ID: 'aws-key', AWS_SECRET_ACCESS_KEY: 'aws-secret' };
    assert.equal(readS3Config(aws).accessKey, 'aws-key');
    assert.equal(readS3Config(aws).secretKey, 'aws-secret');
    const both = { ...aws, SCOUT_S3_ACCESS_KEY: 'key', SCOUT_S3_SECRET_KEY: 'secret' };
    assert.equal(readS3Config(both).accessKey, 'key');
    assert.equal(readS3Config(both).secretKey, 'secret');
    assert.throws(() => readS3Config({ ...aws, SCOUT_S3_ACCESS_KEY: 'key' }), /S3 credentials are missing/);
  });

  it('names the variables when credentials are missing, and refuses an endpoint that is not http(s)', () => {
    assert.throws(
      () => readS3Config({ SCOUT_S3_ENDPOINT: 'http://127.0.0.1:59000' }),
      (e: Error) =>
        e.message ===
        'S3 credentials are missing: set SCOUT_S3_ACCESS_KEY and SCOUT_S3_SECRET_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)',
    );
    const keys = { SCOUT_S3_ACCESS_KEY: 'key', SCOUT_S3_SECRET_KEY: 'secret' };
    for (const endpoint of ['127.0.0.1:59000', 'ftp://host', 'http://host/path', 'http://u:p@host']) {
      assert.throws(
        () => readS3Config({ ...keys, SCOUT_S3_ENDPOINT: endpoint }),
        (e: Error) =>
          e.message ===
          `SCOUT_S3_ENDPOINT must be an http(s) URL like http://127.0.0.1:9000, got ${JSON.stringify(endpoint)}`,
        endpoint,
      );
    }
  });
});

describe('S3CheckpointMirror.open', () => {
  it('fails on a bad URL or missing credentials before connecting to anything', async () => {
    // Nothing listens on the endpoint: these must fail before any request.
    const endpoint = { SCOUT_S3_ENDPOINT: 'http://127.0.0.1:1' };
    await assert.rejects(
      S3CheckpointMirror.open('s3://Bad/x', {
        env: { ...endpoint, SCOUT_S3_ACCESS_KEY: 'k', SCOUT_S3_SECRET_KEY: 's' },
      }),
      /^Error: --checkpoint-store: "Bad" is not a valid S3 bucket name/,
    );
    await assert.rejects(
      S3CheckpointMirror.open('s3://bucket/x', { env: endpoint }),
      /^Error: S3 credentials are missing/,
    );
  });
});
