/**
 * Transcript digests (model.md §7): the revision id of a transcript.
 *
 * `T(ms) = "[" + J(d(m0)) + "," + ... + "]"`, `transcriptDigest(ms) = "sha256:" + hex(SHA-256(UTF-8(T(ms))))`
 * with `J` = RFC 8785 canonical JSON and `d` = `digestForm` (createdAt, origin and
 * usage removed; inline images replaced by their blob id).
 */
import { canonicalJsonUnsafe } from './json.ts';
import { canonicalWithout } from './canonical.ts';
import { defaultSha256, sha256OfBytes, type Sha256Port } from './hashing.ts';
import { isCanonicalBase64, type ContentBlock, type ImageSource } from './content.ts';
import type { Message, MessageInput } from './message.ts';
import type { BlobId, Digest } from './scalars.ts';

const encoder = new TextEncoder();
const SEP = new Uint8Array([0]);

/** A blob id computed over bytes given piece by piece (`blobIdHasher`). */
export interface BlobIdHasher {
  /** Adds the next bytes of the blob. */
  readonly update: (bytes: Uint8Array) => void;
  /** The blob id of all the bytes added (call once, last). */
  readonly id: () => BlobId;
}

/** `blobId(mediaType, bytes)` of the concatenation of the pieces given to `update`, without holding them. */
export const blobIdHasher = (mediaType: string): BlobIdHasher => {
  const h = defaultSha256.create();
  h.update(encoder.encode(mediaType));
  h.update(SEP);
  return { update: (bytes) => h.update(bytes), id: () => `sha256:${h.digestHex()}` };
};

/** `"sha256:" + hex(SHA-256(UTF-8(mediaType) || 0x00 || bytes))` (model.md §7.2). */
export const blobId = (mediaType: string, bytes: Uint8Array): BlobId => {
  const h = blobIdHasher(mediaType);
  h.update(bytes);
  return h.id();
};

/** `sha256:<hex>` of raw bytes. */
export const sha256Digest = (bytes: Uint8Array): Digest => sha256OfBytes(bytes);

/** Characters of base64 decoded at a time for an inline image's blob id (a multiple of 4). */
const BASE64_SLICE_CHARS = 1 << 20;

/**
 * The blob id of the bytes the base64 text `data` encodes. Canonical text
 * (what a decoded message holds) is decoded a slice of `sliceChars` (a
 * multiple of 4) at a time, every slice but the last without padding, so a 16
 * MB image never sits decoded whole; other text is decoded at once, as
 * `Buffer.from(data, 'base64')` reads it.
 */
export const inlineBlobId = (mediaType: string, data: string, sliceChars: number = BASE64_SLICE_CHARS): BlobId => {
  if (data.length <= sliceChars || sliceChars % 4 !== 0 || !isCanonicalBase64(data)) return blobId(mediaType, Buffer.from(data, 'base64'));
  const h = blobIdHasher(mediaType);
  for (let i = 0; i < data.length; i += sliceChars) h.update(Buffer.from(data.slice(i, i + sliceChars), 'base64'));
  return h.id();
};

const blobSource = (mediaType: string, source: ImageSource): ImageSource =>
  source.type === 'inline' ? { type: 'blob', blobId: inlineBlobId(mediaType, source.data) } : source;

const blockForm = (b: ContentBlock): ContentBlock => (b.type === 'image' ? { ...b, source: blobSource(b.mediaType, b.source) } : b);
const hasInline = (blocks: readonly ContentBlock[]): boolean => blocks.some((b) => b.type === 'image' && b.source.type === 'inline');

/**
 * The digest form of one message: `createdAt` removed from every role, `origin`
 * and `usage` from assistant messages, inline image sources replaced by
 * `{ type: 'blob', blobId }`; everything else verbatim.
 */
export const digestForm = (m: Message | MessageInput): unknown => {
  switch (m.role) {
    case 'system':
    case 'system_notice': {
      const { createdAt: _c, ...rest } = m;
      return rest;
    }
    case 'user': {
      const { createdAt: _c, ...rest } = m;
      return hasInline(rest.content) ? { ...rest, content: rest.content.map(blockForm) } : rest;
    }
    case 'assistant': {
      const { createdAt: _c, origin: _o, usage: _u, ...rest } = m;
      return rest;
    }
    case 'tool_results': {
      const { createdAt: _c, ...rest } = m;
      return rest.results.some((r) => hasInline(r.content))
        ? { ...rest, results: rest.results.map((r) => ({ ...r, content: r.content.map(blockForm) })) }
        : rest;
    }
  }
};

/** Per message object: `,` then the UTF-8 of its digest text (`commaMessageBytes`). */
const bytesMemo = new WeakMap<object, Uint8Array>();

/** The byte `,` (0x2c). */
const COMMA_BYTE = 0x2c;

/**
 * `,` then the UTF-8 of `s`. Short texts are carved from a shared slab (one
 * buffer per few hundred messages instead of one each: fewer buffers for the
 * collector to track).
 */
const SLAB = 256 * 1024;
let slab = new Uint8Array(SLAB);
let slabPos = 0;
const encodeUtf8AfterComma = (s: string): Uint8Array => {
  const max = s.length * 3 + 1; // UTF-8 takes at most 3 bytes per UTF-16 code unit
  if (max > SLAB / 16) {
    // A long text gets its own buffer of the exact size, encoded in place after the `,`.
    const out = new Uint8Array(1 + Buffer.byteLength(s, 'utf8'));
    out[0] = COMMA_BYTE;
    encoder.encodeInto(s, out.subarray(1));
    return out;
  }
  if (slabPos + max > SLAB) {
    slab = new Uint8Array(SLAB);
    slabPos = 0;
  }
  slab[slabPos] = COMMA_BYTE;
  const { written } = encoder.encodeInto(s, slab.subarray(slabPos + 1));
  const out = slab.subarray(slabPos, slabPos + 1 + written);
  slabPos += 1 + written;
  return out;
};

const omitCreatedAt = (k: string): boolean => k === 'createdAt';
const omitAssistant = (k: string): boolean => k === 'createdAt' || k === 'origin' || k === 'usage';

/** Whether `blocks` is an array of plain objects none of which is an inline image (`undefined`: not that shape). */
const noInlineImage = (blocks: unknown): boolean => {
  if (!Array.isArray(blocks)) return false;
  for (const b of blocks) {
    if (typeof b !== 'object' || b === null) return false;
    const x = b as { type?: unknown; source?: unknown };
    if (x.type === 'image' && (typeof x.source !== 'object' || x.source === null || (x.source as { type?: unknown }).type !== 'blob')) return false;
  }
  return true;
};

/**
 * When the digest form of `m` is `m` without some top-level members (no inline
 * image to replace), the predicate naming them; `undefined` otherwise.
 */
const dropOnly = (m: Message | MessageInput): ((k: string) => boolean) | undefined => {
  switch ((m as { role?: unknown }).role) {
    case 'system':
    case 'system_notice':
      return omitCreatedAt;
    case 'assistant':
      return omitAssistant;
    case 'user':
      return noInlineImage((m as { content?: unknown }).content) ? omitCreatedAt : undefined;
    case 'tool_results': {
      const results = (m as { results?: unknown }).results;
      if (!Array.isArray(results)) return undefined;
      for (const r of results) if (typeof r !== 'object' || r === null || !noInlineImage((r as { content?: unknown }).content)) return undefined;
      return omitCreatedAt;
    }
    default:
      return undefined;
  }
};

/**
 * `,` then the UTF-8 of the canonical JSON of `digestForm(m)`: what the
 * incremental accumulator absorbs for every message after the first, in one
 * update. Memoized per message object (messages are frozen once in a
 * transcript, so the memo stays right). Throws if `m` is not a valid message:
 * a hand-built invalid value is a caller bug.
 *
 * Without an inline image, the digest form only drops top-level members, so the
 * message is serialized once for both its digest form and its full canonical
 * JSON, which `canonicalJson` then reuses for a frozen message (inside a log
 * record or a snapshot chunk). With `memo` false neither is kept (a memo
 * already made is still used): for messages read only to resume a digest (a
 * fork's prefix since its checkpoint), where keeping them costs about as much
 * as serializing them.
 */
export const commaMessageBytes = (m: Message | MessageInput, memo = true): Uint8Array => {
  let b = bytesMemo.get(m);
  if (b === undefined) {
    const omit = dropOnly(m);
    const forms = omit === undefined ? undefined : canonicalWithout(m, omit, memo);
    b = encodeUtf8AfterComma(forms !== undefined ? forms.without : canonicalJsonUnsafe(digestForm(m)));
    if (memo && Object.isFrozen(m)) bytesMemo.set(m, b);
  }
  return b;
};

/** UTF-8 of the canonical JSON of `digestForm(m)` (`commaMessageBytes` without its `,`). Throws if `m` is not a valid message. */
export const canonicalMessageBytes = (m: Message | MessageInput): Uint8Array => commaMessageBytes(m).subarray(1);

const OPEN = encoder.encode('[');
const COMMA = encoder.encode(',');
const CLOSE = encoder.encode(']');

/** The transcript digest (revision) of `messages`; `[]` gives `sha256:4f53cd…b945`. `port`: the SHA-256 implementation (default `node:crypto` when present). */
export const transcriptDigest = (messages: readonly (Message | MessageInput)[], port: Sha256Port = defaultSha256): Digest => {
  const h = port.create();
  h.update(OPEN);
  // After the first message, the `,` and the message in one update (as the accumulator absorbs them).
  for (let i = 0; i < messages.length; i++) h.update(i > 0 ? commaMessageBytes(messages[i]!) : canonicalMessageBytes(messages[i]!));
  h.update(CLOSE);
  return `sha256:${h.digestHex()}`;
};

/** Byte framing shared with the incremental accumulator. */
export const framing = { OPEN, COMMA, CLOSE } as const;
