/**
 * The binary encoding of checkpointed state: plain data (null, booleans, numbers, strings, arrays,
 * plain objects, and `undefined`) to bytes and back.
 *
 * JSON was measured first and is too slow for the targets: a million channels of
 * highlights state (a small object and a 60-count history each) is 333 MB of JSON that takes
 * ~2 s to stringify and ~2.5 s to parse on this machine, before LevelDB sees a byte, and
 * `v8.serialize` is slower still (~4 s each way). This encoding (~150 MB for the same state) is
 * shaped for what keyed state holds:
 * - arrays of numbers (histories, counts) are packed as raw bytes, 1, 4 or 8 per element, the
 *   smallest that holds every element exactly;
 * - objects of the same shape (every entry of a table, usually) name their keys once per record:
 *   the first object of a shape writes its key list, later ones only the shape's number;
 * - integers in int32 range are zig-zag varints, anything else a float64, so number keys stay
 *   numbers, string keys stay strings, and -Infinity, NaN and -0 survive (JSON loses all three).
 *
 * An `Encoder` writes values one after another into a record and `take()` hands the record out;
 * a `Decoder` reads them back in the same order, or `skip()`s one without building it. Shape
 * numbers are local to a record, so records decode independently of each other.
 *
 * @example
 * const enc = new Encoder();
 * enc.value({ counts: [0, 1, 2] });
 * const bytes = enc.take();
 * new Decoder(bytes).value(); // { counts: [0, 1, 2] }
 */

const NULL = 0;
const FALSE = 1;
const TRUE = 2;
const UNDEFINED = 3;
const INT = 4;
const FLOAT = 5;
const STRING = 6;
const ARRAY = 7;
const ARRAY_U8 = 8;
const ARRAY_I32 = 9;
const ARRAY_F64 = 10;
const OBJECT_NEW_SHAPE = 11;
const OBJECT_SHAPE = 12;

/**
 * Arrays shorter than this are encoded element by element, where packing saves a byte or two at
 * most. Any value ≥ 1 is correct; it only trades those bytes against a scan per short array.
 */
const PACK_MIN_LENGTH = 4;

/**
 * Strings up to this many UTF-16 units are copied byte by byte when ASCII; longer ones go through
 * Buffer's native UTF-8 writer, whose per-call overhead (~100 ns) only pays off on longer strings.
 * Correctness does not depend on it.
 */
const SHORT_STRING = 64;

/**
 * Generated object builders kept for reuse across records. State has a handful of shapes; past
 * this many (objects keyed by data, used as dictionaries) further shapes decode by plain
 * assignment, slower but with memory bounded.
 */
const MAX_BUILDERS = 1024;

/** Encoder side of the same bound: first keys remembered before the shape lookup starts afresh. */
const MAX_SHAPES = 1024;

export class Encoder {
  private buf: Buffer;
  private view: DataView;
  /** Where the record being encoded starts in `buf`; records before it were handed out by `take()`. */
  private start = 0;
  private pos = 0;
  /** Shapes by their first key. A shape stays known across records; its id is per record. */
  private readonly shapes = new Map<string, Shape[]>();
  /** Shapes given an id in the record being encoded, in id order. */
  private readonly numbered: Shape[] = [];

  /**
   * `arenaBytes`: the buffer records are encoded into. Records are handed out as views of it, so
   * encoding allocates nothing per record; when it is full a new one of the same size is started
   * (a record larger than that gets a buffer of its own size).
   */
  constructor(arenaBytes = 1 << 16) {
    this.buf = Buffer.allocUnsafe(arenaBytes);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Bytes of the record being encoded. */
  get length(): number {
    return this.pos - this.start;
  }

  /** Bytes handed out or being encoded since the last `clear()`. */
  get used(): number {
    return this.pos;
  }

  /**
   * The record's bytes, as a view of the encoder's buffer: valid until `clear()`, which reuses
   * the buffer. Starts the next record.
   */
  take(): Buffer {
    const out = this.buf.subarray(this.start, this.pos);
    this.start = this.pos;
    this.forgetShapes();
    return out;
  }

  /** Drops the record being encoded and reuses the buffer: views from `take()` become garbage. */
  clear(): void {
    this.start = 0;
    this.pos = 0;
    this.forgetShapes();
  }

  private forgetShapes(): void {
    for (const shape of this.numbered) shape.id = -1;
    this.numbered.length = 0;
    // Objects used as dictionaries (keys from data) make a new shape each; forgetting them all
    // now and then keeps the lookup small and memory bounded.
    if (this.shapes.size > MAX_SHAPES) this.shapes.clear();
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    // Records already taken stay valid in the old buffer; only the one in progress moves.
    const inProgress = this.pos - this.start;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length, 2 * (inProgress + n)));
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
    this.start = 0;
    this.pos = inProgress;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** A non-negative safe integer, 7 bits per byte. */
  varint(n: number): void {
    this.ensure(8);
    const buf = this.buf;
    let pos = this.pos;
    // Bit operators are 32-bit; above 2^31 the high part is peeled off arithmetically.
    while (n > 0x7fffffff) {
      buf[pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    while (n > 0x7f) {
      buf[pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[pos++] = n;
    this.pos = pos;
  }

  string(s: string): void {
    const n = s.length;
    if (n <= SHORT_STRING) {
      this.ensure(n + 1);
      const buf = this.buf;
      const start = this.pos + 1; // a varint of n ≤ 127 is one byte
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === n) {
        buf[this.pos] = n;
        this.pos = start + n;
        return;
      }
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.varint(bytes);
    this.ensure(bytes);
    this.buf.write(s, this.pos, bytes, 'utf8');
    this.pos += bytes;
  }

  number(n: number): void {
    if ((n | 0) === n && !(n === 0 && 1 / n < 0)) {
      this.byte(INT);
      this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
    } else {
      this.ensure(9);
      this.buf[this.pos] = FLOAT;
      this.view.setFloat64(this.pos + 1, n, true);
      this.pos += 9;
    }
  }

  value(v: unknown): void {
    switch (typeof v) {
      case 'number':
        this.number(v);
        return;
      case 'string':
        this.byte(STRING);
        this.string(v);
        return;
      case 'boolean':
        this.byte(v ? TRUE : FALSE);
        return;
      case 'undefined':
        this.byte(UNDEFINED);
        return;
      case 'object':
        if (v === null) this.byte(NULL);
        else if (Array.isArray(v)) this.array(v);
        else {
          const proto = Object.getPrototypeOf(v);
          if (proto !== Object.prototype && proto !== null) {
            throw new TypeError(
              `checkpointed state must be plain data; found a ${proto?.constructor?.name ?? 'non-plain'} object`,
            );
          }
          this.object(v as Record<string, unknown>);
        }
        return;
      default:
        throw new TypeError(`checkpointed state must be plain data; found a ${typeof v}`);
    }
  }

  private array(a: readonly unknown[]): void {
    const n = a.length;
    if (n >= PACK_MIN_LENGTH) {
      // Most number arrays in state are small counts: copy optimistically as bytes, which reads
      // the array once; only an element that does not fit sends it back for a wider encoding.
      const tagAt = this.pos;
      this.byte(ARRAY_U8);
      this.varint(n);
      this.ensure(n);
      const buf = this.buf;
      let pos = this.pos;
      let i = 0;
      for (; i < n; i++) {
        const x = a[i];
        if (typeof x !== 'number' || (x & 0xff) !== x || (x === 0 && 1 / x < 0)) break;
        buf[pos++] = x;
      }
      if (i === n) {
        this.pos = pos;
        return;
      }
      this.pos = tagAt;
      if (this.packWide(a, i)) return;
    }
    this.byte(ARRAY);
    this.varint(n);
    for (let i = 0; i < n; i++) this.value(a[i]);
  }

  /** Packs `a` as int32s or float64s if it holds only numbers; `from`: elements before it fit a byte. */
  private packWide(a: readonly unknown[], from: number): boolean {
    const n = a.length;
    let int32 = true;
    for (let i = from; i < n; i++) {
      const x = a[i];
      if (typeof x !== 'number') return false;
      if ((x | 0) !== x || (x === 0 && 1 / x < 0)) int32 = false;
    }
    const nums = a as readonly number[];
    this.byte(int32 ? ARRAY_I32 : ARRAY_F64);
    this.varint(n);
    this.ensure(n * 8);
    const view = this.view;
    let pos = this.pos;
    if (int32) for (let i = 0; i < n; i++, pos += 4) view.setInt32(pos, nums[i]!, true);
    else for (let i = 0; i < n; i++, pos += 8) view.setFloat64(pos, nums[i]!, true);
    this.pos = pos;
    return true;
  }

  private object(o: Record<string, unknown>): void {
    const shape = this.shapeOf(o);
    if (shape.id < 0) {
      shape.id = this.numbered.length;
      this.numbered.push(shape);
      this.byte(OBJECT_NEW_SHAPE);
      this.varint(shape.keys.length);
      for (const k of shape.keys) this.string(k);
    } else {
      this.byte(OBJECT_SHAPE);
      this.varint(shape.id);
    }
    shape.write(this, o);
  }

  /**
   * The shape of `o`: candidates are found by first key and checked key by key with `for…in`,
   * which allocates nothing (`Object.keys` per object was a million garbage arrays per table).
   * Property names are internalised strings, so each comparison is a pointer compare.
   */
  private shapeOf(o: Record<string, unknown>): Shape {
    let first = '';
    for (const k in o) {
      first = k;
      break;
    }
    let candidates = this.shapes.get(first);
    if (candidates === undefined) {
      candidates = [];
      this.shapes.set(first, candidates);
    }
    for (const shape of candidates) if (hasKeys(o, shape.keys)) return shape;
    const keys = Object.keys(o);
    const shape: Shape = { keys, id: -1, write: writer(keys) };
    candidates.push(shape);
    return shape;
  }
}

/** True when `o`'s keys are `keys`, in that order. */
function hasKeys(o: Record<string, unknown>, keys: readonly string[]): boolean {
  let i = 0;
  for (const k in o) {
    if (k !== keys[i]) return false;
    i++;
  }
  return i === keys.length;
}

/** An object layout seen in the current record; `id` is -1 until its key list has been written. */
interface Shape {
  readonly keys: readonly string[];
  id: number;
  /** Encodes an object of this shape's values, in key order. */
  readonly write: (e: Encoder, o: Record<string, unknown>) => void;
}

export class Decoder {
  private readonly buf: Buffer;
  private readonly view: DataView;
  private pos = 0;
  private readonly shapes: Array<(d: Decoder) => Record<string, unknown>> = [];
  private readonly shapeSizes: number[] = [];

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** True when every byte has been read. */
  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError('truncated checkpoint record');
  }

  byte(): number {
    if (this.pos >= this.buf.length) throw new RangeError('truncated checkpoint record');
    return this.buf[this.pos++]!;
  }

  varint(): number {
    const first = this.byte();
    if (first < 0x80) return first; // lengths, shape numbers, small ints: nearly every varint
    let n = first & 0x7f;
    let scale = 128;
    for (;;) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 128;
      if (scale > 2 ** 56) throw new RangeError('malformed varint in checkpoint record');
    }
  }

  string(): string {
    const n = this.varint();
    this.need(n);
    const start = this.pos;
    this.pos += n;
    // Native, even for short strings: building them in JS by concatenation makes rope strings
    // that measured 6× slower to build and slower again as Map keys.
    return this.buf.toString('utf8', start, start + n);
  }

  value(): unknown {
    const tag = this.byte();
    switch (tag) {
      case NULL:
        return null;
      case FALSE:
        return false;
      case TRUE:
        return true;
      case UNDEFINED:
        return undefined;
      case INT: {
        const z = this.varint();
        return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      }
      case FLOAT: {
        this.need(8);
        const x = this.view.getFloat64(this.pos, true);
        this.pos += 8;
        return x;
      }
      case STRING:
        return this.string();
      case ARRAY: {
        const n = this.varint();
        this.need(n); // every element takes a byte at least: a corrupt length fails here, not in `new Array`
        // Sized up front: grown by push, a 3-element array got room for 17 (measured 110 MB more
        // heap for the benchmark's million channels).
        const a: unknown[] = new Array(n);
        for (let i = 0; i < n; i++) a[i] = this.value();
        return a;
      }
      case ARRAY_U8:
      case ARRAY_I32:
      case ARRAY_F64: {
        const n = this.varint();
        const width = tag === ARRAY_U8 ? 1 : tag === ARRAY_I32 ? 4 : 8;
        this.need(n * width);
        const a: number[] = new Array(n);
        let pos = this.pos;
        if (tag === ARRAY_U8) for (let i = 0; i < n; i++) a[i] = this.buf[pos++]!;
        else if (tag === ARRAY_I32) {
          for (let i = 0; i < n; i++, pos += 4) a[i] = this.view.getInt32(pos, true);
        } else {
          for (let i = 0; i < n; i++, pos += 8) a[i] = this.view.getFloat64(pos, true);
        }
        this.pos = pos;
        return a;
      }
      case OBJECT_NEW_SHAPE: {
        const n = this.varint();
        const keys: string[] = [];
        for (let i = 0; i < n; i++) keys.push(this.string());
        const build = builder(keys);
        this.shapes.push(build);
        this.shapeSizes.push(n);
        return build(this);
      }
      case OBJECT_SHAPE: {
        const build = this.shapes[this.varint()];
        if (build === undefined) throw new RangeError('unknown object shape in checkpoint record');
        return build(this);
      }
      default:
        throw new RangeError(`unknown tag ${tag} in checkpoint record`);
    }
  }

  /** Reads past one value without building it. */
  skip(): void {
    const tag = this.byte();
    switch (tag) {
      case NULL:
      case FALSE:
      case TRUE:
      case UNDEFINED:
        return;
      case INT:
        this.varint();
        return;
      case FLOAT:
        this.advance(8);
        return;
      case STRING:
        this.advance(this.varint());
        return;
      case ARRAY: {
        const n = this.varint();
        for (let i = 0; i < n; i++) this.skip();
        return;
      }
      case ARRAY_U8:
        this.advance(this.varint());
        return;
      case ARRAY_I32:
        this.advance(this.varint() * 4);
        return;
      case ARRAY_F64:
        this.advance(this.varint() * 8);
        return;
      case OBJECT_NEW_SHAPE: {
        const n = this.varint();
        const keys: string[] = [];
        for (let i = 0; i < n; i++) keys.push(this.string());
        this.shapes.push(builder(keys));
        this.shapeSizes.push(n);
        for (let i = 0; i < n; i++) this.skip();
        return;
      }
      case OBJECT_SHAPE: {
        const n = this.shapeSizes[this.varint()];
        if (n === undefined) throw new RangeError('unknown object shape in checkpoint record');
        for (let i = 0; i < n; i++) this.skip();
        return;
      }
      default:
        throw new RangeError(`unknown tag ${tag} in checkpoint record`);
    }
  }

  private advance(n: number): void {
    this.need(n);
    this.pos += n;
  }
}

/**
 * Builds objects of one shape as an object literal, so V8 gives every object from it the same
 * hidden class up front instead of walking a transition per key assigned: decoding the benchmark's
 * million channels took 1.9 s with assignment and 1.1 s with literals. Keys enter the source only
 * as JSON string literals inside computed keys, so no key can inject code, and a `__proto__` key
 * becomes an own property, as it was when encoded.
 */
const builders = new Map<string, (d: Decoder) => Record<string, unknown>>();

function builder(keys: readonly string[]): (d: Decoder) => Record<string, unknown> {
  const signature = JSON.stringify(keys);
  let build = builders.get(signature);
  if (build !== undefined) return build;
  if (builders.size >= MAX_BUILDERS) return (d) => assign(d, keys);
  const fields = keys
    .map((k) => (k === '__proto__' ? `["__proto__"]: d.value()` : `${JSON.stringify(k)}: d.value()`))
    .join(', ');
  build = new Function('d', `return { ${fields} };`) as (d: Decoder) => Record<string, unknown>;
  builders.set(signature, build);
  return build;
}

/**
 * The encoding side of `builder`: reads each key as a named property, so V8 can give each read an
 * inline cache instead of one megamorphic keyed lookup for every key of every object.
 */
const writers = new Map<string, (e: Encoder, o: Record<string, unknown>) => void>();

function writer(keys: readonly string[]): (e: Encoder, o: Record<string, unknown>) => void {
  const signature = JSON.stringify(keys);
  let write = writers.get(signature);
  if (write !== undefined) return write;
  if (writers.size >= MAX_BUILDERS) {
    return (e, o) => {
      for (const k of keys) e.value(o[k]);
    };
  }
  const reads = keys.map((k) => `e.value(o[${JSON.stringify(k)}]);`).join(' ');
  write = new Function('e', 'o', reads) as (e: Encoder, o: Record<string, unknown>) => void;
  writers.set(signature, write);
  return write;
}

/** The slow path, once the cache is full: compiling a builder per object would be slower still. */
function assign(d: Decoder, keys: readonly string[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of keys) {
    Object.defineProperty(o, k, { value: d.value(), enumerable: true, writable: true, configurable: true });
  }
  return o;
}
