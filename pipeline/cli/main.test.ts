import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { cli } from '../../test/cli.ts';

const root = new URL('../../', import.meta.url).pathname;

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'scout-cli-'));
}

describe('scout CLI', () => {
  test('--help lists every command', async () => {
    const r = await cli('--help');
    assert.equal(r.code, 0);
    for (const c of [
      'run',
      'plan',
      'replay',
      'eval',
      'plot',
      'generate',
      'bench',
      'demo',
      'serve',
      'migrate',
    ])
      assert.match(r.out, new RegExp(`\\b${c}\\b`));
  });

  for (const command of [
    ['run'],
    ['plan'],
    ['replay'],
    ['generate', 'chat'],
    ['bench', 'engine'],
    ['demo'],
    ['eval'],
    ['plot'],
    ['serve'],
    ['migrate'],
  ]) {
    test(`${command.join(' ')} --help describes its options and exits 0`, async () => {
      const r = await cli(...command, '--help');
      assert.equal(r.code, 0);
      assert.match(r.out, /Usage: scout/);
      assert.match(r.out, /Options:/);
    });
  }

  const bad: Array<[string, string[], RegExp]> = [
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['an unknown flag', ['plan', 'chat-activity', '--bogus'], /unknown option '--bogus'/],
    ['an unknown job', ['plan', 'no-such-job'], /unknown job "no-such-job"/],
    ['a missing job file', ['plan', './nope/job.ts'], /job file not found: \.\/nope\/job\.ts/],
    [
      'a missing replay file',
      ['replay', 'missing.jsonl', '--job', 'chat-activity'],
      /no such file: missing\.jsonl/,
    ],
    ['a replay without --job', ['replay', 'x.jsonl'], /required option '--job <job>'/],
    [
      'a bad number',
      ['generate', 'chat', '--out', 'x', '--channels', 'many'],
      /--channels takes a positive whole number/,
    ],
    ['a bad duration', ['run', 'chat-activity', '--for', 'soon'], /--for takes a duration/],
    [
      'an unknown detector',
      ['plan', 'highlights', '--set', 'detector=magic'],
      /unknown detector "magic" \(detectors: rule, robust\)/,
    ],
    ['a bad k', ['plan', 'highlights', '--set', 'k=-1'], /option k must be a number > 0, got "-1"/],
    ['a bad cooldown', ['plan', 'highlights', '--set', 'cooldown=soon'], /cooldown takes a duration/],
    ['eval of a missing folder', ['eval', 'no/such/dir'], /no such file or folder: no\/such\/dir/],
    ['plot without --out', ['plot', 'x.jsonl'], /required option '--out <file>'/],
    ['a bad port', ['serve', '--port', '70000'], /--port takes a port number 0–65535, got "70000"/],
    ['--exactly-once without Kafka', ['run', 'highlights', '--exactly-once'], /--exactly-once needs --kafka/],
    [
      '--exactly-once with node-rdkafka',
      [
        'run',
        'highlights',
        '--kafka',
        '127.0.0.1:1',
        '--registry',
        'http://127.0.0.1:1',
        '--exactly-once',
        '--kafka-driver',
        'rdkafka',
      ],
      /--exactly-once needs --kafka-driver kafkajs/,
    ],
    ['--exactly-once for the monitor', ['run', 'monitor', '--exactly-once'], /does not apply to the monitor/],
  ];
  for (const [what, argv, message] of bad) {
    test(`${what} gives one line on stderr and exit code 2`, async () => {
      const r = await cli(...argv);
      assert.equal(r.code, 2);
      assert.match(r.err, message);
      assert.equal(r.err.trim().split('\n').length, 1, `more than one line: ${r.err}`);
      assert.doesNotMatch(r.err, /\n\s+at /, 'a stack trace leaked');
    });
  }

  test('a job file that does not export a job is refused with one line', async () => {
    const dir = tmp();
    const file = join(dir, 'not-a-job.mjs');
    writeFileSync(file, 'export default 42;\n');
    const r = await cli('plan', file);
    assert.equal(r.code, 2);
    assert.match(r.err, /does not export a job/);
  });

  test('plan prints every step of a built-in job with its inputs', async () => {
    const r = await cli('plan', 'chat-activity');
    assert.equal(r.code, 0);
    assert.match(r.out, /pipeline chat-activity \(\d+ steps\)/);
    assert.match(r.out, /bucket-counts\s+process state: channel\s+← by-channel/);
    assert.match(r.out, /baseline\s+process state: history/);
  });

  test('plan loads a TypeScript job file without a build step', async () => {
    const r = await cli('plan', join(root, 'docs/examples/emote-counts.ts'));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /per-minute\s+window tumbling 1min/);
  });

  test('generate chat writes one file per channel, labels beside each, and is seeded', async () => {
    const a = tmp();
    const b = tmp();
    assert.equal(
      (await cli('generate', 'chat', '--channels', '3', '--hours', '0.1', '--seed', '5', '--out', a)).code,
      0,
    );
    assert.equal(
      (await cli('generate', 'chat', '--channels', '3', '--hours', '0.1', '--seed', '5', '--out', b)).code,
      0,
    );
    const streams = readdirSync(a).filter((f) => f.endsWith('.jsonl'));
    assert.equal(streams.length, 3);
    for (const f of streams) {
      assert.ok(readdirSync(a).includes(f.replace('.jsonl', '.labels.json')));
      assert.equal(readFileSync(join(a, f), 'utf8'), readFileSync(join(b, f), 'utf8'));
    }
    const first = JSON.parse(readFileSync(join(a, streams[0]!), 'utf8').split('\n')[0]!);
    assert.deepEqual(Object.keys(first), ['broadcaster_login', 'ts', 'user', 'text']);
  });

  test('replay counts, skips and reports malformed lines, and still writes the output', async () => {
    const dir = tmp();
    const input = join(dir, 'chat.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 200; i++)
      lines.push(JSON.stringify({ broadcaster_login: 'a', ts: 1_000_000 + i * 100, user: 'u', text: 'hi' }));
    lines.splice(50, 0, '{not json');
    lines.splice(120, 0, JSON.stringify({ broadcaster_login: 'a', ts: 'later', user: 'u', text: 'x' }));
    writeFileSync(input, `${lines.join('\n')}\n`);
    const out = join(dir, 'out.jsonl');
    const r = await cli('replay', input, '--job', 'chat-activity', '--out', out);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /skipped 2 malformed line\(s\), first at .*chat\.jsonl:51/);
    assert.match(r.err, /replayed 200 messages/);
    const buckets = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(
      buckets.reduce((n, b) => n + b.count, 0),
      200,
    );
  });
});

describe('scout with the highlights job', () => {
  /** Generated chat with bursts, written once for these tests. */
  const dir = tmp();
  const ready = cli('generate', 'chat', '--channels', '3', '--hours', '0.5', '--seed', '9', '--out', dir);

  test('replay --job highlights writes one detection per line with the documented fields', async () => {
    assert.equal((await ready).code, 0);
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => join(dir, f));
    const out = join(tmp(), 'detections.jsonl');
    const r = await cli('replay', ...files, '--job', 'highlights', '--out', out);
    assert.equal(r.code, 0, r.err);
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(rows.length > 0);
    for (const d of rows) {
      assert.deepEqual(Object.keys(d), [
        'broadcaster_login',
        'detected_at',
        'bucket_start',
        'bucket_end',
        'count',
        'baseline_mean',
        'baseline_stddev',
        'z',
      ]);
      assert.equal(d.detected_at, d.bucket_end);
      const spread = d.baseline_stddev === 0 ? 1 : d.baseline_stddev;
      assert.ok(d.count > d.baseline_mean + 3 * spread - 0.01, `below the threshold: ${JSON.stringify(d)}`);
    }
    const robustOut = join(tmp(), 'robust.jsonl');
    assert.equal(
      (await cli('replay', ...files, '--job', 'highlights', '--detector', 'robust', '--out', robustOut)).code,
      0,
    );
    assert.notEqual(
      readFileSync(robustOut, 'utf8'),
      readFileSync(out, 'utf8'),
      '--detector robust changed nothing',
    );
  });

  test('replay reads chat-messages records as well as the dataset format', async () => {
    const input = join(tmp(), 'records.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 100; i++) {
      lines.push(
        JSON.stringify({
          broadcaster_id: 42,
          timestamp: 1_700_000_000_000 + i * 1_000,
          message_id: `m${i}`,
          text: 'hi',
          user_id: i,
          user_name: `u${i}`,
          metadata: { emotes: {}, badges: {}, is_subscriber: false, is_mod: false },
        }),
      );
    }
    writeFileSync(input, `${lines.join('\n')}\n`);
    const out = join(tmp(), 'activity.jsonl');
    const r = await cli('replay', input, '--job', 'chat-activity', '--out', out);
    assert.equal(r.code, 0, r.err);
    const buckets = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(buckets[0].broadcaster_login, '42');
    assert.equal(
      buckets.reduce((n: number, b: { count: number }) => n + b.count, 0),
      100,
    );
  });

  test('eval prints per-stream and overall precision, recall and F1 for both detectors; --json too', async () => {
    assert.equal((await ready).code, 0);
    const text = await cli('eval', dir);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /detector rule\n/);
    assert.match(text.out, /detector robust\n/);
    assert.match(text.out, /precision\s+recall\s+F1/);
    assert.match(text.out, /replay throughput: [\d,]+ messages\/s/);
    const json = await cli('eval', dir, '--json', '--detector', 'rule');
    const report = JSON.parse(json.out);
    assert.equal(report.results.length, 1);
    assert.equal(report.results[0].streams.length, 3);
    assert.ok(report.results[0].overall.labels > 0);
    assert.ok(report.results[0].overall.recall > 0.5);
  });

  test('plot writes an SVG with the counts, the band and the detections', async () => {
    assert.equal((await ready).code, 0);
    const stream = join(dir, readdirSync(dir).find((f) => f.endsWith('.jsonl'))!);
    const out = join(tmp(), 'activity.svg');
    const r = await cli('plot', stream, '--out', out);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /wrote .*activity\.svg: \d+ buckets, \d+ detections, \d+ labels/);
    const svg = readFileSync(out, 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<polyline /);
    assert.match(svg, /<polygon /);
    assert.match(svg, /<circle /);
  });
});

describe('scout binary', () => {
  const run = promisify(execFile);
  test('npx scout --help works from the package bin', async () => {
    const { stdout } = await run(process.execPath, [join(root, 'bin/scout.mjs'), '--help'], { cwd: root });
    assert.match(stdout, /Usage: scout/);
  });

  test('a failing command exits 2 with one line and no stack trace', async () => {
    await assert.rejects(
      run(process.execPath, [join(root, 'bin/scout.mjs'), 'replay', 'nope.jsonl', '--job', 'chat-activity'], {
        cwd: root,
      }),
      (e: { code: number; stderr: string }) => {
        assert.equal(e.code, 2);
        assert.equal(e.stderr.trim(), 'scout: no such file: nope.jsonl');
        return true;
      },
    );
  });

  test('scout run runs a job file for --for and prints its output', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        join(root, 'bin/scout.mjs'),
        'run',
        'chat-activity',
        '--channels',
        '8',
        '--speed',
        '500',
        '--for',
        '3s',
      ],
      { cwd: root },
    );
    const rows = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(rows.length > 10, `only ${rows.length} rows`);
    assert.ok(rows.every((r) => r.bucket_end - r.bucket_start === 5_000 && r.count >= 0));
    assert.ok(rows.some((r) => r.count > 0));
  });
});
