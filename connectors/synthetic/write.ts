/**
 * Writes a synthetic run to disk in the recorded-dataset format: per channel `<login>.jsonl` (or
 * `.jsonl.gz`) with one `{"broadcaster_login","ts","user","text"}` object per line sorted by `ts`,
 * `<login>.labels.json` beside it, and a `manifest.json` holding the options and the counts.
 * Output is byte-identical for the same options (gzip headers carry no time).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Label } from '../../schemas/chat-line.ts';
import { ChannelSimulator } from './channel-simulator.ts';
import { ChatStream } from './chat-stream.ts';
import { labelsOf } from './generate.ts';
import { resolveOptions, type SyntheticChatOptions } from './options.ts';
import { createProfiles } from './profile.ts';

/**
 * Lines are joined into chunks of about this many characters before being written: fewer stream
 * writes than one per line, while the stream's buffer (16 chunks) stays around a megabyte.
 */
const CHUNK_CHARS = 64 * 1024;

/**
 * Channels written at once. Generation is synchronous but gzip runs on libuv's thread pool, so a
 * few channels in flight keep both busy; more only raises memory.
 */
const WRITE_CONCURRENCY = 4;

export interface WriteGeneratedChatOptions extends SyntheticChatOptions {
  /** Created if missing; existing files of the same names are replaced. */
  readonly outDir: string;
  /** Write `.jsonl.gz` instead of `.jsonl`. Default false. */
  readonly gzip?: boolean;
  /** Called after every chunk written and after every finished channel. */
  readonly onProgress?: (progress: WriteProgress) => void;
}

export interface WriteProgress {
  /** Messages written so far, all channels together. */
  readonly messages: number;
  readonly channelsDone: number;
  readonly channels: number;
}

export interface WriteSummary {
  /** Paths of every file written (data, labels, then the manifest last). */
  readonly files: string[];
  readonly messages: number;
  readonly labels: number;
}

/**
 * Generates a finite run into `outDir`.
 *
 * @example
 * const summary = await writeGeneratedChat({ channels: 10, hours: 4, seed: 42, outDir: 'data/synthetic', gzip: true });
 * console.log(`${summary.messages} messages, ${summary.labels} labels in ${summary.files.length} files`);
 */
export async function writeGeneratedChat(options: WriteGeneratedChatOptions): Promise<WriteSummary> {
  const resolved = resolveOptions(options);
  if (!Number.isFinite(resolved.durationMs))
    throw new RangeError('writeGeneratedChat needs a finite duration');
  const gzip = options.gzip ?? false;
  await mkdir(options.outDir, { recursive: true });
  const profiles = createProfiles(resolved);
  const labels = labelsOf(options);
  const counts = new Array<number>(profiles.length).fill(0);
  let messages = 0;
  let channelsDone = 0;
  const report = () => options.onProgress?.({ messages, channelsDone, channels: profiles.length });

  let next = 0;
  const worker = async () => {
    for (let i = next++; i < profiles.length; i = next++) {
      const profile = profiles[i]!;
      const path = join(options.outDir, profile.login + (gzip ? '.jsonl.gz' : '.jsonl'));
      const stream = new ChatStream([new ChannelSimulator(profile, resolved)], resolved.startMs);
      const chunks = Readable.from(
        jsonLines(stream, (lines) => {
          counts[i] = (counts[i] as number) + lines;
          messages += lines;
          report();
        }),
      );
      const stages: (Readable | Transform)[] = gzip ? [chunks, createGzip()] : [chunks];
      await pipeline([...stages, createWriteStream(path)]);
      await writeFile(
        labelsPath(options.outDir, profile.login),
        formatLabels(labels.get(profile.login) ?? []),
      );
      channelsDone++;
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, profiles.length) }, worker));

  const files: string[] = [];
  const channels = profiles.map((p, i) => {
    const file = p.login + (gzip ? '.jsonl.gz' : '.jsonl');
    const labelsFile = p.login + '.labels.json';
    files.push(join(options.outDir, file), join(options.outDir, labelsFile));
    return {
      login: p.login,
      file,
      labelsFile,
      messages: counts[i],
      labels: labels.get(p.login)?.length ?? 0,
      baseRatePerSec: p.baseRatePerSec,
      userPoolSize: p.userPoolSize,
    };
  });
  const labelTotal = channels.reduce((sum, c) => sum + c.labels, 0);
  const manifest = {
    generator: 'streamscout connectors/synthetic',
    formatVersion: 1,
    options: {
      channels: resolved.channels,
      durationMs: resolved.durationMs,
      seed: resolved.seed,
      startMs: resolved.startMs,
      burstsPerHour: resolved.burstsPerHour,
      commandFraction: resolved.commandFraction,
      botReplyProbability: resolved.botReplyProbability,
      chatterSigma: resolved.chatterSigma,
      rateScale: resolved.rateScale,
    },
    gzip,
    totals: { messages, labels: labelTotal },
    channels,
  };
  const manifestPath = join(options.outDir, 'manifest.json');
  await writeFile(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  files.push(manifestPath);
  return { files, messages, labels: labelTotal };
}

/** Where the labels of channel `login` go in `outDir`. */
export function labelsPath(outDir: string, login: string): string {
  return join(outDir, login + '.labels.json');
}

/** A JSON array, one label per line, so diffs of label files stay readable. */
function formatLabels(labels: readonly Label[]): string {
  if (labels.length === 0) return '[]\n';
  return '[\n' + labels.map((l) => '  ' + JSON.stringify(l)).join(',\n') + '\n]\n';
}

/** The stream as JSON Lines text, in chunks; `onLines` hears how many lines each chunk holds. */
function* jsonLines(
  stream: ChatStream,
  onLines: (lines: number) => void,
): Generator<string, void, undefined> {
  let chunk = '';
  let lines = 0;
  for (let line = stream.next(); line !== undefined; line = stream.next()) {
    // Records are built with their keys in format order, so stringify emits exactly the format.
    chunk += JSON.stringify(line) + '\n';
    lines++;
    if (chunk.length >= CHUNK_CHARS) {
      onLines(lines);
      yield chunk;
      chunk = '';
      lines = 0;
    }
  }
  if (lines > 0) {
    onLines(lines);
    yield chunk;
  }
}
