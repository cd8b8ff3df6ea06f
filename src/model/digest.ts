/**
 * Transcript digests (model.md §7): the revision id of a transcript.
 *
 * `T(ms) = "[" + J(d(m0)) + "," + ... + "]"`, `transcriptDigest(ms) = "sha256:" + hex(SHA-256(UTF-8(T(ms))))`
 * with `J` = RFC 8785 canonical JSON and `d` = `digestForm` (createdAt, origin and
 * usage removed; inline images replaced by their blob id).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { canonicalJsonUnsafe } from './json.ts';
import type { ContentBlock, ImageSource } from './content.ts';
import type { Message, MessageInput } from './message.ts';
import type { BlobId, Digest } from './scalars.ts';

const encoder = new TextEncoder();
const SEP = new Uint8Array([0]);

/** `"sha256:" + hex(SHA-256(UTF-8(mediaType) || 0x00 || bytes))` (model.md §7.2). */
export const blobId = (mediaType: string, bytes: Uint8Array): BlobId => {
  const h = sha256.create();
  h.update(encoder.encode(mediaType));
  h.update(SEP);
  h.update(bytes);
  return `sha256:${bytesToHex(h.digest())}`;
};

/** `sha256:<hex>` of raw bytes. */
export const sha256Digest = (bytes: Uint8Array): Digest => `sha256:${bytesToHex(sha256(bytes))}`;

const blobSource = (mediaType: string, source: ImageSource): ImageSource =>
  source.type === 'inline' ? { type: 'blob', blobId: blobId(mediaType, Buffer.from(source.data, 'base64')) } : source;

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

const bytesMemo = new WeakMap<object, Uint8Array>();

/**
 * UTF-8 of the canonical JSON of `digestForm(m)`, memoized per message object
 * (messages are frozen once in a transcript, so the memo stays right).
 * Throws if `m` is not a valid message: a hand-built invalid value is a caller bug.
 */
export const canonicalMessageBytes = (m: Message | MessageInput): Uint8Array => {
  let b = bytesMemo.get(m);
  if (b === undefined) {
    b = encoder.encode(canonicalJsonUnsafe(digestForm(m)));
    if (Object.isFrozen(m)) bytesMemo.set(m, b);
  }
  return b;
};

const OPEN = encoder.encode('[');
const COMMA = encoder.encode(',');
const CLOSE = encoder.encode(']');

/** The transcript digest (revision) of `messages`; `[]` gives `sha256:4f53cd…b945`. */
export const transcriptDigest = (messages: readonly (Message | MessageInput)[]): Digest => {
  const h = sha256.create();
  h.update(OPEN);
  for (let i = 0; i < messages.length; i++) {
    if (i > 0) h.update(COMMA);
    h.update(canonicalMessageBytes(messages[i]!));
  }
  h.update(CLOSE);
  return `sha256:${bytesToHex(h.digest())}`;
};

/** Byte framing shared with the incremental accumulator. */
export const framing = { OPEN, COMMA, CLOSE } as const;
