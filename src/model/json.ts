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
 * whitespace); a value that is not JSON is walked again, iteratively, to name
 * the first offending path. The tests check the output against the `canonicalize`
 * package (model.md §6 names it; its recursion and double walk were the largest
 * cost of an append, see ARCHITECTURE.md).
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { codec, fail, isPlainObject, isWellFormed, keyPath, type Codec } from './decode.ts';

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

/**
 * The deepest nesting of arrays and objects accepted (levels). Serializers and
 * `JSON.stringify` recurse, so a deeper value would overflow the stack; it is
 * refused as `not_json` instead.
 */
export const MAX_JSON_DEPTH = 1000;

interface Problem {
  readonly path: string;
  readonly reason: CanonicalJsonReason;
  readonly what: string;
}

/**
 * Whether serializing `v` would call a `toJSON` method the member walk does not see:
 * any `toJSON` on an array (`canonicalize`, like `JSON.stringify`, calls it), or a
 * non-enumerable / inherited one on a plain object. An own enumerable `toJSON`
 * member is a function value the walk reports at `.toJSON`. toJSON is never called
 * (model.md §6), so such values are `not_json`.
 */
const hasHiddenToJson = (v: object): boolean =>
  typeof (v as { toJSON?: unknown }).toJSON === 'function' && (Array.isArray(v) || !Object.prototype.propertyIsEnumerable.call(v, 'toJSON'));

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

/** Whether `u` is a JSON value (see `Json`). */
export const isJson = (u: unknown): u is Json => jsonProblem(u) === undefined;

/** The `Json` codec: any JSON value; reasons `not_json`, `invalid_number` (non-finite), `lone_surrogate`. */
export const JsonCodec: Codec<Json> = codec(
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

/** Thrown inside `writeCanonical` to abandon the fast path; never escapes this module. */
const BAIL: unique symbol = Symbol('not canonical JSON');

/**
 * One recursive pass that validates and serializes at once (RFC 8785 / JCS):
 * members sorted by UTF-16 code units (`Array.prototype.sort` without a
 * comparator), strings and numbers as ECMAScript `JSON.stringify` writes them
 * (so `-0` is `0`), no whitespace, `undefined` members skipped. Anything that is
 * not JSON (see `jsonProblem`) throws `BAIL`; depth is bounded by
 * `MAX_JSON_DEPTH`, so recursion cannot overflow the stack (a cycle hits the
 * bound too). Checked against the `canonicalize` package on random JSON in
 * `test/model/json.test.ts`.
 */
const writeCanonical = (v: unknown, depth: number): string => {
  switch (typeof v) {
    case 'string':
      if (!v.isWellFormed()) throw BAIL;
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw BAIL;
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      break;
    default:
      throw BAIL;
  }
  if (v === null) return 'null';
  if (depth >= MAX_JSON_DEPTH || ((v as { toJSON?: unknown }).toJSON !== undefined && hasHiddenToJson(v))) throw BAIL;
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ',';
      out += writeCanonical(v[i], depth + 1);
    }
    return out + ']';
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) throw BAIL;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const member = o[k];
    if (member === undefined) continue;
    if (!k.isWellFormed()) throw BAIL;
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + writeCanonical(member, depth + 1);
    first = false;
  }
  return out + '}';
};

/**
 * RFC 8785 canonical JSON of `value` (model.md §6), or why it is not JSON.
 * `toJSON` is never called; `undefined` members are absent; `-0` is `0`.
 * The fast path serializes in one pass; only a value that is not JSON is walked
 * again (`jsonProblem`) to name the offending path.
 */
export const canonicalJson = (value: unknown): E.Either<CanonicalJsonError, string> => {
  try {
    return E.right(writeCanonical(value, 0));
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
