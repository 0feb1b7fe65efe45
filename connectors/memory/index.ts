/**
 * In-process partitioned topics, the embedded default stand-in for Kafka topics: a `MemoryTopic`
 * is a bounded log per partition (keys hashed with FNV-1a), read by consumer groups through
 * `memoryTopicSource` and written through `memoryTopicSink`. Producers wait while the slowest
 * group lags by the topic's capacity, and retention drops what every group has committed, so
 * memory stays flat however long a live pipeline runs.
 *
 * @example
 * const topic = new MemoryTopic<ChatLine>('chat-messages', { partitions: 4 });
 * ingest.to(memoryTopicSink(topic, { key: (m) => m.broadcaster_login }));
 * pipeline('activity').from(memoryTopicSource(topic, { group: 'activity' }), { timestamp: (m) => m.ts });
 */
export {
  type AppendResult,
  MemoryTopic,
  type MemoryTopicOptions,
  type TopicRead,
} from './memory-topic.ts';
export { type MemoryTopicSinkOptions, memoryTopicSink } from './memory-topic-sink.ts';
export { type MemoryTopicSourceOptions, memoryTopicSource } from './memory-topic-source.ts';
export { fnv1a, partitionOf } from './partition-hash.ts';
