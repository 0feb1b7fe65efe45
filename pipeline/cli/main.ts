/**
 * The `scout` command line. Every command has `--help`; bad input prints one line on stderr and
 * exits with 2, a failing job prints one line and exits with 1. SCOUT_DEBUG=1 adds stack traces.
 */
import { Command, CommanderError, Option } from 'commander';
import { DRIVER_NAMES, type DriverName, EXACTLY_ONCE_NEEDS_KAFKAJS } from '../../connectors/kafka/driver.ts';
import { GraphError } from '../builder.ts';
import { parseCheckpointStoreUrl } from '../checkpoint/object-mirror.ts';
import { listSavepoints, removeSavepoint } from '../checkpoint/savepoints.ts';
import { JobNotFoundError } from '../jobs/registry.ts';
import { authCommand } from './auth.ts';
import { benchEngine } from './bench.ts';
import { benchCheckpointCommand } from './bench-checkpoint.ts';
import { benchKafkaCommand, parseDrivers } from './bench-kafka.ts';
import { requestSavepoint } from './control.ts';
import { demoCommand } from './demo.ts';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, oneLine, UsageError } from './errors.ts';
import { evalCommand, formatEval } from './eval.ts';
import { generateChatCommand } from './generate.ts';
import { migrateCommand } from './migrate.ts';
import {
  collectSetting,
  parseBrokers,
  parseDuration,
  parseInteger,
  parsePort,
  parsePositive,
  parsePositiveInt,
} from './parse.ts';
import { planCommand } from './plan.ts';
import { plotCommand } from './plot.ts';
import { replayCommand } from './replay.ts';
import { runCommand } from './run.ts';
import type { KafkaRunOptions } from './run-kafka.ts';
import type { EventSubServing } from './run-monitor.ts';
import { serveCommand } from './serve.ts';

/** Thrown from commander's exit hook to leave `parseAsync` with a code. */
class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function int(option: string) {
  return (v: string) => parsePositiveInt(v, option);
}

/** The durable-state flags `run` and `replay` share. */
function withStateOptions(command: Command): Command {
  return command
    .option('--state-dir <dir>', 'checkpoint into this folder; started again after a crash, resume from it')
    .option(
      '--checkpoint-interval <duration>',
      'time between checkpoints (with --state-dir; default 10s)',
      (v) => parseDuration(v, '--checkpoint-interval'),
    )
    .option('--ignore-state', 'start empty even if --state-dir holds checkpoints', false)
    .option('--from-savepoint <name>', 'start from this savepoint of --state-dir (or a savepoint folder)')
    .option(
      '--checkpoint-store <url>',
      's3://bucket/prefix: copy each checkpoint there, and start from there when --state-dir is empty (SCOUT_S3_ENDPOINT, SCOUT_S3_ACCESS_KEY, SCOUT_S3_SECRET_KEY)',
    )
    .option(
      '--allow-non-restored-state',
      'start even if the checkpoint or savepoint holds state of steps the job no longer has (it is dropped)',
      false,
    );
}

/** A malformed `--checkpoint-store` URL is a usage error, found before anything opens. */
function checkCheckpointStore(o: Record<string, unknown>): void {
  if (o.checkpointStore === undefined) return;
  try {
    parseCheckpointStoreUrl(String(o.checkpointStore));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** `scout run monitor`: Twitch in, topics out (Kafka with --kafka, else stream-lifecycle printed). */
async function runMonitorFromFlags(
  o: Record<string, unknown>,
  given: (flag: string) => boolean,
  err: (s: string) => void,
): Promise<void> {
  for (const flag of [
    'channels',
    'speed',
    'seed',
    'stateDir',
    'fromSavepoint',
    'group',
    'mode',
    'sessionTimeout',
  ]) {
    if (given(flag)) throw new UsageError(`--${kebab(flag)} does not apply to the monitor job`);
  }
  if ((o.kafka === undefined) !== (o.registry === undefined)) {
    throw new UsageError(o.kafka === undefined ? '--registry needs --kafka' : '--kafka needs --registry');
  }
  if (o.kafka !== undefined && given('out')) throw new UsageError('--out does not apply with --kafka');
  let eventSub: EventSubServing | undefined;
  if (o.eventsubCallback !== undefined) {
    const secret = process.env.TWITCH_EVENTSUB_SECRET;
    if (!secret) {
      throw new UsageError(
        '--eventsub-callback needs TWITCH_EVENTSUB_SECRET (10 to 100 characters) in the environment',
      );
    }
    let url: URL;
    try {
      url = new URL(String(o.eventsubCallback));
    } catch {
      throw new UsageError(`--eventsub-callback is not a URL: ${o.eventsubCallback}`);
    }
    if (url.protocol !== 'https:' && url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') {
      throw new UsageError('--eventsub-callback must be https:// (Twitch only posts to HTTPS on port 443)');
    }
    eventSub = {
      callbackUrl: url.toString(),
      port: (o.eventsubPort as number | undefined) ?? 8080,
      host: String(o.eventsubHost),
      secret,
    };
  } else if (given('eventsubPort')) {
    throw new UsageError('--eventsub-port needs --eventsub-callback');
  }
  if (o.kafka !== undefined && !(DRIVER_NAMES as readonly string[]).includes(String(o.kafkaDriver))) {
    throw new UsageError(`--kafka-driver must be one of ${DRIVER_NAMES.join(', ')}, got "${o.kafkaDriver}"`);
  }
  const { runMonitorCommand } = await import('./run-monitor.ts');
  await runMonitorCommand({
    tokenFile: String(o.twitchTokenFile),
    ...(o.twitchChatUrl !== undefined ? { chatUrl: String(o.twitchChatUrl) } : {}),
    ...(eventSub ? { eventSub } : {}),
    set: o.set as Record<string, string>,
    ...(o.out !== undefined ? { out: String(o.out) } : {}),
    ...(o.kafka !== undefined
      ? {
          kafka: {
            brokers: parseBrokers(String(o.kafka)),
            registry: String(o.registry),
            driver: o.kafkaDriver as DriverName,
            autoRegister: o.autoRegister !== false,
            ...(o.topicPrefix !== undefined ? { topicPrefix: String(o.topicPrefix) } : {}),
          },
        }
      : {}),
    ...(o.metricsPort !== undefined
      ? { metricsPort: o.metricsPort as number, metricsHost: String(o.metricsHost) }
      : {}),
    ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
    ...(o.for !== undefined ? { forMs: o.for as number } : {}),
    log: (line) => err(`${line}\n`),
  });
}

/** `run`'s options with `--kafka`; generated-chat and single-folder state flags do not apply there. */
function kafkaRunOptions(
  o: Record<string, unknown>,
  command: Command,
  err: (s: string) => void,
): KafkaRunOptions {
  if (o.kafka === undefined) throw new UsageError('--registry needs --kafka');
  if (o.registry === undefined)
    throw new UsageError('--kafka needs --registry (the schema registry of its Avro topics)');
  const given = (flag: string) => command.getOptionValueSource(flag) === 'cli';
  for (const flag of [
    'channels',
    'speed',
    'seed',
    'out',
    'ignoreState',
    'fromSavepoint',
    'allowNonRestoredState',
  ]) {
    if (given(flag)) throw new UsageError(`--${kebab(flag)} does not apply with --kafka`);
  }
  if (!(DRIVER_NAMES as readonly string[]).includes(String(o.kafkaDriver))) {
    throw new UsageError(`--kafka-driver must be one of ${DRIVER_NAMES.join(', ')}, got "${o.kafkaDriver}"`);
  }
  if (o.exactlyOnce && o.kafkaDriver !== 'kafkajs') throw new UsageError(EXACTLY_ONCE_NEEDS_KAFKAJS);
  if (o.mode !== 'live' && o.mode !== 'replay')
    throw new UsageError(`--mode must be live or replay, got "${o.mode}"`);
  const brokers = parseBrokers(String(o.kafka));
  checkCheckpointStore(o);
  return {
    brokers,
    registry: String(o.registry),
    driver: o.kafkaDriver as DriverName,
    mode: o.mode,
    autoRegister: o.autoRegister !== false,
    exactlyOnce: o.exactlyOnce === true,
    set: o.set as Record<string, string>,
    log: (line) => err(`scout: ${line}\n`),
    ...(o.group !== undefined ? { group: String(o.group) } : {}),
    ...(o.topicPrefix !== undefined ? { topicPrefix: String(o.topicPrefix) } : {}),
    ...(o.stateDir !== undefined ? { stateDir: String(o.stateDir) } : {}),
    ...(o.checkpointStore !== undefined ? { checkpointStore: String(o.checkpointStore) } : {}),
    ...(o.checkpointInterval !== undefined ? { checkpointIntervalMs: o.checkpointInterval as number } : {}),
    ...(o.sessionTimeout !== undefined ? { sessionTimeoutMs: o.sessionTimeout as number } : {}),
    ...(o.for !== undefined ? { forMs: o.for as number } : {}),
    ...(o.metricsPort !== undefined ? { metricsPort: o.metricsPort as number } : {}),
    ...(o.metricsHost !== undefined ? { metricsHost: String(o.metricsHost) } : {}),
  };
}

/** Those flags as the commands' options. */
function stateOptions(o: Record<string, unknown>, err: (s: string) => void) {
  if (o.stateDir === undefined) {
    for (const flag of ['fromSavepoint', 'checkpointInterval', 'checkpointStore'] as const) {
      if (o[flag] !== undefined) throw new UsageError(`--${kebab(flag)} needs --state-dir`);
    }
  }
  checkCheckpointStore(o);
  if (o.fromSavepoint !== undefined && o.ignoreState) {
    throw new UsageError('--from-savepoint and --ignore-state contradict each other');
  }
  return {
    stateDir: o.stateDir as string | undefined,
    checkpointIntervalMs: o.checkpointInterval as number | undefined,
    ignoreState: Boolean(o.ignoreState),
    fromSavepoint: o.fromSavepoint as string | undefined,
    checkpointStore: o.checkpointStore as string | undefined,
    allowNonRestoredState: Boolean(o.allowNonRestoredState),
    log: (line: string) => err(`scout: ${line}\n`),
  };
}

function formatBytes(n: number): string {
  return n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function buildProgram(out: (s: string) => void, err: (s: string) => void): Command {
  const program = new Command('scout')
    .description('streamscout — stream processing without a JVM, and the Twitch pipelines built on it')
    .version('0.1.0', '-V, --version')
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: out,
      writeErr: err,
      outputError: (message, write) => write(`scout: ${oneLine(message.replace(/^error: /, ''))}\n`),
    });

  const jobHelp = `<job> is a built-in job name (highlights, chat-activity, monitor) or a path to a job file (./my-job.ts)`;

  withStateOptions(
    program
      .command('run')
      .description(
        'run a job: on the embedded default, fed with generated chat; or on Kafka with --kafka and --registry',
      ),
  )
    .argument('<job>', jobHelp)
    .option(
      '--kafka <brokers>',
      'run on Kafka: host:port of the brokers, comma separated (the job reads its input topic)',
    )
    .option(
      '--registry <url>',
      'with --kafka: the Confluent-compatible schema registry, e.g. http://127.0.0.1:8081',
    )
    .option('--kafka-driver <name>', `with --kafka: ${DRIVER_NAMES.join(' or ')}`, 'kafkajs')
    .option(
      '--group <id>',
      'with --kafka: the consumer group instances of this job share (default scout-<job>)',
    )
    .option(
      '--topic-prefix <prefix>',
      'with --kafka: put before every topic name, e.g. staging. (schemas stay the same)',
    )
    .option(
      '--mode <mode>',
      'with --kafka: live (waits in processing time) or replay (in event time, for recorded topics)',
      'live',
    )
    .option('--no-auto-register', 'with --kafka: fail instead of registering a missing output schema')
    .option(
      '--exactly-once',
      "with --kafka: commit each checkpoint's Kafka outputs with its offsets in one transaction (kafkajs driver)",
    )
    .option(
      '--session-timeout <duration>',
      'with --kafka: how long the group waits for a silent instance',
      (v) => parseDuration(v, '--session-timeout'),
    )
    .option('--channels <n>', 'generated channels feeding the input', int('--channels'), 20)
    .option('--speed <x>', 'generated chat runs at x times real time', (v) => parsePositive(v, '--speed'), 1)
    .option('--seed <s>', 'seed of the generated chat', (v) => parseInteger(v, '--seed'), 1)
    .option('--for <duration>', 'stop after this long (e.g. 30s, 5m); default: until Ctrl-C', (v) =>
      parseDuration(v, '--for'),
    )
    .option('--out <file>', 'write the main output here (JSON Lines) instead of stdout')
    .option(
      '--detector <name>',
      'highlights detector: rule (default) or robust; same as --set detector=<name>',
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics on http://<metrics-host>:<port>/metrics',
      (v) => parsePort(v, '--metrics-port'),
    )
    .option('--metrics-host <host>', 'address the metrics server listens on', '127.0.0.1')
    .option('--set <key=value>', 'job option (repeatable)', collectSetting, {})
    .option(
      '--twitch-token-file <path>',
      'the token file `scout auth seed` wrote: the monitor reads Twitch with it; highlights (with --kafka) clips through Twitch',
      'data/twitch-tokens.json',
    )
    .option(
      '--twitch-chat-url <url>',
      'monitor: chat server (default wss://irc-ws.chat.twitch.tv:443); Helix follows TWURPLE_MOCK_API_PORT',
    )
    .option(
      '--eventsub-callback <url>',
      'monitor: public HTTPS URL Twitch posts EventSub to (served locally on --eventsub-port); off without it',
    )
    .option('--eventsub-port <port>', 'monitor: local port of the EventSub webhook', (v) =>
      parsePort(v, '--eventsub-port'),
    )
    .option('--eventsub-host <host>', 'monitor: address the EventSub webhook listens on', '127.0.0.1')
    .action(async (job: string, o, command: Command) => {
      if (o.detector) o.set = { ...o.set, detector: o.detector };
      const given = (flag: string) => command.getOptionValueSource(flag) === 'cli';
      if (job === 'monitor') {
        if (given('exactlyOnce'))
          throw new UsageError('--exactly-once does not apply to the monitor (it takes no checkpoints)');
        await runMonitorFromFlags(o, given, err);
        return;
      }
      for (const flag of ['twitchChatUrl', 'eventsubCallback', 'eventsubPort'] as const) {
        if (given(flag)) throw new UsageError(`--${kebab(flag)} only applies to the monitor job`);
      }
      if (given('twitchTokenFile') && o.kafka === undefined) {
        throw new UsageError('--twitch-token-file needs --kafka (clips of generated chat are made locally)');
      }
      if (o.kafka !== undefined || o.registry !== undefined) {
        const options = kafkaRunOptions(o, command, err);
        if (given('twitchTokenFile')) Object.assign(options, { twitchTokenFile: String(o.twitchTokenFile) });
        await (await import('./run-kafka.ts')).runKafkaCommand(job, options);
        return;
      }
      for (const flag of ['group', 'sessionTimeout', 'topicPrefix', 'exactlyOnce'] as const) {
        if (o[flag] !== undefined) throw new UsageError(`--${kebab(flag)} needs --kafka`);
      }
      await runCommand(job, {
        channels: o.channels,
        seed: o.seed,
        speed: o.speed,
        forMs: o.for,
        out: o.out,
        set: o.set,
        metricsPort: o.metricsPort,
        metricsHost: o.metricsHost,
        ...stateOptions(o, err),
      });
    });

  program
    .command('plan')
    .description("print a job's operator graph without running it")
    .argument('<job>', jobHelp)
    .option('--set <key=value>', 'job option (repeatable)', collectSetting, {})
    .action(async (job: string, o) => {
      out(`${await planCommand(job, o.set)}\n`);
    });

  withStateOptions(
    program
      .command('replay')
      .description('replay recorded chat (JSON Lines, plain or .gz) through a job in event time'),
  )
    .argument(
      '<files...>',
      'chat files, one stream each: {broadcaster_login, ts, user, text} or chat-messages records per line',
    )
    .requiredOption('--job <job>', jobHelp)
    .option('--out <file>', 'write the main output here (JSON Lines); default stdout')
    .option('--speed <x>', 'recorded pace × x; default: as fast as possible', (v) =>
      parsePositive(v, '--speed'),
    )
    .option(
      '--detector <name>',
      'highlights detector: rule (default) or robust; same as --set detector=<name>',
    )
    .option('--store', "also store the job's tables (clips) in PGlite under ./data, or DATABASE_URL", false)
    .option('--set <key=value>', 'job option (repeatable)', collectSetting, {})
    .action(async (files: string[], o) => {
      const set = o.detector ? { ...o.set, detector: o.detector } : o.set;
      const s = await replayCommand(files, {
        job: o.job,
        out: o.out,
        speed: o.speed,
        set,
        store: o.store,
        ...stateOptions(o, err),
      });
      const rate = s.seconds > 0 ? Math.round(s.records / s.seconds) : 0;
      if (s.malformed > 0)
        err(`scout: skipped ${s.malformed} malformed line(s), first at ${s.firstMalformed}\n`);
      const checkpoints = s.checkpoints
        ? `; ${s.checkpoints.count} checkpoints, longest pause ${Math.round(s.checkpoints.longestPauseMs)} ms`
        : '';
      err(
        `replayed ${s.records} messages → ${s.outputs} outputs in ${s.seconds.toFixed(2)} s (${rate} messages/s)${checkpoints}\n`,
      );
    });

  program
    .command('savepoint')
    .description(
      'take a savepoint of a running job (one started with --state-dir) and wait until it is written',
    )
    .argument('<job>', 'the name of the running job, e.g. highlights')
    .requiredOption('--state-dir <dir>', 'the --state-dir the job runs with')
    .option('--name <name>', 'savepoint name (default: <job>-<UTC time>)')
    .action(async (job: string, o) => {
      const made = await requestSavepoint(o.stateDir, job, o.name);
      out(
        `savepoint ${made.name} of ${made.job}: ${made.keys} keys, ${formatBytes(made.bytes)} in ${made.path}\n`,
      );
    });

  const savepoints = program.command('savepoints').description("list or remove a job's savepoints");
  savepoints
    .command('list')
    .description('list the savepoints in a state folder, oldest first')
    .requiredOption('--state-dir <dir>', 'the state folder (its savepoints/ subfolder)')
    .option('--json', 'one JSON object per savepoint', false)
    .action(async (o) => {
      const list = await listSavepoints(o.stateDir);
      if (o.json) {
        for (const s of list) out(`${JSON.stringify(s)}\n`);
        return;
      }
      if (list.length === 0) out(`no savepoints in ${o.stateDir}\n`);
      for (const s of list) {
        out(
          'problem' in s
            ? `${s.name}  unreadable: ${s.problem}\n`
            : `${s.name}  ${s.job}  ${new Date(s.createdAt).toISOString()}  ${s.keys} keys  ${formatBytes(s.bytes)}\n`,
        );
      }
    });
  savepoints
    .command('rm')
    .description('delete a savepoint')
    .argument('<name>', 'savepoint name')
    .requiredOption('--state-dir <dir>', 'the state folder (its savepoints/ subfolder)')
    .action(async (name: string, o) => {
      await removeSavepoint(o.stateDir, name);
      out(`removed savepoint ${name}\n`);
    });

  program
    .command('eval')
    .description('score the highlights detectors on recorded streams (precision/recall/F1 where labelled)')
    .argument(
      '<inputs...>',
      'stream files (.jsonl, .jsonl.gz) or folders searched for them; labels from <stream>.labels.json',
    )
    .option('--detector <names>', 'detectors to score, comma-separated (rule, robust)', 'rule,robust')
    .option('--set <key=value>', 'job option for every detector, e.g. k=3 (repeatable)', collectSetting, {})
    .option('--json', 'print the report as JSON', false)
    .action(async (inputs: string[], o) => {
      const detectors = String(o.detector)
        .split(',')
        .map((d) => d.trim())
        .filter(Boolean);
      const report = await evalCommand(inputs, { detectors, set: o.set });
      out(o.json ? `${JSON.stringify(report)}\n` : `${formatEval(report)}\n`);
    });

  program
    .command('plot')
    .description("draw a stream's bucket counts, baseline band, detections and labels as SVG")
    .argument(
      '<stream>',
      'one stream file (.jsonl or .jsonl.gz); labels from <stream>.labels.json if present',
    )
    .requiredOption('--out <file>', 'SVG file to write')
    .option('--set <key=value>', 'job option, e.g. detector=robust or k=4 (repeatable)', collectSetting, {})
    .action(async (file: string, o) => {
      const s = await plotCommand(file, { out: o.out, set: o.set });
      out(`wrote ${s.out}: ${s.buckets} buckets, ${s.detections} detections, ${s.labels} labels\n`);
    });

  const generate = program.command('generate').description('generate test data');
  generate
    .command('chat')
    .description('write seeded synthetic chat, one file per channel, with <channel>.labels.json ground truth')
    .requiredOption('--out <dir>', 'output folder')
    .option('--channels <n>', 'number of channels', int('--channels'), 10)
    .option('--hours <h>', 'hours of chat per channel', (v) => parsePositive(v, '--hours'), 1)
    .option('--seed <s>', 'random seed', (v) => parseInteger(v, '--seed'), 1)
    .option('--gzip', 'write .jsonl.gz instead of .jsonl', false)
    .action(async (o) => {
      out(
        `${await generateChatCommand({ channels: o.channels, hours: o.hours, seed: o.seed, out: o.out, gzip: o.gzip })}\n`,
      );
    });

  const bench = program.command('bench').description('benchmarks (figures, not tests)');
  bench
    .command('engine')
    .description('chat through filter → keyBy → 5 s tumbling count → keyed process; messages/s and peak RSS')
    .option('--messages <n>', 'messages generated beforehand', int('--messages'), 5_000_000)
    .option('--keys <k>', 'distinct channels', int('--keys'), 100_000)
    .option('--runs <r>', 'runs, each in its own process; the median is reported', int('--runs'), 1)
    .option('--seed <s>', 'random seed', (v) => parseInteger(v, '--seed'), 1)
    .option('--json', 'print the report as JSON', false)
    .action(async (o) => {
      const report = await benchEngine(
        { messages: o.messages, keys: o.keys, runs: o.runs, seed: o.seed },
        o.json
          ? undefined
          : (r, i) =>
              out(
                `run ${i + 1}: ${r.messages_per_s.toLocaleString('en')} messages/s, peak RSS ${r.peak_rss_mb} MB (${r.seconds} s)\n`,
              ),
      );
      if (o.json) out(`${JSON.stringify(o.runs === 1 ? report.runs[0] : report)}\n`);
      else
        out(
          `median of ${o.runs}: ${report.messages_per_s.toLocaleString('en')} messages/s, peak RSS ${report.peak_rss_mb} MB\n`,
        );
    });

  bench
    .command('checkpoint')
    .description(
      'checkpoint store: full, incremental (1% of keys changed) and restore times and sizes of highlights-like state',
    )
    .option('--keys <n>', 'channels in the state (the targets are for 1,000,000)', int('--keys'), 1_000_000)
    .option('--runs <r>', 'repetitions; medians are reported', int('--runs'), 3)
    .option('--json', 'print the figures as JSON', false)
    .action(async (o) => {
      await benchCheckpointCommand({ keys: o.keys, runs: o.runs, json: o.json }, out);
    });

  bench
    .command('kafka')
    .description(
      'Kafka: chat produced to a fresh topic, then read raw (decode only) and through the highlights job, per driver; messages/s and peak RSS',
    )
    .requiredOption('--kafka <brokers>', 'host:port of the brokers, comma separated', parseBrokers)
    .requiredOption(
      '--registry <url>',
      'the Confluent-compatible schema registry, e.g. http://127.0.0.1:8081',
    )
    .option(
      '--messages <n>',
      'messages produced beforehand (the targets are for 1,000,000)',
      int('--messages'),
      1_000_000,
    )
    .option(
      '--drivers <names>',
      `drivers to measure, comma separated: ${DRIVER_NAMES.join(',')} (rdkafka only if it loads)`,
      parseDrivers,
      [...DRIVER_NAMES],
    )
    .option(
      '--runs <r>',
      'repetitions of each measurement on the same topic; medians are reported',
      int('--runs'),
      1,
    )
    .option('--json', 'print the figures as JSON', false)
    .action(async (o) => {
      await benchKafkaCommand(
        {
          brokers: o.kafka,
          registry: o.registry,
          messages: o.messages,
          drivers: o.drivers,
          runs: o.runs,
          json: o.json,
        },
        out,
        err,
      );
    });

  program
    .command('demo')
    .description(
      'generated chat → highlights job → clips in PGlite → the clip page on localhost (no servers)',
    )
    .option('--channels <n>', 'generated channels', int('--channels'), 50)
    .option(
      '--speed <x>',
      'event time runs x times faster than real time',
      (v) => parsePositive(v, '--speed'),
      20,
    )
    .option('--seed <s>', 'random seed', (v) => parseInteger(v, '--seed'), 1)
    .option('--port <port>', 'port of the clip page', (v) => parsePort(v, '--port'), 8080)
    .option('--for <duration>', 'stop after this long of real time (e.g. 1m); default: until Ctrl-C', (v) =>
      parseDuration(v, '--for'),
    )
    .option(
      '--twitch-fake',
      'instead of generated chat: monitor + highlights against local Twitch fakes (Helix, OAuth, chat), clips via Create Clip',
      false,
    )
    .action(async (o, command: Command) => {
      if (o.twitchFake) {
        if (command.getOptionValueSource('channels') === 'cli') {
          throw new UsageError(
            '--channels does not apply with --twitch-fake (the fake has its own dozen channels)',
          );
        }
        const { twitchDemoCommand } = await import('./demo-twitch.ts');
        await twitchDemoCommand({ speed: o.speed, seed: o.seed, port: o.port, forMs: o.for }, out);
        return;
      }
      await demoCommand(
        { channels: o.channels, speed: o.speed, seed: o.seed, port: o.port, forMs: o.for },
        out,
      );
    });

  program
    .command('serve')
    .description('serve the clip page and the query API (GET /, /v1.0/clip, /health) over the clips table')
    .option('--port <port>', 'port to listen on (0 picks a free one)', (v) => parsePort(v, '--port'), 8080)
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .addHelpText(
      'after',
      '\nReads DATABASE_URL (a postgres:// URL); without it, the embedded PGlite in ./data/pglite.',
    )
    .action(async (o) => {
      await serveCommand({ port: o.port, hostname: o.host }, out);
    });

  program
    .command('migrate')
    .description('apply the SQL migrations in db/migrations that the database has not seen yet')
    .addHelpText(
      'after',
      '\nReads DATABASE_URL (a postgres:// URL); without it, the embedded PGlite in ./data/pglite.',
    )
    .action(async () => {
      await migrateCommand({ databaseUrl: process.env.DATABASE_URL }, out);
    });

  // `scout auth seed|check`: the Twitch token file (pipeline/cli/auth.ts).
  program.addCommand(authCommand(out));

  for (const cmd of [program, ...allCommands(program)]) {
    cmd.exitOverride((e) => {
      throw e;
    });
    cmd.configureOutput(program.configureOutput());
    cmd.showSuggestionAfterError(true);
  }
  program.addOption(new Option('--debug', 'print stack traces of errors').hideHelp());
  return program;
}

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** Runs the CLI; returns the exit code. */
export async function main(
  argv: readonly string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  const program = buildProgram(out, err);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof Exit) return error.code;
    if (error instanceof CommanderError) {
      // Help and version exit with 0; commander already printed any message through outputError.
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      ) {
        return EXIT_OK;
      }
      if (error.code === 'commander.executeSubCommandAsync' || error.exitCode === 0) return EXIT_OK;
      return EXIT_USAGE;
    }
    const usage =
      error instanceof UsageError || error instanceof JobNotFoundError || error instanceof GraphError;
    err(`scout: ${oneLine(error)}\n`);
    if (process.env.SCOUT_DEBUG === '1' && error instanceof Error) err(`${error.stack}\n`);
    return usage ? EXIT_USAGE : EXIT_FAILED;
  }
}
