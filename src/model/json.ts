/**
 * JSON values (model.md §1) and RFC 8785 canonical JSON (model.md §6).
 *
 * `Json` is `null`, a boolean, a finite number, a well-formed string, an array of
 * `Json`, or a plain object (prototype `Object.prototype` or `null`) with
 * well-formed keys and `Json` values. An object member set to `undefined` counts
 * as absent, as in `JSON.stringify`.
 *
 * `canonicalJson` validates and serializes in one pass (RFC 8785 / JCS: members
 * sorted by UTF-16 code units, ECMAScript number and string forms, no
 * whitespace; see `canonical.ts`); a value that is not JSON is walked again,
 * iteratively, to name the first offending path. The tests check the output against the `canonicalize`
 * package (model.md §6 names it; its recursion and double walk were the largest
 * cost of an append, see ARCHITECTURE.md).
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { fail, identityCodec, isPlainObject, isWellFormed, keyPath, type Codec } from './decode.ts';
import { BAIL, MAX_JSON_DEPTH, hasHiddenToJson, writeCanonical } from './canonical.ts';

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Why a value is not canonical JSON. */
export type CanonicalJsonReason = 'undefined' | 'not_finite' | 'lone_surrogate' | 'not_json' | 'cycle';

/** `canonicalJson` failure: `path` like `$.a[2]`, `reason` as in model.md §6. */
export interface CanonicalJsonError {
  readonly _tag: 'CanonicalJsonError';
  readonly path: string;
  readonly reason: CanonicalJsonReason;
  readonly message: string;
}

export { MAX_JSON_DEPTH } from './canonical.ts';

interface Problem {
  readonly path: string;
  readonly reason: CanonicalJsonReason;
  readonly what: string;
}

/**
 * Finds the first value under `root` that is not JSON, walking iteratively (no
 * recursion, so depth is bounded by memory, not the call stack). `undefined` as
 * an object member is allowed (absent); anywhere else it is a problem.
 */
export const jsonProblem = (root: unknown, rootPath = '$'): Problem | undefined => {
  // Each frame: a value to check with its path, or an exit marker for a container.
  const stack: Array<{ v: unknown; p: string; d: number; exit?: true }> = [{ v: root, p: rootPath, d: 0 }];
  const open = new Set<object>();
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const v = frame.v;
    if (frame.exit) {
      open.delete(v as object);
      continue;
    }
    const p = frame.p;
    switch (typeof v) {
      case 'string':
        if (!isWellFormed(v)) return { path: p, reason: 'lone_surrogate', what: 'a string with a lone surrogate' };
        continue;
      case 'number':
        if (!Number.isFinite(v)) return { path: p, reason: 'not_finite', what: `the number ${String(v)}` };
        continue;
      case 'boolean':
        continue;
      case 'undefined':
        return { path: p, reason: 'undefined', what: 'undefined' };
      case 'object':
        break;
      default:
        return { path: p, reason: 'not_json', what: `a ${typeof v}` };
    }
    if (v === null) continue;
    if (frame.d >= MAX_JSON_DEPTH) return { path: p, reason: 'not_json', what: `a value nested deeper than ${MAX_JSON_DEPTH} levels` };
    if (open.has(v)) return { path: p, reason: 'cycle', what: 'a reference to an enclosing value' };
    if (Array.isArray(v)) {
      if (hasHiddenToJson(v)) return { path: p, reason: 'not_json', what: 'an array with a toJSON method' };
      open.add(v);
      stack.push({ v, p, d: frame.d, exit: true });
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], p: `${p}[${i}]`, d: frame.d + 1 });
      continue;
    }
    if (!isPlainObject(v)) {
      const ctor = (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      return { path: p, reason: 'not_json', what: `a non-plain object (${ctor})` };
    }
    if (hasHiddenToJson(v)) return { path: p, reason: 'not_json', what: 'an object with a non-enumerable toJSON method' };
    open.add(v);
    stack.push({ v, p, d: frame.d, exit: true });
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!;
      const kp = `${p}${keyPath(k)}`;
      if (!isWellFormed(k)) return { path: kp, reason: 'lone_surrogate', what: 'a key with a lone surrogate' };
      const member = v[k];
      if (member === undefined) continue;
      stack.push({ v: member, p: kp, d: frame.d + 1 });
    }
  }
  return undefined;
};

/**
 * Whether `v` (at nesting `depth`) is JSON: the same rules as `jsonProblem`, as one
 * recursive boolean pass that builds no paths. Recursion is bounded by
 * `MAX_JSON_DEPTH` (a cycle runs into the bound and is reported by `jsonProblem`).
 */
const jsonOk = (v: unknown, depth: number): boolean => {
  switch (typeof v) {
    case 'string':
      return v.isWellFormed();
    case 'number':
      return Number.isFinite(v);
    case 'boolean':
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (v === null) return true;
  if (depth >= MAX_JSON_DEPTH) return false;
  if (Array.isArray(v)) {
    if (hasHiddenToJson(v)) return false;
    for (let i = 0; i < v.length; i++) if (!jsonOk(v[i], depth + 1)) return false;
    return true;
  }
  if (!isPlainObject(v) || hasHiddenToJson(v)) return false;
  const keys = Object.keys(v);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (!k.isWellFormed()) return false;
    const member = v[k];
    if (member !== undefined && !jsonOk(member, depth + 1)) return false;
  }
  return true;
};

/** Whether `u` is a JSON value (see `Json`). */
export const isJson = (u: unknown): u is Json => jsonOk(u, 0);

/** The `Json` codec: any JSON value; reasons `not_json`, `invalid_number` (non-finite), `lone_surrogate`. */
export const JsonCodec: Codec<Json> = identityCodec(
  'Json',
  (u, c) => {
    const problem = jsonProblem(u, '');
    if (problem === undefined) return t.success(u as Json);
    const reason = problem.reason === 'not_finite' ? 'invalid_number' : problem.reason === 'lone_surrogate' ? 'lone_surrogate' : 'not_json';
    const ctx = problem.path === '' ? c : t.appendContext(c, problem.path, JsonCodec, undefined);
    return fail(u, ctx, reason, 'Json', `not JSON: ${problem.what}`);
  },
  isJson,
);

/**
 * RFC 8785 canonical JSON of `value` (model.md §6), or why it is not JSON.
 * `toJSON` is never called; `undefined` members are absent; `-0` is `0`.
 * The fast path serializes in one pass; only a value that is not JSON is walked
 * again (`jsonProblem`) to name the offending path.
 */
export const canonicalJson = (value: unknown): E.Either<CanonicalJsonError, string> => {
  try {
    return E.right(writeCanonical(value));
  } catch (e) {
    if (e !== BAIL && !(e instanceof RangeError)) throw e;
  }
  const problem = jsonProblem(value) ?? { path: '$', reason: 'not_json' as const, what: 'a value' };
  return E.left({ _tag: 'CanonicalJsonError', path: problem.path, reason: problem.reason, message: `cannot canonicalize ${problem.what} at ${problem.path}` });
};

/**
 * Canonical JSON of a value already known to be JSON (decoded by a codec).
 * Throws on a non-JSON value: that is a caller bug, not bad input.
 */
export const canonicalJsonUnsafe = (value: unknown): string => {
  const r = canonicalJson(value);
  if (E.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};

const encoder = new TextEncoder();
/** UTF-8 bytes of the canonical JSON of a known-JSON value. */
export const canonicalBytes = (value: unknown): Uint8Array => encoder.encode(canonicalJsonUnsafe(value));
