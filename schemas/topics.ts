/**
 * The topics of DESIGN.md and their Avro schemas (`schemas/avro/<name>.avsc`), and how a record's
 * Kafka key is found: the broadcaster id where the record has one, so that one channel's records
 * stay in one partition and in order. Every `<topic>.dlq` shares the dead-letter schema.
 */
import { readFileSync } from 'node:fs';
import { AVRO_DIR } from './codegen.ts';

/** Topic → schema file (without `.avsc`). */
export const TOPIC_SCHEMAS: Readonly<Record<string, string>> = {
  'chat-messages': 'chat-messages',
  'stream-lifecycle': 'stream-lifecycle',
  'stream-snapshots': 'stream-snapshots',
  'chat-activity': 'chat-activity',
  highlights: 'highlights',
  clips: 'clips',
  'clip-failures': 'clip-failures',
  recordings: 'recordings',
  notifications: 'notifications',
  'discovered-streams': 'discovered-streams',
};

export const DEAD_LETTER_SUFFIX = '.dlq';
export const DEAD_LETTER_SCHEMA = 'dead-letter';

/** The registry subject of a topic's values (Confluent's TopicNameStrategy). */
export function subjectOf(topic: string): string {
  return `${topic}-value`;
}

/** The schema file a topic uses; a one-line error for a topic with none. */
export function schemaNameOf(topic: string): string {
  if (topic.endsWith(DEAD_LETTER_SUFFIX)) return DEAD_LETTER_SCHEMA;
  const name = TOPIC_SCHEMAS[topic];
  if (name === undefined) {
    throw new Error(`topic "${topic}" has no Avro schema (topics: ${Object.keys(TOPIC_SCHEMAS).join(', ')})`);
  }
  return name;
}

const parsed = new Map<string, object>();

/** The parsed `.avsc` of a schema file. */
export function loadSchema(name: string): object {
  let schema = parsed.get(name);
  if (schema === undefined) {
    schema = JSON.parse(readFileSync(`${AVRO_DIR}${name}.avsc`, 'utf8')) as object;
    parsed.set(name, schema);
  }
  return schema;
}

/** The writer schema of a topic. */
export function topicSchema(topic: string): object {
  return loadSchema(schemaNameOf(topic));
}

interface Keyed {
  readonly broadcaster_id?: number | null;
  readonly broadcaster_login?: string | null;
  readonly detection?: Keyed;
}

/** The Kafka key of a record: its broadcaster id, else its login (records that carry no id), else none. */
export function keyOf(record: unknown): string | null {
  const r = record as Keyed;
  const id = r.broadcaster_id ?? r.detection?.broadcaster_id;
  if (typeof id === 'number') return String(id);
  const login = r.broadcaster_login ?? r.detection?.broadcaster_login;
  return typeof login === 'string' ? login : null;
}
