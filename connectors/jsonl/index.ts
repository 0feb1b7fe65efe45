/**
 * JSON Lines in and out: `jsonlReplaySource` replays recorded files (plain or gzipped, one
 * partition per file) merged in event-time order, as fast as possible or at a multiple of the
 * recorded pace, resumable by line number, counting bad lines instead of failing on them;
 * `jsonlFileSink` writes one JSON line per record to a file or stdout with the stream's
 * backpressure. Files are streamed, never read whole, so replays of any size run in flat memory.
 *
 * @example
 * const source = jsonlReplaySource(['data/xqc.jsonl.gz', 'data/shroud.jsonl.gz'], { speed: 10 });
 * pipeline('replay').from(source, { timestamp: (m) => m.ts }).to(jsonlFileSink('out/replay.jsonl'));
 * const { malformed, firstMalformed } = source.stats();
 */
export { type JsonlFileSinkOptions, jsonlFileSink } from './file-sink.ts';
export { isChatLine } from './is-chat-line.ts';
export { partitionIds } from './partition-ids.ts';
export {
  type JsonlReplayOptions,
  type JsonlReplayOptionsFor,
  type JsonlReplaySource,
  type JsonlReplayStats,
  jsonlReplaySource,
  type MalformedLine,
} from './replay-source.ts';
