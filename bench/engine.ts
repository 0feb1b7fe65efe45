/**
 * The engine benchmark: chat generated in memory beforehand (not timed) runs through
 * filter (drop `!commands`) → keyBy(channel) → 5 s tumbling count → a keyed process step, and we
 * report messages per second and the process's peak RSS.
 *
 * The chat is held in columns (typed arrays plus small string pools) so that even 10 million
 * messages take ~90 MB; the source builds each batch's record objects as it is polled, the way a
 * decoding source (Kafka, JSON Lines) would — that work is part of what is measured.
 */
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { count, pipeline, runJob, tumbling, valueState } from '../pipeline/index.ts';
import type { Poll, Sink, Source, SourceReader } from '../pipeline/types.ts';
import type { ChatLine } from '../schemas/chat-line.ts';

export interface EngineBenchOptions {
  readonly messages: number;
  readonly keys: number;
  readonly seed: number;
  readonly batchSize?: number;
}

export interface EngineBenchResult {
  readonly messages: number;
  readonly keys: number;
  readonly seconds: number;
  readonly messages_per_s: number;
  readonly peak_rss_mb: number;
  readonly windows_fired: number;
  readonly alerts: number;
}

/** Chat in columns: message i is channel `keys[i]` at `start + offsets[i]` ms saying `texts[textIds[i]]`. */
interface ChatColumns {
  readonly start: number;
  readonly offsets: Int32Array;
  readonly keys: Int32Array;
  readonly users: Int32Array;
  readonly textIds: Uint8Array;
  readonly logins: readonly string[];
  readonly userNames: readonly string[];
  readonly texts: readonly string[];
}

const TEXTS = [
  'KEKW',
  'PogChamp',
  'LUL that was close',
  'gg',
  'what a play',
  'monkaS',
  'hello chat',
  'OMEGALUL',
  'is this live?',
  'first time here',
  'W',
  'L',
  'Kappa',
  'nice',
  'lets go',
  'clip it',
  '!uptime',
  '!discord',
  'the music is great',
  'LMAO',
  'Pog',
  'ICANT',
  'true',
  'no way',
];

/**
 * ~1 message per channel per second of event time, spread over `keys` channels whose rates follow
 * a power law (a few busy channels, many quiet ones), so windows fire across many keys.
 */
export function generateColumns(options: EngineBenchOptions): ChatColumns {
  const { messages, keys, seed } = options;
  const rng = xoroshiro128plus(seed);
  const int = (max: number) => uniformInt(rng, 0, max - 1);
  const spanMs = Math.max(1, Math.round((messages / keys) * 1000));
  const offsets = new Int32Array(messages);
  const keyCol = new Int32Array(messages);
  const users = new Int32Array(messages);
  const textIds = new Uint8Array(messages);
  const userCount = Math.min(50_000, keys * 4);
  for (let i = 0; i < messages; i++) {
    offsets[i] = Math.floor((i / messages) * spanMs);
    // Square of a uniform index skews traffic towards low-numbered channels.
    const u = int(1 << 20) / (1 << 20);
    keyCol[i] = Math.floor(u * u * keys);
    users[i] = int(userCount);
    textIds[i] = int(TEXTS.length);
  }
  return {
    start: 1_700_000_000_000,
    offsets,
    keys: keyCol,
    users,
    textIds,
    logins: Array.from({ length: keys }, (_, i) => `channel_${i}`),
    userNames: Array.from({ length: userCount }, (_, i) => `viewer_${i}`),
    texts: TEXTS,
  };
}

function columnSource(data: ChatColumns): Source<ChatLine> {
  return {
    describe: () => `in-memory chat (${data.offsets.length} messages)`,
    open(): SourceReader<ChatLine> {
      let next = 0;
      const total = data.offsets.length;
      return {
        partitions: () => ['0'],
        poll(max: number): Poll<ChatLine> {
          if (next >= total) return { kind: 'end' };
          const end = Math.min(total, next + max);
          const records = new Array<ChatLine>(end - next);
          for (let i = next; i < end; i++) {
            records[i - next] = {
              broadcaster_login: data.logins[data.keys[i]!]!,
              ts: data.start + data.offsets[i]!,
              user: data.userNames[data.users[i]!]!,
              text: data.texts[data.textIds[i]!]!,
            };
          }
          next = end;
          return { kind: 'records', partition: '0', records, position: end };
        },
        close() {},
      };
    },
  };
}

function countingSink(counter: { n: number }): Sink<unknown> {
  return {
    describe: () => 'count (benchmark)',
    open: () => ({
      write(records) {
        counter.n += records.length;
      },
      close() {},
    }),
  };
}

/** Runs the benchmark once in this process. */
export async function runEngineBench(options: EngineBenchOptions): Promise<EngineBenchResult> {
  const data = generateColumns(options);
  const windows = { n: 0 };
  const alerts = { n: 0 };
  const p = pipeline('bench-engine');
  const counts = p
    .from(columnSource(data), { timestamp: (m) => m.ts, outOfOrdernessMs: 1_000 })
    .filter((m) => m.text.charCodeAt(0) !== 33 /* '!' */, 'drop-commands')
    .keyBy((m) => m.broadcaster_login)
    .window(tumbling(5_000))
    .aggregate(count<ChatLine>(), 'count-5s');
  counts
    .keyBy((w) => w.key)
    .process<{ key: string; count: number }, { previous: ReturnType<typeof valueState<number>> }>(
      {
        state: { previous: valueState<number>() },
        onElement(w, ctx) {
          windows.n++;
          const previous = ctx.state.previous.value() ?? 0;
          ctx.state.previous.update(w.value);
          // A crude spike rule, only so the step reads and writes keyed state per window.
          if (w.value > 2 * previous + 5) ctx.emit({ key: w.key, count: w.value });
        },
      },
      'spike',
    )
    .to(countingSink(alerts));
  const graph = p.graph();
  globalThis.gc?.();
  const started = process.hrtime.bigint();
  await runJob(graph, options.batchSize ? { batchSize: options.batchSize } : {});
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    messages: options.messages,
    keys: options.keys,
    seconds: round(seconds, 3),
    messages_per_s: Math.round(options.messages / seconds),
    peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 1),
    windows_fired: windows.n,
    alerts: alerts.n,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
