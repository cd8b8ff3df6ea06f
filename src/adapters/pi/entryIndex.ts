/**
 * The per-entry index of a scanned pi file, on disk (issue 9, P7): for every
 * entry its line, byte range, id and parent, and the map from id to entry, in
 * three scratch files of the import's spill directory (`pagedFile.ts`), so a
 * scan's memory does not grow with the number of entries.
 *
 * - `entries.bin`: one 64-byte record per entry (file order): byte start and
 *   length of its line, line number, the offset and length of its id's UTF-8
 *   bytes in `strings.bin` (−1: no string id), the 64-bit hash of the id, and
 *   the parent: the index of the entry its `parentId` names (an earlier one,
 *   itself, or, after `resolveForward`, a later one), or `PARENT_NULL` /
 *   `PARENT_ABSENT`, or `PARENT_OTHER` with the value's JSON after the id bytes
 *   (a parent not seen yet, or not a string).
 * - `ids.bin`: an open-addressing hash table (linear probing, 8-byte slots:
 *   32 bits of the id's hash and the entry index + 1), at most half full
 *   (doubled and rebuilt from the records when it would be fuller). A slot's
 *   hash bits are only a hint: a lookup confirms a match by comparing the
 *   entry's whole 64-bit hash and then its id bytes, so `lookup` is exact.
 * - `strings.bin`: the id bytes (and unusual parent values) appended in file
 *   order.
 *
 * Kept in memory, bounded: the ids of the last `RECENT` entries (the usual
 * parent is one of the last few entries: found without the table, confirmed
 * without reading `strings.bin`); a Bloom filter of every id added (4 MiB:
 * most ids are new, and a miss there needs no table read); the last
 * `PENDING` entries added, placed in the table in slot order (each table page
 * read and written once per batch, not once per id), held as numbers in typed
 * arrays with a small hash table of their own (a `Map` from id string to entry
 * kept up to 16,384 strings and map tables alive across minor GCs, promoted
 * and soon garbage: old-generation churn, bench/RESULTS.md "I1"). Memory: the
 * page caches (2 MiB), the filter, the pending arrays (320 KiB), a 64 KiB
 * write block: about 8 MiB whatever the number of entries.
 */
import { join } from 'node:path';
import type { PiEntryLink } from './parse.ts';
import {
  appendText,
  cachedBytes,
  closeByteLog,
  closePagedFile,
  openByteLog,
  openPagedFile,
  readFloat64,
  readInt32,
  readText,
  writeFloat64,
  writeInt32,
  type ByteLog,
  type PagedFile,
} from './pagedFile.ts';

/** Parent codes of a record besides an entry index. */
const PARENT_NULL = -1;
const PARENT_ABSENT = -2;
const PARENT_OTHER = -3;

/** Record layout (byte offsets in a 64-byte record). */
const RECORD = 64;
const F_START = 0; // float64: byte offset of the line in the file
const F_ID_OFFSET = 8; // float64: offset of the id bytes in strings.bin
const F_HASH1 = 16; // int32
const F_HASH2 = 20; // int32
const F_LINE = 24; // int32: 1-based line
const F_LENGTH = 28; // int32: bytes of the line (without its newline)
const F_PARENT = 32; // int32: entry index or a PARENT_ code
const F_ID_LENGTH = 36; // int32: bytes of the id, -1 when the entry has no string id
const F_OTHER_LENGTH = 40; // int32: bytes of the PARENT_OTHER value's JSON (after the id bytes)
const F_WALK = 44; // int32: cycle search state (0 unseen, 1 on the chain being walked, 2 done)

const SLOT = 8;
/** The ids kept as strings (the last entries added): a power of two. */
const RECENT = 1024;
/** Entries just before a new one whose ids are compared with its parent id before the table is asked. */
const NEAR = 8;
/** Bits of the Bloom filter (2^25: 4 MiB) and probes per id. */
const BLOOM_BITS = 1 << 25;
const BLOOM_PROBES = 3;
/** Entries (with a string id) added but not yet placed in the table: a power of two. */
const PENDING = 16_384;
/** Slots of the pending entries' own hash table (at most half full). */
const PENDING_SLOTS = PENDING * 2;

/** The on-disk index of one scan (module comment). */
export interface PiEntryIndex {
  count: number;
  readonly records: PagedFile;
  table: PagedFile;
  /** Slots in the table (a power of two). */
  capacity: number;
  readonly strings: ByteLog;
  readonly dir: string;
  readonly recent: Array<string | undefined>;
  /** Whether some parent was found only after its child (so the links may loop). */
  forward: boolean;
  /** Entries whose parent is `PARENT_OTHER` (resolved by `resolveForward`). */
  others: number;
  readonly bloom: Uint32Array;
  /** Entries added and not yet in the table (`pendingCount` of them), and their ids' hashes. */
  readonly pending: Int32Array;
  readonly pendingHash1: Int32Array;
  readonly pendingHash2: Int32Array;
  pendingCount: number;
  /** Open addressing over the pending entries by `hash1`: entry index + 1, 0 for a free slot. */
  readonly pendingSlots: Int32Array;
}

/**
 * Opens an empty index in the directory `dir` (the import's spill directory).
 * `expected` is a guess of the entry count (the table starts at twice its size
 * rounded up to a power of two, at least 4,096 slots). Throws the `fs` error.
 */
export const openEntryIndex = (dir: string, expected: number): PiEntryIndex => {
  let capacity = 4096;
  while (capacity < expected * 2) capacity *= 2;
  return {
    count: 0,
    records: openPagedFile(join(dir, 'entries.bin'), 1 << 16, 16),
    table: openPagedFile(join(dir, 'ids.bin'), 1 << 12, 256),
    capacity,
    strings: openByteLog(join(dir, 'strings.bin')),
    dir,
    recent: new Array<string | undefined>(RECENT),
    forward: false,
    others: 0,
    bloom: new Uint32Array(BLOOM_BITS / 32),
    pending: new Int32Array(PENDING),
    pendingHash1: new Int32Array(PENDING),
    pendingHash2: new Int32Array(PENDING),
    pendingCount: 0,
    pendingSlots: new Int32Array(PENDING_SLOTS),
  };
};

/** Bytes the index holds in memory now besides its fixed buffers (page caches); for tests: bounded whatever the entry count. */
export const indexMemoryBytes = (x: PiEntryIndex): number =>
  cachedBytes(x.records) + cachedBytes(x.table) + x.strings.block.length + x.strings.scratch.length + x.bloom.byteLength + x.pending.byteLength * 3 + x.pendingSlots.byteLength + RECENT * 8;

/** Closes and removes the index's files. */
export const closeEntryIndex = (x: PiEntryIndex): void => {
  closePagedFile(x.records);
  closePagedFile(x.table);
  closeByteLog(x.strings);
};

/** A 64-bit hash of `s` (cyrb53's mixing on UTF-16 code units) as two int32. */
const hashOf = (s: string): [number, number] => {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 | 0, h2 | 0];
};

const field = (x: PiEntryIndex, i: number, f: number): number => readInt32(x.records, i * RECORD + f);

/** The id of entry `i` (undefined: none, or not a string). */
export const idAt = (x: PiEntryIndex, i: number): string | undefined => {
  const length = field(x, i, F_ID_LENGTH);
  if (length < 0) return undefined;
  if (i >= x.count - RECENT) {
    const r = x.recent[i & (RECENT - 1)];
    if (r !== undefined) return r;
  }
  return readText(x.strings, readFloat64(x.records, i * RECORD + F_ID_OFFSET), length);
};

/** Whether entry `i` has the id `id` whose hash is `h`. */
const hasId = (x: PiEntryIndex, i: number, id: string, h: readonly [number, number]): boolean =>
  field(x, i, F_HASH1) === h[0] && field(x, i, F_HASH2) === h[1] && field(x, i, F_ID_LENGTH) >= 0 && idAt(x, i) === id;

/** Bit `k` of the Bloom filter positions of hash `h`. */
const bloomBit = (h: readonly [number, number], k: number): number => (h[0] + Math.imul(k, h[1] | 1)) & (BLOOM_BITS - 1);

const bloomHas = (x: PiEntryIndex, h: readonly [number, number]): boolean => {
  for (let k = 0; k < BLOOM_PROBES; k++) {
    const b = bloomBit(h, k);
    if ((x.bloom[b >>> 5]! & (1 << (b & 31))) === 0) return false;
  }
  return true;
};

const bloomAdd = (x: PiEntryIndex, h: readonly [number, number]): void => {
  for (let k = 0; k < BLOOM_PROBES; k++) {
    const b = bloomBit(h, k);
    x.bloom[b >>> 5]! |= 1 << (b & 31);
  }
};

/** The index of the entry whose id is `id`, if any (exact: see the module comment). */
export const lookup = (x: PiEntryIndex, id: string): number | undefined => lookupHashed(x, id, hashOf(id));

const lookupHashed = (x: PiEntryIndex, id: string, h: readonly [number, number]): number | undefined => {
  if (!bloomHas(x, h)) return undefined;
  const p = pendingLookup(x, id, h);
  if (p !== undefined) return p;
  const mask = x.capacity - 1;
  for (let s = h[0] & mask; ; s = (s + 1) & mask) {
    const stored = readInt32(x.table, s * SLOT + 4);
    if (stored === 0) return undefined;
    if (readInt32(x.table, s * SLOT) === h[1] && hasId(x, stored - 1, id, h)) return stored - 1;
  }
};

/** Puts entry `i` (hash `h`) in the first free slot of its probe sequence. */
const place = (x: PiEntryIndex, i: number, h1: number, h2: number): void => {
  const mask = x.capacity - 1;
  let s = h1 & mask;
  while (readInt32(x.table, s * SLOT + 4) !== 0) s = (s + 1) & mask;
  writeInt32(x.table, s * SLOT, h2);
  writeInt32(x.table, s * SLOT + 4, i + 1);
};

/** The pending entry whose id is `id` (hash `h`), if any. */
const pendingLookup = (x: PiEntryIndex, id: string, h: readonly [number, number]): number | undefined => {
  const mask = PENDING_SLOTS - 1;
  for (let s = h[0] & mask; ; s = (s + 1) & mask) {
    const stored = x.pendingSlots[s]!;
    if (stored === 0) return undefined;
    if (hasId(x, stored - 1, id, h)) return stored - 1;
  }
};

/** Adds entry `i` (hash `h`) to the pending entries, placing them all in the table first when they are `PENDING`. */
const addPending = (x: PiEntryIndex, i: number, h: readonly [number, number]): void => {
  if (x.pendingCount >= PENDING) placePending(x);
  const k = x.pendingCount++;
  x.pending[k] = i;
  x.pendingHash1[k] = h[0];
  x.pendingHash2[k] = h[1];
  const mask = PENDING_SLOTS - 1;
  let s = h[0] & mask;
  while (x.pendingSlots[s] !== 0) s = (s + 1) & mask;
  x.pendingSlots[s] = i + 1;
};

/** Forgets the pending entries (placed in the table, or about to be by `grow`). */
const clearPending = (x: PiEntryIndex): void => {
  x.pendingCount = 0;
  x.pendingSlots.fill(0);
};

/**
 * Places the pending entries in the table, in the order of their first slot
 * (so its pages are visited in order): sorted as numbers `slot × PENDING + k`
 * (exact: below 2^45), no object per entry.
 */
const placePending = (x: PiEntryIndex): void => {
  const n = x.pendingCount;
  if (n === 0) return;
  const mask = x.capacity - 1;
  const order = new Float64Array(n);
  for (let k = 0; k < n; k++) order[k] = (x.pendingHash1[k]! & mask) * PENDING + k;
  order.sort();
  for (let j = 0; j < n; j++) {
    const k = order[j]! % PENDING;
    place(x, x.pending[k]!, x.pendingHash1[k]!, x.pendingHash2[k]!);
  }
  clearPending(x);
};

/** Doubles the table, placing every id added so far again (from the hashes in the records; in batches of `PENDING`, in slot order). */
const grow = (x: PiEntryIndex): void => {
  const old = x.table;
  x.table = openPagedFile(join(x.dir, `ids-${x.capacity * 2}.bin`), old.pageBytes, old.maxPages);
  x.capacity *= 2;
  closePagedFile(old);
  clearPending(x);
  const mask = x.capacity - 1;
  let batch: Array<{ i: number; h1: number; h2: number }> = [];
  const placeBatch = (): void => {
    batch.sort((a, b) => (a.h1 & mask) - (b.h1 & mask));
    for (const t of batch) place(x, t.i, t.h1, t.h2);
    batch = [];
  };
  for (let i = 0; i < x.count; i++) {
    if (field(x, i, F_ID_LENGTH) < 0) continue;
    batch.push({ i, h1: field(x, i, F_HASH1), h2: field(x, i, F_HASH2) });
    if (batch.length >= PENDING) placeBatch();
  }
  placeBatch();
};

/**
 * Adds the next entry (index `count`): line `line` at bytes `[start, start +
 * length)`, its `id` and `parentId` as written. The id must not be in the
 * index yet when it is a string (the parse refuses duplicate ids before).
 */
export const addEntry = (x: PiEntryIndex, line: number, start: number, length: number, id: unknown, parentId: unknown): void => {
  const i = x.count;
  const base = i * RECORD;
  const r = x.records;
  writeFloat64(r, base + F_START, start);
  writeInt32(r, base + F_LINE, line);
  writeInt32(r, base + F_LENGTH, length);
  writeInt32(r, base + F_WALK, 0);
  let idLength = -1;
  let idOffset = x.strings.written + x.strings.used;
  if (typeof id === 'string') {
    const h = hashOf(id);
    const at = appendText(x.strings, id);
    idLength = at.length;
    idOffset = at.offset;
    writeInt32(r, base + F_HASH1, h[0]);
    writeInt32(r, base + F_HASH2, h[1]);
    x.recent[i & (RECENT - 1)] = id;
    if ((i + 1) * 2 > x.capacity) grow(x);
    bloomAdd(x, h);
    addPending(x, i, h);
  } else {
    writeInt32(r, base + F_HASH1, 0);
    writeInt32(r, base + F_HASH2, 0);
    x.recent[i & (RECENT - 1)] = undefined;
  }
  writeFloat64(r, base + F_ID_OFFSET, idOffset);
  writeInt32(r, base + F_ID_LENGTH, idLength);
  x.count = i + 1;
  let code = PARENT_OTHER;
  if (parentId === null) code = PARENT_NULL;
  else if (parentId === undefined) code = PARENT_ABSENT;
  else if (typeof parentId === 'string') code = nearEntry(x, parentId) ?? lookup(x, parentId) ?? PARENT_OTHER;
  let otherLength = 0;
  if (code === PARENT_OTHER) {
    otherLength = appendText(x.strings, JSON.stringify(parentId)).length;
    x.others++;
  }
  writeInt32(r, base + F_PARENT, code);
  writeInt32(r, base + F_OTHER_LENGTH, otherLength);
};

/** The index of the entry among the last `NEAR` whose id is `id`, if any (no table read). */
const nearEntry = (x: PiEntryIndex, id: string): number | undefined => {
  for (let j = x.count - 1; j >= 0 && j >= x.count - NEAR; j--) if (x.recent[j & (RECENT - 1)] === id) return j;
  return undefined;
};

/** Line number of entry `i`. */
export const lineAt = (x: PiEntryIndex, i: number): number => field(x, i, F_LINE);

/** Byte range `[start, end)` of entry `i`'s line (without its newline). */
export const rangeAt = (x: PiEntryIndex, i: number): { readonly start: number; readonly end: number } => {
  const start = readFloat64(x.records, i * RECORD + F_START);
  return { start, end: start + field(x, i, F_LENGTH) };
};

/** The parent value of entry `i` as written. */
const parentValue = (x: PiEntryIndex, i: number): unknown => {
  const code = field(x, i, F_PARENT);
  if (code >= 0) return idAt(x, code);
  if (code === PARENT_NULL) return null;
  if (code === PARENT_ABSENT) return undefined;
  const idLength = Math.max(0, field(x, i, F_ID_LENGTH));
  return JSON.parse(readText(x.strings, readFloat64(x.records, i * RECORD + F_ID_OFFSET) + idLength, field(x, i, F_OTHER_LENGTH))) as unknown;
};

/** The tree links of entry `i` (as `linkOf` gives them for a decoded entry). */
export const linkAt = (x: PiEntryIndex, i: number): PiEntryLink => ({ line: lineAt(x, i), id: idAt(x, i), parentId: parentValue(x, i) });

/**
 * The index of entry `i`'s parent: `j >= 0` the entry its `parentId` names
 * (not itself), `-1` none (`null`, absent, not a string, or itself), `-2` a
 * string naming no entry. Exact once `resolveForward` ran.
 */
export const parentIndexAt = (x: PiEntryIndex, i: number): number => {
  const code = field(x, i, F_PARENT);
  if (code >= 0) return code === i ? -1 : code;
  if (code !== PARENT_OTHER) return -1;
  return typeof parentValue(x, i) === 'string' ? -2 : -1;
};

/** Resolves the parents named before they were seen (a later entry); notes whether there was one (`forward`). Run once, after the last `addEntry`. */
export const resolveForward = (x: PiEntryIndex): void => {
  if (x.others === 0) return;
  for (let i = 0; i < x.count; i++) {
    if (field(x, i, F_PARENT) !== PARENT_OTHER) continue;
    const p = parentValue(x, i);
    const j = typeof p === 'string' ? lookup(x, p) : undefined;
    if (j === undefined) continue;
    writeInt32(x.records, i * RECORD + F_PARENT, j);
    writeInt32(x.records, i * RECORD + F_OTHER_LENGTH, 0);
    x.forward = true;
  }
};

/**
 * The first entry (file order) whose parent chain loops (what `parse.ts`'s
 * in-memory search finds), after `resolveForward`. Without a parent found
 * after its child no chain can loop, so nothing is read.
 */
export const findCycleOnDisk = (x: PiEntryIndex): { readonly id: string; readonly line: number } | undefined => {
  if (!x.forward) return undefined;
  const walk = (i: number): number => readInt32(x.records, i * RECORD + F_WALK);
  const mark = (i: number, v: number): void => writeInt32(x.records, i * RECORD + F_WALK, v);
  for (let i = 0; i < x.count; i++) {
    for (let cur = i; cur >= 0 && walk(cur) !== 2; cur = parentIndexAt(x, cur)) {
      if (walk(cur) === 1) return { id: idAt(x, i) ?? '', line: lineAt(x, i) };
      mark(cur, 1);
    }
    for (let cur = i; cur >= 0 && walk(cur) === 1; cur = parentIndexAt(x, cur)) mark(cur, 2);
  }
  return undefined;
};
