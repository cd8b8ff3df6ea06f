/**
 * User metadata and the reserved keys (machines.md §4).
 *
 * A key is reserved when, after ASCII lower-casing, it equals `palimpsest` or
 * starts with `palimpsest.`. Reserved keys never appear in `session.metadata`;
 * snapshots and `show --json` put machine state under them.
 */
import type { Json } from '../model/json.ts';
import { machineReservedKeys } from '../machines/registry.ts';
import { deepFreeze } from '../transcript/transcript.ts';
import { noteCopied, noteRemoved, noteSet } from './metadataDigest.ts';

/**
 * The reserved keys of snapshots and flattened documents: each registered
 * machine's state (`machines/registry.ts`) and the transcript history.
 */
export const RESERVED_KEYS = Object.freeze({ ...machineReservedKeys, transcriptHistory: 'palimpsest.transcriptHistory' } as const);

const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** Whether `key` is reserved for palimpsest (`palimpsest`, `palimpsest.*`, ASCII case-insensitive). */
export const isReservedKey = (key: string): boolean => {
  const k = asciiLower(key);
  return k === 'palimpsest' || k.startsWith('palimpsest.');
};

/**
 * User metadata: a null-prototype map from non-empty keys to JSON values.
 * Frozen, and so is every value in it: a value is deep-frozen in place when it
 * is set (`metadataWith`, `metadataFrom`), like an appended message, so what
 * a snapshot wrote for it stays true while the value is the same object
 * (`snapshot.ts`: `UserMetadataMemo`'s chunks, `MetadataMemo`'s texts).
 */
export type Metadata = Readonly<Record<string, Json>>;

/** A fresh, unfrozen null-prototype copy of `entries` without the key `omit` (none when `undefined`). */
const copyWithout = (entries: Readonly<Record<string, Json>>, omit: string | undefined): Record<string, Json> => {
  const out = Object.create(null) as Record<string, Json>;
  for (const k of Object.keys(entries)) if (k !== omit) out[k] = entries[k] as Json;
  return out;
};

/** A fresh, frozen null-prototype copy of `entries`, each value deep-frozen in place. */
export const metadataFrom = (entries: Readonly<Record<string, Json>>): Metadata => {
  const out = copyWithout(entries, undefined);
  for (const k of Object.keys(out)) deepFreeze(out[k]);
  return Object.freeze(out);
};

/**
 * Draft metadata: unfrozen copies that one run of commands owns
 * (`Session.applyAll`) and that `metadataWith` / `metadataWithout` change in
 * place instead of copying. A run that never exposes its intermediate states
 * thus copies the metadata once, not once per `metadata_set` (5,000 pi
 * labels on a 5,000-key metadata copied ~12.5 M members). Only
 * `metadataDraft` adds to it, only `metadataSealed` removes; a weak set, so a
 * draft dropped on a refusal is collected.
 */
const drafts = new WeakSet<Metadata>();

/**
 * An owned, unfrozen copy of `m` (same keys in the same order) that the
 * metadata changes below edit in place until `metadataSealed`; its digest's
 * hashed prefix moves over from `m` (`metadataDigest.ts`). The caller must
 * not let a state holding it be seen before it is sealed.
 */
export const metadataDraft = (m: Metadata): Metadata => {
  const out = copyWithout(m, undefined);
  drafts.add(out);
  noteCopied(m, out);
  return out;
};

/**
 * Whether a command of `type` changes the metadata (`metadata_set`,
 * `metadata_removed`, `metadata_backfilled`): where `Session.applyAll` and
 * `replayRecords` open a draft.
 */
export const changesMetadata = (type: unknown): boolean => type === 'metadata_set' || type === 'metadata_removed' || type === 'metadata_backfilled';

/** Ends `m`'s draft (if it is one): frozen, and changed by copy from now on. Returns `m`. */
export const metadataSealed = (m: Metadata): Metadata => {
  if (drafts.delete(m)) Object.freeze(m);
  return m;
};

/**
 * `m` with `key` set to `value`, deep-frozen in place (a new key last, an
 * existing one in its place): copied once, or for a draft (`metadataDraft`)
 * `m` itself changed in place; its digest's hashed prefix moves over from `m`
 * (`metadataDigest.ts`).
 */
export const metadataWith = (m: Metadata, key: string, value: Json): Metadata => {
  const out = drafts.has(m) ? (m as Record<string, Json>) : copyWithout(m, undefined);
  out[key] = deepFreeze(value);
  if (out !== m) Object.freeze(out);
  noteSet(m, out, key);
  return out;
};

/** `m` without `key` (a copy, or for a draft `m` itself changed in place); its digest's hashed prefix moves over from `m` (`metadataDigest.ts`). */
export const metadataWithout = (m: Metadata, key: string): Metadata => {
  let out: Record<string, Json>;
  if (drafts.has(m)) {
    out = m as Record<string, Json>;
    delete out[key];
  } else out = Object.freeze(copyWithout(m, key)) as Record<string, Json>;
  noteRemoved(m, out, key);
  return out;
};

/** Whether `m` has its own `key`. */
export const hasKey = (m: Metadata, key: string): boolean => Object.prototype.hasOwnProperty.call(m, key);
