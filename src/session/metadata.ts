/**
 * User metadata and the reserved keys (machines.md §4).
 *
 * A key is reserved when, after ASCII lower-casing, it equals `palimpsest` or
 * starts with `palimpsest.`. Reserved keys never appear in `session.metadata`;
 * snapshots and `show --json` put machine state under them.
 */
import type { Json } from '../model/json.ts';
import { machineReservedKeys } from '../machines/registry.ts';
import { noteRemoved, noteSet } from './metadataDigest.ts';

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

/** User metadata: a null-prototype map from non-empty keys to JSON values. */
export type Metadata = Readonly<Record<string, Json>>;

/** A fresh, unfrozen null-prototype copy of `entries` without the key `omit` (none when `undefined`). */
const copyWithout = (entries: Readonly<Record<string, Json>>, omit: string | undefined): Record<string, Json> => {
  const out = Object.create(null) as Record<string, Json>;
  for (const k of Object.keys(entries)) if (k !== omit) out[k] = entries[k] as Json;
  return out;
};

/** A fresh, frozen null-prototype copy of `entries`. */
export const metadataFrom = (entries: Readonly<Record<string, Json>>): Metadata => Object.freeze(copyWithout(entries, undefined));

/**
 * `m` with `key` set (a new key last, an existing one in its place), copied
 * once; its digest's hashed prefix moves over from `m` (`metadataDigest.ts`).
 */
export const metadataWith = (m: Metadata, key: string, value: Json): Metadata => {
  const out = copyWithout(m, undefined);
  out[key] = value;
  Object.freeze(out);
  noteSet(m, out, key);
  return out;
};

/** `m` without `key`; its digest's hashed prefix moves over from `m` (`metadataDigest.ts`). */
export const metadataWithout = (m: Metadata, key: string): Metadata => {
  const out = copyWithout(m, key);
  Object.freeze(out);
  noteRemoved(m, out, key);
  return out;
};

/** Whether `m` has its own `key`. */
export const hasKey = (m: Metadata, key: string): boolean => Object.prototype.hasOwnProperty.call(m, key);
