/**
 * `scout run <job> --kafka <brokers> --registry <url>`: the job reads its input topic and writes its
 * outputs as Avro topics, one task per partition it is given in the consumer group
 * (connectors/kafka/tasks.ts). More instances started with the same arguments split the
 * partitions; state moves with a partition through the checkpoint store, which instances share:
 * a folder all of them can reach (`--state-dir`), or a bucket (`--checkpoint-store`).
 */
import { type DriverName, loadDriver } from '../../connectors/kafka/driver.ts';
import { KafkaJob } from '../../connectors/kafka/tasks.ts';
import { AvroSerde, connectRegistry } from '../../schemas/serde.ts';
import { sharedDatabaseStores } from '../../sinks/postgres/stores.ts';
import { loadJob } from '../jobs/registry.ts';
import { JobMetrics, startMetricsServer } from '../metrics/job-metrics.ts';
import { type Clock, SystemClock } from '../time/clock.ts';
import { untilStopped } from './until-stopped.ts';

export interface KafkaRunOptions {
  readonly brokers: readonly string[];
  readonly registry: string;
  readonly driver: DriverName;
  readonly group?: string;
  readonly topicPrefix?: string;
  readonly stateDir?: string;
  readonly checkpointStore?: string;
  readonly checkpointIntervalMs?: number;
  readonly sessionTimeoutMs?: number;
  readonly mode: 'live' | 'replay';
  readonly autoRegister: boolean;
  /** Commit each checkpoint's Kafka outputs with its offsets in one transaction. */
  readonly exactlyOnce?: boolean;
  readonly set: Record<string, string>;
  readonly forMs?: number;
  readonly metricsPort?: number;
  readonly metricsHost?: string;
  readonly log: (line: string) => void;
  /** Clip through Twitch with this token file (`scout auth seed`) instead of the local clipper. */
  readonly twitchTokenFile?: string;
}

/** Where a Kafka run keeps its partitions' checkpoints when no `--state-dir` is given. */
export function defaultKafkaStateDir(group: string): string {
  return `data/state/${group}`;
}

export async function startKafkaJob(ref: string, options: KafkaRunOptions, clock: Clock): Promise<KafkaJob> {
  const job = await loadJob(ref);
  const groupId = options.group ?? `scout-${job.name}`;
  const driver = await loadDriver(options.driver);
  const serde = new AvroSerde(await connectRegistry(options.registry), {
    autoRegister: options.autoRegister,
  });
  let fatal: ((error: Error) => void) | undefined;
  const twitch = options.twitchTokenFile
    ? await (async () => {
        const { openTwitchAuth } = await import('../../connectors/twitch/auth/index.ts');
        const { HelixClient } = await import('../../connectors/twitch/helix.ts');
        const { twitchClipper } = await import('../../connectors/twitch/clipper.ts');
        const auth = await openTwitchAuth({
          clock,
          tokenFile: options.twitchTokenFile,
          log: options.log,
          onFatal: (error) => fatal?.(error),
        });
        const helix = new HelixClient({ authProvider: auth.userProvider, clock, clipUserId: auth.userId });
        options.log(`clips through Twitch as ${auth.login}`);
        return { auth, clipper: twitchClipper(helix) };
      })()
    : undefined;
  const database = sharedDatabaseStores({ url: process.env.DATABASE_URL });
  const metrics = options.metricsPort !== undefined ? new JobMetrics(job.name, clock) : undefined;
  const served =
    metrics && options.metricsPort !== undefined
      ? await startMetricsServer(metrics, options.metricsPort, options.metricsHost)
      : undefined;
  if (served) options.log(`metrics on ${served.url}`);
  const running = new KafkaJob({
    job,
    driver,
    brokers: options.brokers,
    groupId,
    serde,
    stateDir: options.stateDir ?? defaultKafkaStateDir(groupId),
    clock,
    mode: options.mode,
    options: options.set,
    stores: database.stores,
    log: options.log,
    ...(options.topicPrefix !== undefined ? { topicPrefix: options.topicPrefix } : {}),
    ...(options.checkpointStore !== undefined ? { checkpointStore: options.checkpointStore } : {}),
    ...(options.checkpointIntervalMs !== undefined
      ? { checkpointIntervalMs: options.checkpointIntervalMs }
      : {}),
    ...(options.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: options.sessionTimeoutMs } : {}),
    ...(metrics ? { metrics } : {}),
    ...(twitch ? { clipper: twitch.clipper } : {}),
    ...(options.exactlyOnce ? { exactlyOnce: true } : {}),
  });
  // The hourly token check failed (revoked, password changed): stop, and exit 1 with its line.
  fatal = (error) => {
    options.log(error.message);
    process.exitCode = 1;
    void running.stop();
  };
  const cleanup = async () => {
    await twitch?.auth.close().catch(() => {});
    await database.close().catch(() => {});
    await served?.close();
  };
  running.done.then(cleanup, cleanup);
  try {
    await running.start();
  } catch (error) {
    await running.stop();
    throw error;
  }
  options.log(
    `${job.name} joined group ${groupId} on ${options.brokers.join(',')} (${driver.name}${options.exactlyOnce ? ', exactly-once' : ''})`,
  );
  return running;
}

export async function runKafkaCommand(ref: string, options: KafkaRunOptions): Promise<void> {
  const clock = new SystemClock();
  await untilStopped(await startKafkaJob(ref, options, clock), clock, options.forMs);
}
