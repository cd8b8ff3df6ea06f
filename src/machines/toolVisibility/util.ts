/**
 * Small pure helpers shared by the tool-visibility modules: canonical name lists,
 * name-keyed entry lists, provenance equality and structural equality of the
 * plain JSON values the machine stores.
 */
import type { Provenance } from './codecs.ts';

/** Sorts by UTF-16 code unit (JavaScript's default string order). */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `names` sorted (UTF-16 code unit order) and deduplicated, as a new array. */
export const sortedUnique = (names: readonly string[]): string[] => {
  const out = [...new Set(names)];
  out.sort(compareStrings);
  return out;
};

/** Whether `names` is strictly increasing: sorted and free of duplicates. */
export const isCanonical = (names: readonly string[]): boolean => {
  for (let i = 1; i < names.length; i++) {
    if (!(names[i - 1]! < names[i]!)) return false;
  }
  return true;
};

/** Whether a list of named entries is strictly increasing by `name`. */
export const isCanonicalByName = (entries: readonly { readonly name: string }[]): boolean => {
  for (let i = 1; i < entries.length; i++) {
    if (!(entries[i - 1]!.name < entries[i]!.name)) return false;
  }
  return true;
};

/** Equality of two optional provenances: both absent, or both present with equal fields. */
export const provenanceEq = (a: Provenance | undefined, b: Provenance | undefined): boolean =>
  a === undefined || b === undefined ? a === b : a.kind === b.kind && a.sourceId === b.sourceId;

/** A fresh `{ kind, sourceId }` (never aliases a caller's object). */
export const copyProvenance = (p: Provenance): Provenance => ({ kind: p.kind, sourceId: p.sourceId });

/** A stable string key for an optional provenance (used for sorting and set membership). */
export const provenanceKey = (p: Provenance | undefined): string => (p === undefined ? '' : JSON.stringify([p.kind, p.sourceId]));

/** A name list joined with `", "` (for messages and notices). */
export const joinNames = (names: readonly string[]): string => names.join(', ');

/** The first entry named `name`, if any. */
export const findByName = <T extends { readonly name: string }>(entries: readonly T[], name: string): T | undefined => {
  for (const e of entries) if (e.name === name) return e;
  return undefined;
};

/**
 * Structural equality of plain JSON-like values: arrays element-wise, objects by
 * key set (members set to `undefined` count as absent) and member values.
 */
export const jsonEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  if (ak.length !== bk.length) return false;
  for (const k of ak) {
    if (!Object.prototype.hasOwnProperty.call(bo, k) || !jsonEqual(ao[k], bo[k])) return false;
  }
  return true;
};
