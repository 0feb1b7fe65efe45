import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { writeTokenFile } from '../../connectors/twitch/auth/token-file.ts';
import { cli } from '../../test/cli.ts';
import { startFakeTwitch } from '../../test/fakes/twitch/server.ts';
import { TwitchWorld } from '../../test/fakes/twitch/world.ts';
import { ManualClock, SystemClock } from '../time/clock.ts';

describe('scout auth', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'scout-auth-cli-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('auth --help lists seed and check', async () => {
    const r = await cli('auth', '--help');
    assert.equal(r.code, 0);
    assert.match(r.out, /Usage: scout auth/);
    assert.match(r.out, /\bseed\b.*authorize the app/);
    assert.match(r.out, /\bcheck\b.*validate the token file/);
  });

  for (const [command, flag] of [
    ['seed', '--client-secret <secret>'],
    ['check', '--token-file <file>'],
  ] as const) {
    test(`auth ${command} --help describes its options`, async () => {
      const r = await cli('auth', command, '--help');
      assert.equal(r.code, 0);
      assert.match(r.out, new RegExp(`Usage: scout auth ${command}`));
      assert.ok(r.out.includes(flag), r.out);
    });
  }

  test('auth check with a missing file: exit 1 and one line saying what to run', async () => {
    const file = join(scratch, 'absent.json');
    const r = await cli('auth', 'check', '--token-file', file);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.equal(
      r.err,
      `scout: Twitch token file ${file} not found: run \`scout auth seed --client-id <id> --client-secret <secret> --out ${file}\`\n`,
    );
  });

  test('auth seed without a client secret anywhere is a usage error (exit 2)', async () => {
    const saved = process.env.TWITCH_CLIENT_SECRET;
    delete process.env.TWITCH_CLIENT_SECRET;
    try {
      const r = await cli('auth', 'seed', '--client-id', 'abc');
      assert.equal(r.code, 2);
      assert.equal(r.err, 'scout: --client-secret (or env TWITCH_CLIENT_SECRET) is required\n');
      const noId = await cli('auth', 'seed', '--client-secret', 'x');
      assert.equal(noId.code, 2);
      assert.match(noId.err, /required option '--client-id <id>'/);
    } finally {
      if (saved !== undefined) process.env.TWITCH_CLIENT_SECRET = saved;
    }
  });

  test('auth check against the fake Twitch prints the login, scopes and expiry; a revoked grant exits 1', async () => {
    const world = new TwitchWorld({ clock: new ManualClock(Date.parse('2025-03-14T19:00:00Z')) });
    const client = world.registerApp();
    const fox = world.addUser('pixelfox', { id: '52419331' });
    const fake = await startFakeTwitch({ world });
    process.env.TWURPLE_MOCK_API_PORT = String(fake.port);
    try {
      const t = world.issueUserToken(client.clientId, fox.id, ['chat:read', 'clips:edit']);
      const file = join(scratch, 'tokens.json');
      await writeTokenFile(file, {
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        token: {
          accessToken: t.accessToken,
          refreshToken: t.refreshToken,
          scope: ['chat:read', 'clips:edit'],
          expiresIn: world.userTokenTtlS,
          obtainmentTimestamp: new SystemClock().now(),
        },
      });
      const ok = await cli('auth', 'check', '--token-file', file);
      assert.equal(ok.err, '');
      assert.equal(ok.code, 0);
      assert.match(
        ok.out,
        new RegExp(
          `^pixelfox \\(user 52419331\\): chat:read clips:edit; token valid until \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ \\(${file}\\)\\n$`,
        ),
      );

      world.revokeGrant(client.clientId, fox.id);
      const dead = await cli('auth', 'check', '--token-file', file);
      assert.equal(dead.code, 1);
      assert.match(
        dead.err,
        /^scout: the Twitch token in .* is invalid and cannot be refreshed \(Invalid refresh token\): run `scout auth seed [^\n]*\n$/,
      );
    } finally {
      delete process.env.TWURPLE_MOCK_API_PORT;
      await fake.close();
    }
  });
});
