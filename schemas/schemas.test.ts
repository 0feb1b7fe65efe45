/**
 * The schema tree against itself: the committed TypeScript types are what the generator makes of
 * the `.avsc` files; every topic of DESIGN.md has a schema avsc accepts; the contracts keep their
 * field names; records the jobs write fit the schemas of the topics they go to.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import avro from 'avsc';
import { CHAT_LINE_PROJECTION, chatLineOf, chatMessageOf, stableId } from './chat-message.ts';
import { AVRO_DIR, generateTypes, schemaFiles } from './codegen.ts';
import { keyOf, loadSchema, schemaNameOf, TOPIC_SCHEMAS, topicSchema } from './topics.ts';

const fieldNames = (schema: object) =>
  (schema as { fields: Array<{ name: string }> }).fields.map((f) => f.name);

describe('schemas', () => {
  it('avro-types.ts is what the generator makes of the .avsc files (run scripts/gen-schema-types.ts)', () => {
    const committed = readFileSync(new URL('./avro-types.ts', import.meta.url), 'utf8');
    assert.equal(committed, generateTypes());
  });

  it('every topic of the design has a schema that avsc parses, and every schema file is used', () => {
    const design = [
      'chat-messages',
      'stream-lifecycle',
      'stream-snapshots',
      'chat-activity',
      'highlights',
      'clips',
      'recordings',
      'notifications',
      'discovered-streams',
    ];
    for (const topic of design) avro.Type.forSchema(topicSchema(topic) as avro.Schema);
    const used = new Set([...Object.values(TOPIC_SCHEMAS), schemaNameOf('chat-messages.dlq')]);
    assert.deepEqual(
      schemaFiles(AVRO_DIR)
        .map((f) => f.name)
        .filter((n) => !used.has(n)),
      [],
    );
  });

  it('chat-messages and stream-lifecycle keep the contract field names, extra fields optional', () => {
    const chat = topicSchema('chat-messages');
    const contract = [
      'broadcaster_id',
      'timestamp',
      'message_id',
      'text',
      'user_id',
      'user_name',
      'metadata',
    ];
    assert.deepEqual(fieldNames(chat).slice(0, contract.length), contract);
    const metadata = (chat as { fields: Array<{ name: string; type: object }> }).fields.find(
      (f) => f.name === 'metadata',
    )!;
    assert.deepEqual(fieldNames(metadata.type), ['emotes', 'badges', 'is_subscriber', 'is_mod']);
    const lifecycle = topicSchema('stream-lifecycle');
    assert.deepEqual(fieldNames(lifecycle).slice(0, 5), [
      'event_type',
      'broadcaster_id',
      'broadcaster_login',
      'rank',
      'timestamp',
    ]);
    for (const schema of [chat, lifecycle]) {
      const contractFields =
        schema === chat
          ? contract
          : ['event_type', 'broadcaster_id', 'broadcaster_login', 'rank', 'timestamp'];
      for (const f of (schema as { fields: Array<{ name: string; default?: unknown }> }).fields) {
        if (!contractFields.includes(f.name))
          assert.ok('default' in f, `${f.name} is extra and needs a default`);
      }
    }
  });

  it('a topic without a schema is a one-line error naming the known ones', () => {
    assert.throws(() => topicSchema('nope'), /topic "nope" has no Avro schema \(topics: chat-messages, /);
    assert.equal(schemaNameOf('clips.dlq'), 'dead-letter');
  });

  it('keys records by broadcaster id, else login, including a clip failure by its detection', () => {
    assert.equal(keyOf({ broadcaster_id: 42, broadcaster_login: 'a' }), '42');
    assert.equal(keyOf({ broadcaster_login: 'a' }), 'a');
    assert.equal(keyOf({ detection: { broadcaster_id: 7 } }), '7');
    assert.equal(keyOf({ text: 'x' }), null);
  });

  it('a chat line survives the trip through a chat-messages record and the projection', () => {
    const line = {
      broadcaster_login: 'somechannel',
      ts: 1_704_067_200_123,
      user: 'viewer_1',
      text: 'PogChamp',
    };
    const message = chatMessageOf(line, 0);
    const full = avro.Type.forSchema(topicSchema('chat-messages') as avro.Schema);
    const projection = avro.Type.forSchema(CHAT_LINE_PROJECTION as unknown as avro.Schema);
    const bytes = full.toBuffer(message);
    const read = projection.fromBuffer(bytes, projection.createResolver(full));
    assert.deepEqual(chatLineOf(read), { ...line, broadcaster_id: stableId('somechannel') });
    assert.match(message.message_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(chatMessageOf(line, 1).message_id, message.message_id);
    assert.ok(Number.isSafeInteger(stableId('x')) && stableId('x') > 0);
  });

  it('records of the jobs encode with their topics’ schemas', () => {
    const detection = {
      broadcaster_login: 'a',
      detected_at: 10_000,
      bucket_start: 5_000,
      bucket_end: 10_000,
      count: 40,
      baseline_mean: 3.5,
      baseline_stddev: 1.25,
      z: 29.6,
    };
    const clip = {
      clip_id: 'local-1-10000',
      broadcaster_id: 1,
      broadcaster_login: 'a',
      embed_url: 'data:',
      thumbnail_url: '',
      detected_at: 10_000,
    };
    const cases: Array<[string, object]> = [
      ['highlights', detection],
      ['clips', clip],
      ['clip-failures', { detection, stage: 'create', error: 'HTTP 500', attempts: 3, status: 500 }],
      [
        'chat-activity',
        {
          broadcaster_login: 'a',
          bucket_start: 0,
          bucket_end: 5_000,
          count: 3,
          baseline_mean: null,
          baseline_stddev: null,
        },
      ],
    ];
    for (const [topic, record] of cases) {
      const type = avro.Type.forSchema(loadSchema(schemaNameOf(topic)) as avro.Schema);
      assert.ok(type.isValid(record), `${topic} record fits its schema`);
      // Decoded, an absent optional field is null.
      const decoded = JSON.stringify(type.fromBuffer(type.toBuffer(record)));
      assert.equal(decoded.replaceAll('"broadcaster_id":null,', ''), JSON.stringify(record));
    }
  });
});
