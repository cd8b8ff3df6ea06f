/**
 * The digest of user metadata for the state digest (`stateDigest.ts`,
 * `parts.metadata`): `sha256:` + hex(SHA-256(UTF-8(canonical JSON of the
 * metadata))), the same digest as hashing `canonicalJsonUnsafe(metadata)`,
 * computed without serializing the whole object for each record.
 *
 * The canonical text is `{` + the members `"key":value` sorted by key (UTF-16
 * code units, RFC 8785) joined by `,` + `}`. SHA-256 absorbs its input in
 * order, so each metadata object's text can keep the hash state after a
 * prefix of its members (`MetadataText`): a `metadataWith`/`metadataWithout`
 * (`metadata.ts`) hands that text over to the object it makes (`noteSet`,
 * `noteRemoved`), and when the change is at or after the prefix, the new
 * object's digest absorbs only the members from the prefix on. Setting keys in
 * ascending order (an import's labels, `label:<name>` sorted by name) thus
 * costs each record the new member and the members after it, not the whole
 * metadata; any other change costs what serializing it whole did.
 *
 * The handover is a move: the object it came from keeps its memoized digest
 * but loses its text (a second change of the same object starts from
 * scratch), so no chain of earlier objects is kept alive. A draft
 * (`metadataDraft`) changed in place hands its text to itself: `next` is
 * `base`, and its memoized digest is dropped.
 */
import { canonicalJsonUnsafe } from '../model/json.ts';
import { defaultSha256, type Sha256Hash } from '../model/hashing.ts';
import type { Digest } from '../model/scalars.ts';
import type { Metadata } from './metadata.ts';

/** A metadata object's sorted keys, and the hash of its canonical text up to member `prefix` (exclusive). */
interface MetadataText {
  /** The object's own keys in canonical order (owned: moved, not copied, to the object a change makes). */
  readonly keys: string[];
  /** Members `[0, prefix)` of `keys` are absorbed into `state` (`{` first, `,` between members). */
  prefix: number;
  state: Sha256Hash;
  /** Where the hashed prefix should reach once the digest is next computed (one past the last changed member). */
  reach: number;
}

const digests = new WeakMap<Metadata, Digest>();
const texts = new WeakMap<Metadata, MetadataText>();
const encoder = new TextEncoder();
/** Characters gathered before they are encoded and absorbed. */
const FLUSH_CHARS = 1 << 16;

/** The index of the first key in sorted `keys` that is not below `key` (binary search, UTF-16 code unit order). */
const lowerBound = (keys: readonly string[], key: string): number => {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

/**
 * The canonical text of one metadata member, `"key":value` (RFC 8785), as one
 * flat string (joined, not concatenated: a text kept for later, like the
 * snapshot's `MetadataMemo`, holds no rope of its parts). The digest here and
 * the snapshot (`store/snapshot.ts`) both write members with it. Throws, as
 * `canonicalJsonUnsafe` does, on a value that is not JSON.
 */
export const metadataMemberText = (key: string, value: unknown): string => [canonicalJsonUnsafe(key), canonicalJsonUnsafe(value)].join(':');

/** A text whose hash has absorbed only `{`. */
const freshState = (): Sha256Hash => {
  const h = defaultSha256.create();
  h.update(encoder.encode('{'));
  return h;
};

/** Absorbs members `[from, to)` of `m` (in the order of `keys`) into `h`, each after a `,` but the first member of the object. */
const absorb = (h: Sha256Hash, m: Metadata, keys: readonly string[], from: number, to: number): void => {
  let pending = '';
  for (let i = from; i < to; i++) {
    const k = keys[i]!;
    pending += `${i === 0 ? '' : ','}${metadataMemberText(k, m[k])}`;
    if (pending.length >= FLUSH_CHARS) {
      h.update(encoder.encode(pending));
      pending = '';
    }
  }
  if (pending !== '') h.update(encoder.encode(pending));
};

/** Resets `t`'s hash to the start (a change before its hashed prefix). */
const restart = (t: MetadataText): void => {
  t.state = freshState();
  t.prefix = 0;
};

/** Takes `base`'s text away from it, if it has one. */
const take = (base: Metadata): MetadataText | undefined => {
  const t = texts.get(base);
  if (t !== undefined) texts.delete(base);
  return t;
};

/** `next` is a copy of `base` with the same members (`metadataDraft`): moves `base`'s text to `next`. */
export const noteCopied = (base: Metadata, next: Metadata): void => {
  const t = take(base);
  if (t !== undefined) texts.set(next, t);
};

/** `next` is `base` with `key` set (`metadataWith`; `base` itself when a draft changed in place): moves `base`'s text to `next`, its keys and hashed prefix updated. */
export const noteSet = (base: Metadata, next: Metadata, key: string): void => {
  digests.delete(next);
  const t = take(base);
  if (t === undefined) return;
  const i = lowerBound(t.keys, key);
  if (t.keys[i] !== key) t.keys.splice(i, 0, key);
  if (i < t.prefix) restart(t);
  t.reach = i + 1;
  texts.set(next, t);
};

/** `next` is `base` without `key` (`metadataWithout`; `base` itself when a draft changed in place): moves `base`'s text to `next`, its keys and hashed prefix updated. */
export const noteRemoved = (base: Metadata, next: Metadata, key: string): void => {
  digests.delete(next);
  const t = take(base);
  if (t === undefined) return;
  const i = lowerBound(t.keys, key);
  if (t.keys[i] === key) t.keys.splice(i, 1);
  if (i < t.prefix) restart(t);
  t.reach = i;
  texts.set(next, t);
};

/** The digest of the canonical JSON of `m` (module docstring), memoized per object. Throws, as `canonicalJsonUnsafe` does, on a value that is not JSON. */
export const metadataDigest = (m: Metadata): Digest => {
  const known = digests.get(m);
  if (known !== undefined) return known;
  let t = texts.get(m);
  if (t === undefined) {
    t = { keys: Object.keys(m).sort(), prefix: 0, state: freshState(), reach: 0 };
    texts.set(m, t);
  }
  const n = t.keys.length;
  const reach = Math.min(t.reach, n);
  if (reach > t.prefix) {
    absorb(t.state, m, t.keys, t.prefix, reach);
    t.prefix = reach;
  }
  const h = t.state.copy();
  absorb(h, m, t.keys, t.prefix, n);
  h.update(encoder.encode('}'));
  const d: Digest = `sha256:${h.digestHex()}`;
  digests.set(m, d);
  return d;
};
