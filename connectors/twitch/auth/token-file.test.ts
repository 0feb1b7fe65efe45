import assert from 'node:assert/strict';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { TwitchAuthError } from './errors.ts';
import { rejection } from './expect-auth-error.ts';
import { clientSecretOf, readTokenFile, type TokenFile, writeTokenFile } from './token-file.ts';

const SAMPLE: TokenFile = {
  clientId: 'c0ffee00deadbeef1234567890abcd',
  clientSecret: 's3cr3t',
  token: {
    accessToken: 'k2v9q4m1x8p7d3s6t0a5b2c8e1f4g7',
    refreshToken: 'r8w1n5c2h9j4k7m0p3q6s1v4x7z0b3d6f9g2h5j8l1n4',
    scope: ['chat:read', 'clips:edit'],
    expiresIn: 14337,
    obtainmentTimestamp: 1_741_978_800_000,
  },
};

const SAMPLE_JSON = {
  client_id: SAMPLE.clientId,
  client_secret: SAMPLE.clientSecret,
  access_token: SAMPLE.token.accessToken,
  refresh_token: SAMPLE.token.refreshToken,
  scope: SAMPLE.token.scope,
  expires_in: SAMPLE.token.expiresIn,
  obtainment_timestamp: SAMPLE.token.obtainmentTimestamp,
};

describe('token file', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'scout-token-file-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  let n = 0;
  const fresh = () => join(scratch, `case-${n++}`, 'twitch-tokens.json');

  test('writes snake_case JSON that reads back the same, creating the folder', async () => {
    const path = fresh();
    await writeTokenFile(path, SAMPLE);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), SAMPLE_JSON);
    assert.deepEqual(await readTokenFile(path), SAMPLE);
  });

  test('the file is mode 0600, even when it replaces a world-readable one', async () => {
    const path = fresh();
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '{}', { mode: 0o644 });
    chmodSync(path, 0o644);
    await writeTokenFile(path, SAMPLE);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  test('a failed write leaves no file and no temp file behind', async () => {
    const path = fresh();
    mkdirSync(path, { recursive: true }); // a folder where the file should go: the rename fails
    const error = await rejection(writeTokenFile(path, SAMPLE));
    assert.match(error.message, /^cannot write the Twitch token file .*twitch-tokens\.json: /);
    assert.deepEqual(readdirSync(join(path, '..')), ['twitch-tokens.json']);
    assert.ok(statSync(path).isDirectory());
  });

  test('rewriting replaces the whole file (no leftovers of a longer old one)', async () => {
    const path = fresh();
    await writeTokenFile(path, {
      ...SAMPLE,
      token: { ...SAMPLE.token, refreshToken: 'x'.repeat(500) },
    });
    await writeTokenFile(path, SAMPLE);
    assert.deepEqual(await readTokenFile(path), SAMPLE);
    assert.deepEqual(readdirSync(join(path, '..')), ['twitch-tokens.json']);
  });

  test('a missing file says to run scout auth seed', async () => {
    const path = join(scratch, 'nowhere', 'twitch-tokens.json');
    const error = await rejection(readTokenFile(path));
    assert.equal(
      error.message,
      `Twitch token file ${path} not found: run \`scout auth seed --client-id <id> --client-secret <secret> --out ${path}\``,
    );
  });

  test('garbled JSON, missing fields and wrong types are named', async () => {
    const cases: [string, RegExp][] = [
      ['{"client_id": "abc", ', /is not valid JSON: run `scout auth seed/],
      ['[1, 2]', /is not a JSON object/],
      [
        JSON.stringify({ ...SAMPLE_JSON, refresh_token: undefined, scope: undefined }),
        /lacks refresh_token, scope: run `scout auth seed --client-id c0ffee00deadbeef1234567890abcd /,
      ],
      [JSON.stringify({ ...SAMPLE_JSON, expires_in: '14337' }), /has a bad expires_in: /],
      [JSON.stringify({ ...SAMPLE_JSON, scope: 'chat:read' }), /has a bad scope: /],
      [JSON.stringify({ ...SAMPLE_JSON, client_id: '' }), /has a bad client_id: /],
    ];
    for (const [text, expected] of cases) {
      const path = fresh();
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, text);
      const error = await rejection(readTokenFile(path));
      assert.match(error.message, expected, text);
    }
  });

  test('TWITCH_CLIENT_SECRET overrides the secret, and stands in for a missing one', async () => {
    const path = fresh();
    await writeTokenFile(path, { clientId: SAMPLE.clientId, token: SAMPLE.token });
    const file = await readTokenFile(path);
    assert.equal(file.clientSecret, undefined);
    assert.equal(clientSecretOf(file, path, { TWITCH_CLIENT_SECRET: 'from-env' }), 'from-env');
    assert.equal(clientSecretOf(SAMPLE, path, { TWITCH_CLIENT_SECRET: 'from-env' }), 'from-env');
    assert.equal(clientSecretOf(SAMPLE, path, {}), 's3cr3t');
    assert.throws(
      () => clientSecretOf(file, path, {}),
      (e: unknown) =>
        e instanceof TwitchAuthError &&
        /has no client_secret and TWITCH_CLIENT_SECRET is not set/.test(e.message),
    );
  });
});
