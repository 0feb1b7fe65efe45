/**
 * The serde against a real Confluent-compatible registry: records round-trip in the wire format
 * (magic byte, schema id, Avro body); a reader with a projection reads records written with the
 * full schema; records written with an older schema are read with the newer one; every kind of
 * unreadable value is a DecodeError with its reason; registration can be switched off.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { registryUrl } from '../test/services.ts';
import { CHAT_LINE_PROJECTION, type ChatMessageProjection, chatMessageOf } from './chat-message.ts';
import { AvroSerde, connectRegistry, DecodeError, HEADER_BYTES } from './serde.ts';
import { topicSchema } from './topics.ts';

describe('AvroSerde on the registry', () => {
  let serde: AvroSerde;
  const topic = `serde-${randomBytes(4).toString('hex')}`;
  before(async () => {
    serde = new AvroSerde(await connectRegistry(registryUrl()));
  });

  it('writes the Confluent wire format and reads it back, whole or through the projection', async () => {
    const encoder = await serde.encoder(topic, topicSchema('chat-messages'));
    const message = chatMessageOf(
      { broadcaster_login: 'chan', ts: 1_700_000_000_000, user: 'u1', text: 'hi' },
      0,
    );
    const bytes = encoder.encode(message);
    assert.equal(bytes[0], 0);
    assert.equal(bytes.readInt32BE(1), encoder.schemaId);
    const whole = serde.decoder<typeof message>(topicSchema('chat-messages'));
    await whole.prepare([bytes]);
    const plain = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;
    assert.deepEqual(plain(whole.decode(bytes)), plain(message));
    const projected = serde.decoder<ChatMessageProjection>(CHAT_LINE_PROJECTION);
    await projected.prepare([bytes]);
    const read = projected.decode(bytes);
    assert.deepEqual(
      { ...read },
      {
        broadcaster_id: message.broadcaster_id,
        timestamp: message.timestamp,
        user_name: 'u1',
        text: 'hi',
        broadcaster_login: 'chan',
      },
    );
    assert.equal(whole.prepare([bytes]), undefined, 'a known id needs no second lookup');
  });

  it('reads records of an older schema version with the newer schema (defaults filled in)', async () => {
    const subjectTopic = `${topic}-evolve`;
    const v1 = { type: 'record', name: 'E', namespace: 'streamscout', fields: [{ name: 'a', type: 'long' }] };
    const v2 = { ...v1, fields: [...v1.fields, { name: 'b', type: ['null', 'string'], default: null }] };
    const old = await serde.encoder<{ a: number }>(subjectTopic, v1);
    const bytes = old.encode({ a: 5 });
    const newer = await serde.encoder<{ a: number; b?: string | null }>(subjectTopic, v2);
    assert.notEqual(newer.schemaId, old.schemaId);
    const decoder = serde.decoder<{ a: number; b: string | null }>(v2);
    await decoder.prepare([bytes]);
    assert.deepEqual({ ...decoder.decode(bytes) }, { a: 5, b: null });
  });

  it('says why a value cannot be read', async () => {
    const decoder = serde.decoder(topicSchema('chat-messages'));
    const unknownId = Buffer.from([0, 0x7f, 0x7f, 0x7f, 0x7f, 2]);
    const values = [null, Buffer.from([0, 0]), Buffer.from('{"json":true}'), unknownId];
    await decoder.prepare(values);
    const reasons = values.map((v) => {
      try {
        decoder.decode(v);
        return 'decoded';
      } catch (error) {
        assert.ok(error instanceof DecodeError);
        return error.message;
      }
    });
    assert.match(reasons[0]!, /no value/);
    assert.match(reasons[1]!, new RegExp(`shorter than the ${HEADER_BYTES}-byte header`));
    assert.match(reasons[2]!, /magic byte 0 \(found 123\)/);
    assert.match(reasons[3]!, /schema id 2139062143 is not in the registry/);

    const encoder = await serde.encoder(topic, topicSchema('chat-messages'));
    const good = encoder.encode(chatMessageOf({ broadcaster_login: 'c', ts: 1, user: 'u', text: 't' }, 0));
    const truncated = good.subarray(0, good.length - 3);
    const trailing = Buffer.concat([good, Buffer.from([1, 2])]);
    await decoder.prepare([truncated]);
    assert.throws(() => decoder.decode(truncated), DecodeError);
    assert.throws(() => decoder.decode(trailing), /2 bytes left over/);
  });

  it('without auto-registration, a missing schema is a one-line error naming the subject', async () => {
    const strict = new AvroSerde(serde.registry, { autoRegister: false });
    await assert.rejects(
      strict.encoder(`${topic}-never`, topicSchema('clips')),
      new RegExp(`the schema of subject ${topic}-never-value is not registered at `),
    );
  });

  it('an unreachable registry is a one-line error', async () => {
    const nowhere = new AvroSerde(await connectRegistry('http://127.0.0.1:9'));
    await assert.rejects(
      nowhere.encoder(topic, topicSchema('clips')),
      /cannot reach the schema registry at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/,
    );
    await assert.rejects(connectRegistry('not a url'), /--registry must be a URL/);
  });
});
