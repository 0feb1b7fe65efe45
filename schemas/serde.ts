/**
 * Avro records in Confluent's wire format — a zero byte, the schema's registry id as a 4-byte
 * big-endian integer, then the Avro binary body — with schemas in a Confluent-compatible registry
 * under the subject `<topic>-value`.
 *
 * The registry client (@confluentinc/schemaregistry) only registers schemas, looks up ids and checks
 * compatibility; the records themselves are encoded and decoded here with avsc, on the hot path,
 * because the package's own serializer runs about a tenth as fast. Resolved avsc types are cached
 * per schema id. The package takes about half a second to import (it pulls in cloud KMS SDKs), so
 * it is loaded only when a registry is used: the embedded default never pays for it.
 */
import avro from 'avsc';
import { subjectOf } from './topics.ts';

export const MAGIC_BYTE = 0;
export const HEADER_BYTES = 5;

/** What the jobs need of a schema registry. */
export interface SchemaRegistry {
  readonly url: string;
  /** Registers the schema under the subject (a no-op returning the id when it is there already). */
  register(subject: string, schema: object): Promise<number>;
  /** The id of a schema already registered under the subject; a one-line error when it is not. */
  idOf(subject: string, schema: object): Promise<number>;
  /** The schema of an id; undefined when the registry has no such id. */
  schemaOf(id: number): Promise<object | undefined>;
  /** Whether the schema could be registered under the subject given its compatibility level. */
  isCompatible(subject: string, schema: object): Promise<boolean>;
  /** Sets the subject's compatibility level (BACKWARD, FULL, NONE, …). */
  setCompatibility(subject: string, level: string): Promise<void>;
  /** The subject's registered versions, oldest first (empty when there are none). */
  versions(subject: string): Promise<number[]>;
}

interface RestErrorLike {
  readonly status?: number;
  readonly errorCode?: number;
  readonly message: string;
  readonly code?: string;
}

/** One line for an error of the registry client (axios errors carry a code, REST errors a status). */
export function registryErrorMessage(error: unknown, url: string): string {
  const e = error as RestErrorLike;
  if (
    e.code === 'ECONNREFUSED' ||
    e.code === 'ENOTFOUND' ||
    e.code === 'ECONNRESET' ||
    e.code === 'ETIMEDOUT'
  ) {
    return `cannot reach the schema registry at ${url} (${e.code})`;
  }
  const status = e.status !== undefined ? ` (HTTP ${e.status})` : '';
  return `schema registry at ${url}: ${e.message.split('\n')[0]}${status}`;
}

/** Connects to a Confluent-compatible registry (loads the client package on first use). */
export async function connectRegistry(url: string): Promise<SchemaRegistry> {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new Error(`--registry must be a URL such as http://127.0.0.1:8081, got "${url}"`);
  }
  // The client alone, not the package's index, which also loads the serdes and their KMS SDKs.
  const { SchemaRegistryClient } = await import('@confluentinc/schemaregistry/dist/schemaregistry-client.js');
  const client = new SchemaRegistryClient({
    baseURLs: [base.href.replace(/\/$/, '')],
    cacheCapacity: 1_000,
    maxRetries: 2,
    retriesWaitMs: 200,
    retriesMaxWaitMs: 2_000,
  });
  const info = (schema: object) => ({ schemaType: 'AVRO', schema: JSON.stringify(schema) });
  const wrap = async <T>(what: () => Promise<T>): Promise<T> => {
    try {
      return await what();
    } catch (error) {
      throw new Error(registryErrorMessage(error, url), { cause: error });
    }
  };
  const isNotFound = (error: unknown) => (error as RestErrorLike).status === 404;
  return {
    url,
    register: (subject, schema) => wrap(() => client.register(subject, info(schema), false)),
    async idOf(subject, schema) {
      try {
        return await client.getId(subject, info(schema), false);
      } catch (error) {
        if (isNotFound(error)) {
          throw new Error(
            `the schema of subject ${subject} is not registered at ${url} (register it with \`scout schemas register\`, or let the job register it)`,
          );
        }
        throw new Error(registryErrorMessage(error, url), { cause: error });
      }
    },
    async schemaOf(id) {
      try {
        const found = await client.getBySubjectAndId('', id);
        return JSON.parse(found.schema) as object;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw new Error(registryErrorMessage(error, url), { cause: error });
      }
    },
    async isCompatible(subject, schema) {
      try {
        return await client.testSubjectCompatibility(subject, info(schema));
      } catch (error) {
        // No version yet: anything is compatible with nothing.
        if (isNotFound(error)) return true;
        throw new Error(registryErrorMessage(error, url), { cause: error });
      }
    },
    async setCompatibility(subject, level) {
      await wrap(() => client.updateConfig(subject, { compatibility: level as never }));
    },
    async versions(subject) {
      try {
        return await client.getAllVersions(subject);
      } catch (error) {
        if (isNotFound(error)) return [];
        throw new Error(registryErrorMessage(error, url), { cause: error });
      }
    },
  };
}

/** A record that could not be decoded: it goes to the dead-letter topic with this message. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

/** Encodes one topic's records with one registered schema. */
export class Encoder<T> {
  private readonly header: Buffer;

  constructor(
    readonly topic: string,
    readonly schemaId: number,
    private readonly type: avro.Type,
  ) {
    this.header = Buffer.alloc(HEADER_BYTES);
    this.header.writeUInt8(MAGIC_BYTE, 0);
    this.header.writeInt32BE(schemaId, 1);
  }

  encode(record: T): Buffer {
    let body: Buffer;
    try {
      body = this.type.toBuffer(record);
    } catch (error) {
      throw new Error(`cannot encode a record for topic ${this.topic}: ${this.invalidPaths(record, error)}`);
    }
    const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
    this.header.copy(out, 0);
    body.copy(out, HEADER_BYTES);
    return out;
  }

  private invalidPaths(record: T, error: unknown): string {
    const paths: string[] = [];
    this.type.isValid(record, { errorHook: (path) => paths.push(path.join('.') || '(record)') });
    return paths.length > 0 ? `invalid field ${paths.join(', ')}` : (error as Error).message;
  }
}

interface Resolved {
  readonly type: avro.Type;
  readonly resolver: avro.Resolver | undefined;
}

/**
 * Decodes the records of a topic, whatever registered schema each was written with, into one
 * reader schema (the topic's own, or a projection of it). Ids not seen before are fetched by
 * `prepare`, once per batch, so that `decode` stays synchronous.
 */
export class Decoder<T> {
  private readonly reader: avro.Type;
  private readonly byId = new Map<number, Resolved | DecodeError>();

  constructor(
    private readonly registry: Pick<SchemaRegistry, 'schemaOf'>,
    readerSchema: object,
  ) {
    this.reader = avro.Type.forSchema(readerSchema as avro.Schema);
  }

  /**
   * Fetches the schemas of ids in these values that are not known yet; call before `decode`.
   * Returns undefined, not a promise, when every id is known (the usual case), so the caller's
   * hot path need not wait.
   */
  prepare(values: ReadonlyArray<Buffer | null>): Promise<void> | undefined {
    let missing: Set<number> | undefined;
    for (const v of values) {
      if (v === null || v.length < HEADER_BYTES || v[0] !== MAGIC_BYTE) continue;
      const id = v.readInt32BE(1);
      if (this.byId.has(id)) continue;
      missing ??= new Set();
      missing.add(id);
    }
    if (missing === undefined) return undefined;
    const ids = missing;
    return (async () => {
      for (const id of ids) this.byId.set(id, await this.resolve(id));
    })();
  }

  private async resolve(id: number): Promise<Resolved | DecodeError> {
    const schema = await this.registry.schemaOf(id);
    if (schema === undefined) return new DecodeError(`schema id ${id} is not in the registry`);
    let writer: avro.Type;
    try {
      writer = avro.Type.forSchema(schema as avro.Schema);
    } catch (error) {
      return new DecodeError(`schema id ${id} is not a valid Avro schema: ${(error as Error).message}`);
    }
    if (writer.equals(this.reader)) return { type: this.reader, resolver: undefined };
    try {
      return { type: this.reader, resolver: this.reader.createResolver(writer) };
    } catch (error) {
      return new DecodeError(
        `schema id ${id} cannot be read as ${this.reader.name ?? 'the reader schema'}: ${(error as Error).message}`,
      );
    }
  }

  /** Decodes one value; throws `DecodeError` for anything that is not a readable record. */
  decode(value: Buffer | null): T {
    if (value === null) throw new DecodeError('the record has no value');
    if (value.length < HEADER_BYTES)
      throw new DecodeError(`the value is ${value.length} bytes, shorter than the 5-byte header`);
    if (value[0] !== MAGIC_BYTE)
      throw new DecodeError(`the value does not start with the magic byte 0 (found ${value[0]})`);
    const id = value.readInt32BE(1);
    const resolved = this.byId.get(id);
    if (resolved === undefined) throw new Error(`schema id ${id} was not prepared (call prepare first)`);
    if (resolved instanceof DecodeError) throw resolved;
    let decoded: { value: unknown; offset: number };
    try {
      decoded = resolved.type.decode(value, HEADER_BYTES, resolved.resolver);
    } catch (error) {
      throw new DecodeError(`the Avro body does not match schema id ${id}: ${(error as Error).message}`);
    }
    if (decoded.offset !== value.length) {
      throw new DecodeError(
        decoded.offset < 0
          ? `the Avro body is truncated (schema id ${id})`
          : `${value.length - decoded.offset} bytes left over after the record (schema id ${id})`,
      );
    }
    return decoded.value as T;
  }
}

export interface SerdeOptions {
  /** Register a topic's schema when it is not registered yet (default true). */
  readonly autoRegister?: boolean;
}

/** Encoders and decoders for topics, backed by one registry. */
export class AvroSerde {
  constructor(
    readonly registry: SchemaRegistry,
    private readonly options: SerdeOptions = {},
  ) {}

  /** An encoder writing `schema` (by default the topic's) under the topic's subject. */
  async encoder<T>(topic: string, schema: object): Promise<Encoder<T>> {
    const subject = subjectOf(topic);
    const id =
      (this.options.autoRegister ?? true)
        ? await this.registry.register(subject, schema)
        : await this.registry.idOf(subject, schema);
    return new Encoder<T>(topic, id, avro.Type.forSchema(schema as avro.Schema));
  }

  decoder<T>(readerSchema: object): Decoder<T> {
    return new Decoder<T>(this.registry, readerSchema);
  }
}
