/**
 * The key → partition hash of the in-process topics: 32-bit FNV-1a over the UTF-8 bytes of
 * `String(key)`. It is fixed so that a key lands in the same partition in every process and every
 * run, which keyed state restored from a checkpoint relies on; any other tool can reproduce it.
 */

/** FNV-1a offset basis and prime (32-bit); changing either re-maps every key to another partition. */
const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * 32-bit FNV-1a of the UTF-8 encoding of `text`, as an unsigned integer. Encodes on the fly so
 * that hashing a key allocates nothing.
 *
 * @example
 * fnv1a('a'); // 0xe40c292c
 */
export function fnv1a(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  const mix = (byte: number): void => {
    hash = Math.imul(hash ^ byte, FNV_PRIME);
  };
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      mix(c);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const low = c <= 0xdbff && i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (low >= 0xdc00 && low <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        i++;
      } else {
        // A lone surrogate: TextEncoder (and Buffer) write U+FFFD for it, and so do we.
        c = 0xfffd;
      }
    }
    if (c < 0x800) {
      mix(0xc0 | (c >> 6));
    } else if (c < 0x10000) {
      mix(0xe0 | (c >> 12));
      mix(0x80 | ((c >> 6) & 0x3f));
    } else {
      mix(0xf0 | (c >> 18));
      mix(0x80 | ((c >> 12) & 0x3f));
      mix(0x80 | ((c >> 6) & 0x3f));
    }
    mix(0x80 | (c & 0x3f));
  }
  return hash >>> 0;
}

/**
 * The partition of `key` among `partitions`.
 *
 * @example
 * partitionOf('xqc', 4); // the same number in every run
 */
export function partitionOf(key: string | number, partitions: number): number {
  return fnv1a(String(key)) % partitions;
}
