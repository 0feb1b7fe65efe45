/**
 * A job's Prometheus metrics (prom-client), served on `/metrics` by `scout run --metrics-port`.
 * Names are what the Grafana dashboards and alert rules query; change them together.
 *
 *   scout_step_records_in_total{job,step}            records each step took in
 *   scout_step_records_out_total{job,step}           records each step emitted
 *   scout_checkpoints_total{job,outcome}             checkpoints durable (success) or failed
 *   scout_checkpoint_duration_seconds{job}           histogram: drain to durable write
 *   scout_checkpoint_pause_seconds{job}              histogram: how long processing stood still
 *   scout_checkpoint_size_bytes{job}                 bytes the last checkpoint wrote
 *   scout_checkpoint_keys{job}                       keyed-state entries the last checkpoint wrote
 *   scout_checkpoint_last_success_timestamp_seconds{job}
 *   scout_checkpoint_age_seconds{job}                now − the last success (−1 before the first)
 *   scout_checkpoint_copies_total{job,outcome}       copies to --checkpoint-store
 * plus prom-client's process and Node.js metrics (memory, CPU, event-loop lag).
 */
import { createServer, type Server } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { CheckpointRecord } from '../checkpoint/coordinator.ts';
import type { JobRuntime } from '../runtime/runtime.ts';
import type { Clock } from '../time/clock.ts';

export class JobMetrics {
  readonly registry = new Registry();
  /** The runtimes whose step counts are exported (one per partition task on Kafka), with the counts already exported. */
  private readonly runtimes = new Map<JobRuntime, { in: Map<string, number>; out: Map<string, number> }>();
  private lastSuccessAt: number | undefined;
  private readonly checkpoints: Counter<'job' | 'outcome'>;
  private readonly duration: Histogram<'job'>;
  private readonly pause: Histogram<'job'>;
  private readonly size: Gauge<'job'>;
  private readonly keys: Gauge<'job'>;
  private readonly lastSuccess: Gauge<'job'>;
  private readonly copies: Counter<'job' | 'outcome'>;

  constructor(
    readonly job: string,
    private readonly clock: Clock,
    options: { readonly processMetrics?: boolean } = {},
  ) {
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    // Step counters read the runtime's own counts when scraped, so the hot path does no extra work.
    const self = this;
    const stepCounter = (name: string, help: string, which: 'in' | 'out') =>
      new Counter({
        name,
        help,
        labelNames: ['job', 'step'] as const,
        registers,
        collect() {
          for (const [runtime, seen] of self.runtimes) {
            for (const [step, m] of Object.entries(runtime.metrics())) {
              const now = which === 'in' ? m.recordsIn : m.recordsOut;
              const before = seen[which].get(step) ?? 0;
              if (now > before) this.inc({ job: self.job, step }, now - before);
              seen[which].set(step, now);
            }
          }
        },
      });
    stepCounter('scout_step_records_in_total', 'Records each step took in.', 'in');
    stepCounter('scout_step_records_out_total', 'Records each step emitted.', 'out');
    this.checkpoints = new Counter({
      name: 'scout_checkpoints_total',
      help: 'Checkpoints made durable (outcome="success") or failed.',
      labelNames: ['job', 'outcome'] as const,
      registers,
    });
    this.duration = new Histogram({
      name: 'scout_checkpoint_duration_seconds',
      help: 'Time from the drain of the sinks until the checkpoint was durable.',
      labelNames: ['job'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.pause = new Histogram({
      name: 'scout_checkpoint_pause_seconds',
      help: 'Time processing stood still for a checkpoint (drain and snapshot).',
      labelNames: ['job'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.size = new Gauge({
      name: 'scout_checkpoint_size_bytes',
      help: 'Bytes the last checkpoint wrote.',
      labelNames: ['job'] as const,
      registers,
    });
    this.keys = new Gauge({
      name: 'scout_checkpoint_keys',
      help: 'Keyed-state entries and deletions the last checkpoint wrote.',
      labelNames: ['job'] as const,
      registers,
    });
    this.lastSuccess = new Gauge({
      name: 'scout_checkpoint_last_success_timestamp_seconds',
      help: 'When the last checkpoint became durable (Unix time).',
      labelNames: ['job'] as const,
      registers,
    });
    new Gauge({
      name: 'scout_checkpoint_age_seconds',
      help: 'Seconds since the last durable checkpoint; -1 before the first.',
      labelNames: ['job'] as const,
      registers,
      collect() {
        const at = self.lastSuccessAt;
        this.set({ job: self.job }, at === undefined ? -1 : (self.clock.now() - at) / 1000);
      },
    });
    this.copies = new Counter({
      name: 'scout_checkpoint_copies_total',
      help: 'Checkpoints copied to --checkpoint-store (outcome="success") or not.',
      labelNames: ['job', 'outcome'] as const,
      registers,
    });
  }

  /** Exports this runtime's step counts too (added to those of the others watched). */
  watch(runtime: JobRuntime): void {
    if (!this.runtimes.has(runtime)) this.runtimes.set(runtime, { in: new Map(), out: new Map() });
  }

  /** Stops reading a runtime that has stopped (what it counted since the last scrape is not exported). */
  unwatch(runtime: JobRuntime): void {
    this.runtimes.delete(runtime);
  }

  checkpointSucceeded(record: CheckpointRecord): void {
    const job = this.job;
    this.checkpoints.inc({ job, outcome: 'success' });
    this.duration.observe({ job }, record.durationMs / 1000);
    this.pause.observe({ job }, record.pauseMs / 1000);
    this.size.set({ job }, record.bytes);
    this.keys.set({ job }, record.keys);
    this.lastSuccessAt = record.takenAt + record.durationMs;
    this.lastSuccess.set({ job }, this.lastSuccessAt / 1000);
  }

  checkpointFailed(): void {
    this.checkpoints.inc({ job: this.job, outcome: 'failure' });
  }

  checkpointCopied(ok: boolean): void {
    this.copies.inc({ job: this.job, outcome: ok ? 'success' : 'failure' });
  }
}

/**
 * Serves `GET /metrics` (Prometheus text format) and `GET /health` on `host:port`; port 0 picks a
 * free one. Resolves with the server and its URL once listening.
 */
export async function startMetricsServer(
  metrics: JobMetrics,
  port: number,
  host = '127.0.0.1',
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://scout').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
      res.end('only GET\n');
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`${error instanceof Error ? error.message : String(error)}\n`);
        },
      );
    } else if (path === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok', job: metrics.job }));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found (GET /metrics, GET /health)\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? `--metrics-port ${port} is in use on ${host}`
            : `cannot serve metrics on ${host}:${port}: ${error.message}`,
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    server,
    url: `http://${host}:${bound}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
