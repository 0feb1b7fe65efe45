/**
 * The off-machine copy of a job's checkpoints (`--checkpoint-store s3://bucket/prefix`): each
 * checkpoint the LevelDB store completes is copied, byte for byte, to S3-compatible object storage
 * (the `minio` client, loaded only when a mirror is opened), so that another machine can import
 * the newest one into an empty store and resume from it.
 *
 * Layout under `<prefix>/`, ids zero-padded to 16 digits as in LevelDB so that names sort as ids:
 *   <id>/records     the checkpoint's own `d!` and `o!` records (level-store.ts), framed: for each
 *                    one, key length (u32, big-endian), key (UTF-8), value length (u32), value
 *   <id>/chain.json  {"id":…,"chain":[…]}: the checkpoints a restore of it reads, base first and
 *                    itself last, so that retention and restore need not read the manifest
 *   <id>/manifest    its LevelDB manifest as stored; its checksums cover every record of the chain
 *
 * Uploading checkpoint <id> puts `records`, then `chain.json`, then `manifest` LAST: as in LevelDB,
 * a checkpoint exists remotely once its manifest does. Object storage has no multi-object
 * transaction but each PUT is atomic, so an upload cut short leaves objects without a manifest
 * (torn), which `list` and `restoreInto` ignore and the next `retain` deletes, and a manifest that
 * is there was put after everything it vouches for.
 *
 * Retention deletes in the reverse order, the manifest FIRST and then the other objects, so that a
 * manifest there still means its objects are; a pass cut short leaves a torn checkpoint. A
 * checkpoint stays while a kept one's chain reads it, as in LevelDB, except that here it stays
 * whole (manifest included): every chain member is imported as a checkpoint of its own.
 *
 * Nothing here verifies the bytes. The store `restoreInto` imports into verifies every record
 * against its manifest's sha256 when it loads, and passes over a checkpoint whose bytes changed.
 */
import type { Client } from 'minio';
import type { ExportedCheckpoint, LevelCheckpointStore } from './level-store.ts';

/** Id digits in object names, as in level-store.ts's keys. */
const ID_DIGITS = 16;
const DEFAULT_ENDPOINT = 'https://s3.amazonaws.com';
const DEFAULT_REGION = 'us-east-1';
const PARTS = ['records', 'chain.json', 'manifest'] as const;
type Part = (typeof PARTS)[number];

/** Where `--checkpoint-store s3://bucket/prefix` points. */
export interface CheckpointStoreUrl {
  readonly bucket: string;
  /** Without leading or trailing slashes; '' for the bucket's root. */
  readonly prefix: string;
}

/** How to reach the object store, from the environment (`readS3Config`). */
export interface S3Config {
  /** `http(s)://host[:port]`. */
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly region: string;
}

export interface S3CheckpointMirrorOptions {
  /** Where SCOUT_S3_* and AWS_* are read (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface UploadResult {
  /** Bytes put, every object counted. 0 when the checkpoint was there already. */
  readonly bytes: number;
  /**
   * Checkpoints put, ascending: the one asked for, after any of its chain an earlier upload
   * missed (one that failed, or one taken before the mirror was configured).
   */
  readonly uploaded: readonly number[];
}

export interface RestoredCheckpoint {
  /**
   * The checkpoint the store's `load()` now starts from, unless it fails verification: the newest
   * remote one whose chain is complete, or the store's own newest when that is as new.
   */
  readonly id: number;
  /** Checkpoints imported into the store, ascending. */
  readonly imported: readonly number[];
  /** Remote checkpoints passed over and why, newest first; and whether nothing was newer. */
  readonly notes: readonly string[];
}

const pad = (id: number) => String(id).padStart(ID_DIGITS, '0');
const BUCKET_RULES =
  '3–63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit';

/**
 * The bucket and prefix of a `--checkpoint-store` URL: `s3://bucket` or `s3://bucket/some/prefix`.
 * Throws a one-line Error for anything else, and for a bucket name S3 would refuse.
 *
 * @example
 * parseCheckpointStoreUrl('s3://scout-checkpoints/prod/highlights');
 * // → { bucket: 'scout-checkpoints', prefix: 'prod/highlights' }
 */
export function parseCheckpointStoreUrl(url: string): CheckpointStoreUrl {
  const bad = () =>
    new Error(`--checkpoint-store must look like s3://bucket/prefix, got ${JSON.stringify(url)}`);
  const match = /^s3:\/\/([^/?#]*)(?:\/([^?#]*))?$/.exec(url);
  if (!match) throw bad();
  const bucket = match[1]!;
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  const control = [...prefix].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  if (bucket === '' || prefix.includes('//') || control) throw bad();
  const valid =
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) &&
    !bucket.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(bucket);
  if (!valid) {
    throw new Error(
      `--checkpoint-store: ${JSON.stringify(bucket)} is not a valid S3 bucket name (${BUCKET_RULES}), in ${JSON.stringify(url)}`,
    );
  }
  return { bucket, prefix };
}

/**
 * The object store's endpoint and credentials: SCOUT_S3_ENDPOINT (default https://s3.amazonaws.com),
 * SCOUT_S3_ACCESS_KEY and SCOUT_S3_SECRET_KEY (else AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY),
 * SCOUT_S3_REGION (default us-east-1). Throws a one-line Error naming what is missing or wrong.
 *
 * @example
 * const { endpoint, region } = readS3Config({
 *   SCOUT_S3_ENDPOINT: 'http://127.0.0.1:59000',
 *   SCOUT_S3_ACCESS_KEY: 'streamscout',
 *   SCOUT_S3_SECRET_KEY: 'streamscout-secret',
 * }); // → 'http://127.0.0.1:59000', 'us-east-1'
 */
export function readS3Config(env: NodeJS.ProcessEnv = process.env): S3Config {
  const endpoint = env.SCOUT_S3_ENDPOINT || DEFAULT_ENDPOINT;
  let parsed: URL | undefined;
  try {
    parsed = new URL(endpoint);
  } catch {
    parsed = undefined;
  }
  if (
    parsed === undefined ||
    (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') ||
    parsed.pathname !== '/' ||
    parsed.search !== '' ||
    parsed.hash !== '' ||
    parsed.username !== '' ||
    parsed.password !== ''
  ) {
    throw new Error(
      `SCOUT_S3_ENDPOINT must be an http(s) URL like http://127.0.0.1:9000, got ${JSON.stringify(endpoint)}`,
    );
  }
  // The two pairs are not mixed: a key of one with the secret of the other never works.
  const scout = env.SCOUT_S3_ACCESS_KEY || env.SCOUT_S3_SECRET_KEY;
  const accessKey = scout ? env.SCOUT_S3_ACCESS_KEY : env.AWS_ACCESS_KEY_ID;
  const secretKey = scout ? env.SCOUT_S3_SECRET_KEY : env.AWS_SECRET_ACCESS_KEY;
  if (!accessKey || !secretKey) {
    throw new Error(
      'S3 credentials are missing: set SCOUT_S3_ACCESS_KEY and SCOUT_S3_SECRET_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)',
    );
  }
  return { endpoint: parsed.origin, accessKey, secretKey, region: env.SCOUT_S3_REGION || DEFAULT_REGION };
}

/**
 * A job's checkpoints in a bucket, under a prefix. Calls are not serialised: one writer per
 * prefix, which awaits each call before the next (as the checkpoint coordinator does).
 *
 * @example
 * const mirror = await S3CheckpointMirror.open('s3://scout-checkpoints/highlights');
 * // after each checkpoint the store completes:
 * await mirror.upload(store, info.id);
 * await mirror.retain((await store.list()).map((c) => c.id));
 * // on another machine, into an empty store, before `store.load()`:
 * const restored = await mirror.restoreInto(store);
 */
/** A minio client for `config`; the package is loaded here, so commands without S3 never load it. */
export async function createS3Client(config: S3Config): Promise<Client> {
  const endpoint = new URL(config.endpoint);
  const useSSL = endpoint.protocol === 'https:';
  const { Client } = await import('minio');
  return new Client({
    endPoint: endpoint.hostname,
    port: endpoint.port === '' ? (useSSL ? 443 : 80) : Number(endpoint.port),
    useSSL,
    accessKey: config.accessKey,
    secretKey: config.secretKey,
    region: config.region,
  });
}

export class S3CheckpointMirror {
  private constructor(
    private readonly client: Client,
    private readonly bucket: string,
    private readonly prefix: string,
    /** `s3://bucket/prefix`, for messages. */
    readonly url: string,
  ) {}

  /**
   * Connects (config from `options.env`, see `readS3Config`) and checks the bucket exists; throws
   * a one-line Error if it does not or cannot be reached. The mirror creates no bucket: where
   * checkpoints go, and who may read them, is for whoever owns the storage to set up.
   */
  static async open(url: string, options: S3CheckpointMirrorOptions = {}): Promise<S3CheckpointMirror> {
    const { bucket, prefix } = parseCheckpointStoreUrl(url);
    const config = readS3Config(options.env ?? process.env);
    const client = await createS3Client(config);
    const display = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
    let exists: boolean;
    try {
      exists = await client.bucketExists(bucket);
    } catch (e) {
      throw new Error(`cannot open ${display} at ${config.endpoint}: ${messageOf(e)}`, { cause: e });
    }
    if (!exists)
      throw new Error(`cannot open ${display} at ${config.endpoint}: bucket "${bucket}" does not exist`);
    return new S3CheckpointMirror(client, bucket, prefix, display);
  }

  /**
   * Copies checkpoint `id` of `store` to the bucket, with any checkpoint of its chain that is not
   * there yet; a no-op if `id` is complete there already. Call it once `store.write()` returned,
   * while `id` is among the store's newest (`exportCheckpoint` says why).
   */
  async upload(store: LevelCheckpointStore, id: number): Promise<UploadResult> {
    try {
      const remote = await this.scan();
      if (remote.get(id)?.has('manifest')) return { bytes: 0, uploaded: [] };
      const exported = await store.exportCheckpoint(id);
      let bytes = 0;
      const uploaded: number[] = [];
      for (const member of exported.chain) {
        if (member === id || remote.get(member)?.has('manifest')) continue;
        if (!(await store.hasCheckpoint(member))) {
          throw new Error(
            `checkpoint ${member}, which it builds on, is neither there nor complete in the local store any more, ` +
              'so a copy could not be restored (the next full checkpoint starts a chain that can)',
          );
        }
        bytes += await this.put(await store.exportCheckpoint(member));
        uploaded.push(member);
      }
      bytes += await this.put(exported);
      uploaded.push(id);
      return { bytes, uploaded };
    } catch (e) {
      throw new Error(`cannot upload checkpoint ${id} to ${this.url}: ${messageOf(e)}`, { cause: e });
    }
  }

  /** Ids of the checkpoints complete in the bucket (their manifest is there), ascending. */
  async list(): Promise<number[]> {
    try {
      return [...(await this.scan())].filter(([, parts]) => parts.has('manifest')).map(([id]) => id);
    } catch (e) {
      throw new Error(`cannot list the checkpoints in ${this.url}: ${messageOf(e)}`, { cause: e });
    }
  }

  /**
   * Deletes the remote checkpoints no longer needed, and torn uploads: needed are those in
   * `keepIds` (the store's, `(await store.list()).map((c) => c.id)`) and the chains they read.
   * Never deletes one newer than the newest kept one (that may be an upload under way), nor
   * anything when none of `keepIds` is in the bucket: the remote copy would otherwise be lost
   * whenever the uploads have been failing. Returns the ids deleted, ascending.
   */
  async retain(keepIds: Iterable<number>): Promise<number[]> {
    try {
      const remote = await this.scan();
      const kept = [...new Set(keepIds)].filter((id) => remote.get(id)?.has('manifest'));
      if (kept.length === 0) return [];
      const needed = new Set<number>();
      for (const id of kept) for (const member of await this.readChain(id)) needed.add(member);
      const newest = Math.max(...kept);
      const deleted: number[] = [];
      for (const [id, parts] of remote) {
        if (needed.has(id) || id > newest) continue;
        // Manifest first: until the others are gone too, it is a torn checkpoint, never a
        // complete one with objects missing.
        for (const part of ['manifest', 'chain.json', 'records'] as const) {
          if (parts.has(part)) await this.client.removeObject(this.bucket, this.objectName(id, part));
        }
        deleted.push(id);
      }
      return deleted;
    } catch (e) {
      throw new Error(`cannot apply retention to ${this.url}: ${messageOf(e)}`, { cause: e });
    }
  }

  /**
   * Imports into `store` the newest remote checkpoint whose chain is complete in the bucket: every
   * checkpoint of the chain the store does not have, base first. A newer one that cannot be
   * used (its chain incomplete, an object unreadable) is passed over, with the reason in `notes`.
   * undefined when the bucket holds no complete checkpoint; throws when it holds some but none
   * can be imported, as starting over from nothing is then the caller's decision. If the store
   * already has a checkpoint as new, nothing is imported. The store's `load()` then verifies it.
   * With `only`, that checkpoint is the one imported (the one an exactly-once job committed),
   * whatever else either side holds.
   */
  async restoreInto(
    store: LevelCheckpointStore,
    choice: { readonly only?: number } = {},
  ): Promise<RestoredCheckpoint | undefined> {
    let remote: Map<number, Set<Part>>;
    try {
      remote = await this.scan();
    } catch (e) {
      throw new Error(`cannot list the checkpoints in ${this.url}: ${messageOf(e)}`, { cause: e });
    }
    const complete = [...remote]
      .filter(([id, parts]) => parts.has('manifest') && (choice.only === undefined || id === choice.only))
      .map(([id]) => id);
    if (complete.length === 0) return undefined;
    const localNewest = choice.only !== undefined ? -1 : ((await store.list()).at(-1)?.id ?? -1);
    const notes: string[] = [];
    const imported: number[] = [];
    for (const id of complete.reverse()) {
      if (id <= localNewest) {
        notes.push(`the local store has checkpoint ${localNewest}, as new as any in ${this.url}`);
        return { id: localNewest, imported, notes };
      }
      try {
        const chain = await this.readChain(id);
        const missing = chain.filter(
          (m) => !(remote.get(m)?.has('manifest') && remote.get(m)?.has('records')),
        );
        if (missing.length > 0) throw new Error(`checkpoint ${missing.join(', ')} of its chain is not there`);
        for (const member of chain) {
          if (await store.hasCheckpoint(member)) continue;
          // Each chain member is a checkpoint of its own: imported base first, the store holds a
          // usable checkpoint after each one, even if a later one fails.
          await store.importCheckpoint(await this.fetch(member));
          imported.push(member);
        }
        return { id, imported, notes };
      } catch (e) {
        notes.push(`checkpoint ${id} in ${this.url} passed over: ${messageOf(e)}`);
      }
    }
    throw new Error(`no checkpoint in ${this.url} can be restored: ${notes.join('; ')}`);
  }

  private objectName(id: number, part: Part): string {
    return `${this.prefix ? `${this.prefix}/` : ''}${pad(id)}/${part}`;
  }

  /** Which of its objects each remote checkpoint has, by id ascending. Other objects are not ours. */
  private async scan(): Promise<Map<number, Set<Part>>> {
    const under = this.prefix ? `${this.prefix}/` : '';
    const pattern = new RegExp(
      `^(\\d{${ID_DIGITS}})/(${PARTS.map((p) => p.replace('.', '\\.')).join('|')})$`,
    );
    const found = new Map<number, Set<Part>>();
    for await (const item of this.client.listObjectsV2(this.bucket, under, true)) {
      const match = pattern.exec((item as { name?: string }).name?.slice(under.length) ?? '');
      if (!match) continue;
      const id = Number(match[1]);
      let parts = found.get(id);
      if (parts === undefined) {
        parts = new Set();
        found.set(id, parts);
      }
      parts.add(match[2] as Part);
    }
    return new Map([...found].sort(([a], [b]) => a - b));
  }

  /** Puts one checkpoint's objects, manifest last; returns the bytes put. */
  private async put(exported: ExportedCheckpoint): Promise<number> {
    const records = frameRecords(exported.records);
    const chain = Buffer.from(JSON.stringify({ id: exported.id, chain: exported.chain }));
    const manifest = Buffer.from(exported.manifest);
    const objects: Array<[Part, Buffer, string]> = [
      ['records', records, 'application/octet-stream'],
      ['chain.json', chain, 'application/json'],
      ['manifest', manifest, 'application/json'],
    ];
    for (const [part, body, type] of objects) {
      await this.client.putObject(this.bucket, this.objectName(exported.id, part), body, body.length, {
        'Content-Type': type,
      });
    }
    return records.length + chain.length + manifest.length;
  }

  /** The ids `<id>/chain.json` lists; throws if it is missing or is not a chain ending in `id`. */
  private async readChain(id: number): Promise<number[]> {
    const text = (await this.get(id, 'chain.json')).toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const chain = (parsed as { id?: unknown; chain?: unknown } | undefined)?.chain;
    if (
      (parsed as { id?: unknown } | undefined)?.id !== id ||
      !Array.isArray(chain) ||
      chain.length === 0 ||
      !chain.every((m, i) => Number.isSafeInteger(m) && (i === 0 || m > chain[i - 1])) ||
      chain.at(-1) !== id
    ) {
      throw new Error(`its ${this.objectName(id, 'chain.json')} is not the chain of checkpoint ${id}`);
    }
    return chain as number[];
  }

  private async fetch(id: number): Promise<ExportedCheckpoint> {
    const chain = await this.readChain(id);
    const records = unframeRecords(await this.get(id, 'records'), this.objectName(id, 'records'));
    const manifest = await this.get(id, 'manifest');
    return { id, chain, manifest, records };
  }

  private async get(id: number, part: Part): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.client.getObject(this.bucket, this.objectName(id, part))) {
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }
}

/** One `records` object: for each record, u32 key length, key, u32 value length, value. */
function frameRecords(records: ExportedCheckpoint['records']): Buffer {
  const keys = records.map(([key]) => Buffer.from(key, 'utf8'));
  let size = 0;
  for (let i = 0; i < records.length; i++) size += 8 + keys[i]!.length + records[i]![1].length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < records.length; i++) {
    const key = keys[i]!;
    const value = records[i]![1];
    at = out.writeUInt32BE(key.length, at);
    at += key.copy(out, at);
    at = out.writeUInt32BE(value.length, at);
    out.set(value, at);
    at += value.length;
  }
  return out;
}

function unframeRecords(data: Buffer, name: string): Array<[string, Uint8Array]> {
  const records: Array<[string, Uint8Array]> = [];
  let at = 0;
  const take = (what: string): Buffer => {
    const length = at + 4 <= data.length ? data.readUInt32BE(at) : -1;
    if (length < 0 || at + 4 + length > data.length) {
      throw new Error(
        `${name} is cut short or garbled: the ${what} at byte ${at} runs past its end (${data.length} bytes)`,
      );
    }
    const bytes = data.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return bytes;
  };
  while (at < data.length) {
    const key = take('key').toString('utf8');
    records.push([key, take('value')]);
  }
  return records;
}

/** An error's message on one line, with the S3 error code when it adds something. */
function messageOf(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length > 0 && e.message === '') return messageOf(e.errors[0]);
  let text: string;
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    text = e.message || (typeof code === 'string' ? code : e.name);
    if (typeof code === 'string' && !text.includes(code)) text += ` (${code})`;
  } else {
    text = String(e);
  }
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
