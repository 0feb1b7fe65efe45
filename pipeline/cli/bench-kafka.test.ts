import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BENCH_TABLES, type KafkaPhaseResult } from '../../bench/kafka-bench.ts';
import { cli } from '../../test/cli.ts';
import { planContext } from '../jobs/contexts.ts';
import { loadJob } from '../jobs/registry.ts';
import { ManualClock } from '../time/clock.ts';
import { driverResult, formatKafkaBench, type KafkaBenchReport, parseDrivers } from './bench-kafka.ts';

/** Nothing listens here: a test that got as far as connecting would fail, not hang. */
const SERVICES = ['--kafka', '127.0.0.1:1', '--registry', 'http://127.0.0.1:1'];

function phase(p: 'raw' | 'job', driver: 'kafkajs' | 'rdkafka', rate: number, rss: number): KafkaPhaseResult {
  return {
    phase: p,
    driver,
    messages: 1_000_000,
    seconds: 1_000_000 / rate,
    messages_per_s: rate,
    peak_rss_mb: rss,
  };
}

const REPORT: KafkaBenchReport = {
  benchmark: 'kafka',
  messages: 1_000_000,
  partitions: 8,
  runs: 2,
  producer: 'rdkafka',
  produce_messages_per_s: 120_000,
  results: [
    driverResult(
      'kafkajs',
      [phase('raw', 'kafkajs', 200_000, 150.5), phase('raw', 'kafkajs', 220_000, 151.5)],
      [phase('job', 'kafkajs', 140_000, 250), phase('job', 'kafkajs', 160_000, 260)],
    ),
    driverResult('rdkafka', [phase('raw', 'rdkafka', 400_000, 180)], [phase('job', 'rdkafka', 340_000, 300)]),
  ],
  skipped: [],
};

describe('scout bench kafka', () => {
  it('refuses --messages 0 with one line and exit code 2, before connecting anywhere', async () => {
    const r = await cli('bench', 'kafka', '--messages', '0', ...SERVICES);
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    assert.match(r.err, /^scout: --messages takes a positive whole number, got "0"\n$/);
  });

  it('refuses an unknown driver with one line', async () => {
    const r = await cli('bench', 'kafka', '--drivers', 'kafkajs,librdkafka', ...SERVICES);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /^scout: --drivers: unknown Kafka driver "librdkafka" \(drivers: kafkajs, rdkafka\)\n$/,
    );
    assert.deepEqual(parseDrivers('rdkafka, kafkajs,rdkafka'), ['rdkafka', 'kafkajs']);
  });

  it('needs --kafka and --registry, and brokers as host:port', async () => {
    const none = await cli('bench', 'kafka');
    assert.equal(none.code, 2);
    assert.match(none.err, /^scout: .*--kafka/);
    assert.equal(none.err.split('\n').length, 2);
    const bad = await cli('bench', 'kafka', '--kafka', 'localhost', '--registry', 'http://127.0.0.1:1');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /^scout: --kafka takes host:port\[,host:port…\], got "localhost"\n$/);
  });

  it('binds every table the highlights job stores into (a missing one fails the job phase)', async () => {
    const plan = planContext(new ManualClock(0));
    const asked: string[] = [];
    (await loadJob('highlights')).build({
      ...plan,
      store: (table) => {
        asked.push(table);
        return plan.store(table);
      },
    });
    assert.ok(asked.length > 0);
    assert.deepEqual([...new Set(asked)].sort(), [...BENCH_TABLES].sort());
  });

  it('takes the medians per driver and the ratio of job to raw', () => {
    const [kafkajs, rdkafka] = REPORT.results;
    assert.deepEqual(kafkajs, {
      driver: 'kafkajs',
      raw_messages_per_s: 210_000,
      job_messages_per_s: 150_000,
      ratio: 0.714,
      peak_rss_mb: 255,
      raw_peak_rss_mb: 151,
      job_peak_rss_mb: 255,
    });
    assert.equal(rdkafka?.ratio, 0.85);
  });

  it('prints one JSON object with --json', () => {
    const printed = JSON.parse(formatKafkaBench(REPORT, true)) as KafkaBenchReport;
    assert.equal(printed.benchmark, 'kafka');
    assert.equal(printed.messages, 1_000_000);
    assert.deepEqual(
      printed.results.map((r) => [
        r.driver,
        r.raw_messages_per_s,
        r.job_messages_per_s,
        r.ratio,
        r.peak_rss_mb,
      ]),
      [
        ['kafkajs', 210_000, 150_000, 0.714, 255],
        ['rdkafka', 400_000, 340_000, 0.85, 300],
      ],
    );
    assert.equal(formatKafkaBench(REPORT, true).split('\n').length, 2);
  });

  it('prints a table next to the targets, marking the ones missed', () => {
    const text = formatKafkaBench(REPORT, false);
    assert.match(
      text,
      /^kafka, 1,000,000 messages on 8 partitions \(produced with rdkafka at 120,000 messages\/s\), median of 2 runs:\n/,
    );
    assert.match(
      text,
      /\n {2}kafkajs +210,000\/s +150,000\/s +0\.71 +255\.0 MB {2}\(target ratio ≥ 0\.8, missed\)\n/,
    );
    assert.match(
      text,
      /\n {2}rdkafka +400,000\/s +340,000\/s +0\.85 +300\.0 MB {2}\(target ratio ≥ 0\.8\)\n/,
    );
    assert.match(
      text,
      /\n {2}better driver: rdkafka, 340,000 messages\/s through the job {2}\(target ≥ 250,000 messages\/s\)\n$/,
    );

    const slow = formatKafkaBench(
      {
        ...REPORT,
        messages: 50_000,
        runs: 1,
        results: [REPORT.results[0]!],
        skipped: [{ driver: 'rdkafka', reason: 'the rdkafka driver needs node-rdkafka' }],
      },
      false,
    );
    assert.match(slow, /, 1 run:\n/);
    assert.match(
      slow,
      /better driver: kafkajs, 150,000 messages\/s through the job {2}\(target ≥ 250,000 messages\/s, missed\)/,
    );
    assert.match(slow, /\n {2}rdkafka: not measured \(the rdkafka driver needs node-rdkafka\)\n/);
    assert.match(slow, /\(the targets are for 1,000,000 messages\)\n$/);

    const failed = driverResult(
      'kafkajs',
      [phase('raw', 'kafkajs', 200_000, 150)],
      [],
      'the kafkajs job measurement failed: stalled',
    );
    assert.deepEqual(
      [failed.raw_messages_per_s, failed.job_messages_per_s, failed.ratio, failed.peak_rss_mb],
      [200_000, null, null, 150],
    );
    const failedText = formatKafkaBench({ ...REPORT, results: [failed] }, false);
    assert.match(
      failedText,
      /\n {2}kafkajs +200,000\/s +failed +- +150\.0 MB {2}\(target ratio ≥ 0\.8, missed\)\n/,
    );
    assert.match(
      failedText,
      /\n {2}no driver got through the job {2}\(target ≥ 250,000 messages\/s, missed\)\n/,
    );
    assert.match(failedText, /\n {2}kafkajs failed: the kafkajs job measurement failed: stalled\n$/);
    assert.equal(
      JSON.parse(formatKafkaBench({ ...REPORT, results: [failed] }, true)).results[0].job_messages_per_s,
      null,
    );
  });
});
