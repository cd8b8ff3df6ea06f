/**
 * The codec toolkit every stored or caller-supplied value goes through.
 *
 * Codecs are io-ts `Type`s, so every type in palimpsest is `t.TypeOf<typeof Codec>`.
 * io-ts's stock combinators report every failing branch of a union and strip
 * unknown keys silently (`t.exact`); model.md §8 asks for the opposite, so the
 * combinators here:
 *
 * - stop at the **first** failure in document order (object keys in the order the
 *   value holds them, then missing required keys in declared order);
 * - reject unknown keys (`unknown_field`) instead of dropping them;
 * - decode discriminated unions by dispatch on one field (`dispatch`), reporting a
 *   missing or unknown discriminant instead of listing every branch;
 * - never default anything: `null` is not a spelling of absent.
 *
 * A failure becomes a `DecodeError { path, reason, expected, message }` whose path
 * starts at `$` and adds `.field` or `[index]`, e.g. `$[41].content[2].type`.
 *
 * Two paths per codec built here: a fast validator (no io-ts context, no error
 * objects: it returns the decoded value or refuses) runs first; only when it
 * refuses does the reporting `validate` below run, so every error is the one the
 * reporting path names, and a value that decodes gives the same output on both.
 * Codecs built elsewhere with `codec(...)` take their own `validate` inside these.
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';

/** Why a value failed to decode (model.md §8). */
export type DecodeReason =
  | 'unknown_role'
  | 'unknown_block_type'
  | 'missing_field'
  | 'unknown_field'
  | 'wrong_type'
  | 'invalid_number'
  | 'lone_surrogate'
  | 'not_json'
  | 'invalid_value';

/** A typed decode failure: `path` like `$[3].content[0].type`, `expected` names the codec or rule. */
export interface DecodeError {
  readonly _tag: 'DecodeError';
  readonly path: string;
  readonly reason: DecodeReason;
  readonly expected: string;
  readonly message: string;
}

/** An io-ts codec whose input is `unknown` and whose output type equals its encoded type. */
export type Codec<A> = t.Type<A, A, unknown>;

interface FailureDetail {
  readonly reason: DecodeReason;
  readonly expected: string;
  readonly detail?: string;
}

const detailKey = '\u0000palimpsest:';

/** Reports a failure at context `c` with a reason; the detail rides in io-ts's `message`. */
export const fail = <A>(u: unknown, c: t.Context, reason: DecodeReason, expected: string, detail?: string): t.Validation<A> =>
  t.failure(u, c, detailKey + JSON.stringify({ reason, expected, detail } satisfies FailureDetail));

/** The `$`-rooted path of a context built by these combinators. */
export const contextPath = (c: t.Context): string => {
  let path = '$';
  for (const entry of c) path += entry.key;
  return path;
};

const describe = (u: unknown): string => {
  if (u === null) return 'null';
  if (Array.isArray(u)) return 'an array';
  if (typeof u === 'string') return u.length > 40 ? `the string ${JSON.stringify(u.slice(0, 40))}…` : `the string ${JSON.stringify(u)}`;
  if (typeof u === 'number') return `the number ${String(u)}`;
  if (typeof u === 'object') return 'an object';
  return typeof u;
};

/** Turns io-ts `Errors` into one `DecodeError` (the first, which these combinators make the only one). */
export const toDecodeError = (errors: t.Errors): DecodeError => {
  const first = errors[0];
  if (first === undefined) {
    return { _tag: 'DecodeError', path: '$', reason: 'invalid_value', expected: 'value', message: 'decode failed at $' };
  }
  const path = contextPath(first.context);
  let detail: FailureDetail;
  if (first.message !== undefined && first.message.startsWith(detailKey)) {
    detail = JSON.parse(first.message.slice(detailKey.length)) as FailureDetail;
  } else {
    const last = first.context[first.context.length - 1];
    detail = { reason: 'invalid_value', expected: last?.type.name ?? 'value' };
  }
  const what = detail.detail ?? `expected ${detail.expected}, found ${describe(first.value)}`;
  return { _tag: 'DecodeError', path, reason: detail.reason, expected: detail.expected, message: `${detail.reason} at ${path}: ${what}` };
};

/** Decodes `u` with `codec`, mapping failures to a `DecodeError`. */
export const decodeWith = <A>(codec: Codec<A>, u: unknown): E.Either<DecodeError, A> => {
  const r = codec.decode(u);
  return E.isRight(r) ? r : E.left(toDecodeError(r.left));
};

/** Appends `key` (`.name` or `[i]`) to a context. */
export const at = (c: t.Context, key: string, codec: t.Decoder<unknown, unknown>, actual: unknown): t.Context =>
  t.appendContext(c, key, codec, actual);

/** What a fast validator returns when the value does not decode (the slow path then names the failure). */
const FAIL: unique symbol = Symbol('palimpsest: does not decode');
/**
 * A fast validator: the decoded value, or `FAIL`. It must accept exactly what the
 * codec's `validate` accepts and return the same value, but builds no io-ts
 * context and no error: a `FAIL` makes the codec run its slow `validate`, which
 * reports the failure (so errors are those of the slow path by construction).
 */
type Fast<A> = (u: unknown) => A | typeof FAIL;
const fastKey: unique symbol = Symbol('palimpsest: fast validate');
type WithFast<A> = Codec<A> & { [fastKey]?: Fast<A> };

/**
 * The fast validator of `c`: its own when built by this toolkit, otherwise one
 * that runs `c.validate` with a throwaway context.
 */
const fastOf = <A>(c: t.Decoder<unknown, A>): Fast<A> => {
  const own = (c as WithFast<A>)[fastKey];
  if (own !== undefined) return own;
  const generic: Fast<A> = (u) => {
    const r = c.validate(u, [{ key: '', type: c as unknown as t.Decoder<unknown, unknown>, actual: u }]);
    return E.isRight(r) ? r.right : FAIL;
  };
  (c as WithFast<A>)[fastKey] = generic;
  return generic;
};

/**
 * A codec whose `validate` tries `fast` first and runs `slow` (the reference
 * implementation, which builds contexts and errors) only when `fast` refuses.
 */
const make = <A>(name: string, slow: (u: unknown, c: t.Context) => t.Validation<A>, fast: Fast<A>, is?: (u: unknown) => u is A): Codec<A> => {
  const validate = (u: unknown, c: t.Context): t.Validation<A> => {
    const r = fast(u);
    return r === FAIL ? slow(u, c) : t.success(r);
  };
  const self: WithFast<A> = new t.Type<A, A, unknown>(name, is ?? ((u: unknown): u is A => fast(u) !== FAIL), validate, t.identity);
  self[fastKey] = fast;
  return self;
};

/** Builds a codec from a name, a guard-free validate function, and identity encode. */
export const codec = <A>(name: string, validate: (u: unknown, c: t.Context) => t.Validation<A>, is?: (u: unknown) => u is A): Codec<A> => {
  const self: Codec<A> = new t.Type<A, A, unknown>(
    name,
    is ?? ((u: unknown): u is A => E.isRight(validate(u, [{ key: '', type: self, actual: u }]))),
    validate,
    t.identity,
  );
  return self;
};

/**
 * A codec that decodes a value to itself: `accepts(u)` is a fast check that must
 * hold exactly when `validate` succeeds (and `validate` then returns `u`);
 * `validate` runs only when `accepts` refuses, to name the failure.
 */
export const identityCodec = <A>(name: string, validate: (u: unknown, c: t.Context) => t.Validation<A>, accepts: (u: unknown) => u is A): Codec<A> =>
  make(name, validate, (u) => (accepts(u) ? u : FAIL), accepts);

/** Whether a string is well-formed UTF-16 (no lone surrogates): ES2024 `String.prototype.isWellFormed`, native on Node >= 20. */
export const isWellFormed = (s: string): boolean => s.isWellFormed();

/** A well-formed string. */
export const str: Codec<string> = make(
  'string',
  (u, c) => {
    if (typeof u !== 'string') return fail(u, c, 'wrong_type', 'string');
    if (!isWellFormed(u)) return fail(u, c, 'lone_surrogate', 'well-formed string', 'the string has a lone surrogate');
    return t.success(u);
  },
  (u) => (typeof u === 'string' && u.isWellFormed() ? u : FAIL),
);

/** A well-formed, non-empty string. */
export const nonEmptyStr: Codec<string> = make(
  'non-empty string',
  (u, c) => {
    const r = str.validate(u, c);
    if (E.isLeft(r)) return r;
    return r.right.length === 0 ? fail(u, c, 'invalid_value', 'non-empty string', 'the string is empty') : r;
  },
  (u) => (typeof u === 'string' && u.length > 0 && u.isWellFormed() ? u : FAIL),
);

/** A boolean. */
export const bool: Codec<boolean> = make(
  'boolean',
  (u, c) => (typeof u === 'boolean' ? t.success(u) : fail(u, c, 'wrong_type', 'boolean')),
  (u) => (typeof u === 'boolean' ? u : FAIL),
);

/** A non-negative safe integer (counts, token counts, ms since the epoch, seq numbers). */
export const nat: Codec<number> = make(
  'non-negative safe integer',
  (u, c) => {
    if (typeof u !== 'number') return fail(u, c, 'wrong_type', 'non-negative safe integer');
    if (!Number.isSafeInteger(u) || u < 0) return fail(u, c, 'invalid_number', 'non-negative safe integer', `expected a non-negative safe integer, found ${String(u)}`);
    return t.success(u);
  },
  (u) => (typeof u === 'number' && Number.isSafeInteger(u) && u >= 0 ? u : FAIL),
);

/** A positive safe integer (seq numbers start at 1). */
export const positive: Codec<number> = make(
  'positive safe integer',
  (u, c) => {
    if (typeof u !== 'number') return fail(u, c, 'wrong_type', 'positive safe integer');
    if (!Number.isSafeInteger(u) || u < 1) return fail(u, c, 'invalid_number', 'positive safe integer', `expected a positive safe integer, found ${String(u)}`);
    return t.success(u);
  },
  (u) => (typeof u === 'number' && Number.isSafeInteger(u) && u >= 1 ? u : FAIL),
);

/** One of a closed set of string literals; `reason` is what an outsider value reports. */
export const oneOf = <L extends string>(name: string, values: readonly L[], reason: DecodeReason = 'invalid_value'): Codec<L> => {
  const set = new Set<string>(values);
  return make(
    name,
    (u, c) => {
      if (typeof u !== 'string') return fail(u, c, 'wrong_type', name);
      return set.has(u) ? t.success(u as L) : fail(u, c, reason, name, `expected one of ${values.join(', ')}, found ${JSON.stringify(u)}`);
    },
    (u) => (typeof u === 'string' && set.has(u) ? (u as L) : FAIL),
  );
};

/** The literal `value`. */
export const literal = <L extends string | number | boolean>(value: L): Codec<L> =>
  make(
    JSON.stringify(value),
    (u, c) => {
      if (typeof u !== typeof value) return fail(u, c, 'wrong_type', JSON.stringify(value));
      return u === value ? t.success(value) : fail(u, c, 'invalid_value', JSON.stringify(value), `expected ${JSON.stringify(value)}, found ${describe(u)}`);
    },
    (u) => (u === value ? value : FAIL),
  );

/** Adds a refinement: `check` returns an error detail or `undefined` when the value is fine. */
export const refine = <A>(base: Codec<A>, name: string, check: (a: A) => string | undefined, reason: DecodeReason = 'invalid_value'): Codec<A> => {
  const fastBase = fastOf(base);
  return make(
    name,
    (u, c) => {
      const r = base.validate(u, c);
      if (E.isLeft(r)) return r;
      const problem = check(r.right);
      return problem === undefined ? r : fail(u, c, reason, name, problem);
    },
    (u) => {
      const r = fastBase(u);
      return r !== FAIL && check(r) === undefined ? r : FAIL;
    },
  );
};

/** An array of `item`, optionally with a minimum length. Returns the input array when nothing changed. */
export const arrayOf = <A>(item: Codec<A>, opts: { readonly minLength?: number; readonly name?: string } = {}): Codec<A[]> => {
  const name = opts.name ?? `Array<${item.name}>`;
  const min = opts.minLength ?? 0;
  const fastItem = fastOf(item);
  return make(
    name,
    (u, c) => {
      if (!Array.isArray(u)) return fail(u, c, 'wrong_type', name);
      let out: A[] | undefined;
      for (let i = 0; i < u.length; i++) {
        const v: unknown = u[i];
        const r = item.validate(v, at(c, `[${i}]`, item, v));
        if (E.isLeft(r)) return r;
        if (r.right !== v) {
          out ??= u.slice(0, i) as A[];
        }
        if (out !== undefined) out.push(r.right);
      }
      if (u.length < min) return fail(u, c, 'invalid_value', name, `expected at least ${min} item(s), found ${u.length}`);
      return t.success(out ?? (u as A[]));
    },
    (u) => {
      if (!Array.isArray(u) || u.length < min) return FAIL;
      let out: A[] | undefined;
      for (let i = 0; i < u.length; i++) {
        const v: unknown = u[i];
        const r = fastItem(v);
        if (r === FAIL) return FAIL;
        if (r !== v) out ??= u.slice(0, i) as A[];
        if (out !== undefined) out.push(r);
      }
      return out ?? (u as A[]);
    },
  );
};

/** A record keyed by strings whose values are `value` (null-prototype objects accepted). */
export const recordOf = <A>(value: Codec<A>, name = `Record<string, ${value.name}>`): Codec<Record<string, A>> => {
  const fastValue = fastOf(value);
  return make(
    name,
    (u, c) => {
      if (!isPlainObject(u)) return fail(u, c, 'wrong_type', name);
      for (const k of Object.keys(u)) {
        const v = (u as Record<string, unknown>)[k];
        const r = value.validate(v, at(c, keyPath(k), value, v));
        if (E.isLeft(r)) return r;
      }
      return t.success(u as Record<string, A>);
    },
    (u) => {
      if (!isPlainObject(u)) return FAIL;
      for (const k of Object.keys(u)) if (fastValue(u[k]) === FAIL) return FAIL;
      return u as Record<string, A>;
    },
  );
};

/** Whether `u` is a plain object: prototype `Object.prototype` or `null`. */
export const isPlainObject = (u: unknown): u is Record<string, unknown> => {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) return false;
  const proto = Object.getPrototypeOf(u) as unknown;
  return proto === Object.prototype || proto === null;
};

const identRe = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** `.name` for identifier-like keys, `["odd key"]` otherwise. */
export const keyPath = (k: string): string => (identRe.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`);

type Props = Record<string, t.Mixed>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
/** The decoded shape of a strict object with required props `R` and optional props `O`. */
export type StrictOf<R extends Props, O extends Props> = Simplify<
  { [K in keyof R]: t.TypeOf<R[K]> } & { [K in keyof O]?: t.TypeOf<O[K]> }
>;

/**
 * A strict object: required keys `required`, optional keys `optional`, nothing else.
 * Keys are checked in the value's own order (document order), then missing required
 * keys in declared order. A member set to `undefined` counts as absent and is
 * dropped from the output (as `JSON.stringify` would), so a value decodes the same
 * before and after storage.
 */
export const strict = <R extends Props, O extends Props = Record<never, t.Mixed>>(
  name: string,
  required: R,
  optional?: O,
): Codec<StrictOf<R, O>> => {
  const req = required as Props;
  const opt = (optional ?? {}) as Props;
  const reqKeys = Object.keys(req);
  const fastFields = new Map<string, Fast<unknown>>();
  for (const k of Object.keys(opt)) fastFields.set(k, fastOf(opt[k]!));
  for (const k of reqKeys) fastFields.set(k, fastOf(req[k]!));
  const slow = (u: unknown, c: t.Context): t.Validation<StrictOf<R, O>> => {
    if (!isPlainObject(u)) return fail(u, c, 'wrong_type', name);
    let sawUndefined = false;
    let replaced: Record<string, unknown> | undefined;
    for (const k of Object.keys(u)) {
      const v = u[k];
      const field = Object.prototype.hasOwnProperty.call(req, k) ? req[k] : Object.prototype.hasOwnProperty.call(opt, k) ? opt[k] : undefined;
      if (field === undefined) return fail(v, at(c, keyPath(k), str, v), 'unknown_field', name, `unknown field "${k}" in ${name}`);
      if (v === undefined) {
        sawUndefined = true;
        continue;
      }
      const r = field.validate(v, at(c, keyPath(k), field, v));
      if (E.isLeft(r)) return r;
      if (r.right !== v) (replaced ??= {})[k] = r.right;
    }
    for (const k of reqKeys) {
      if (u[k] === undefined) return fail(undefined, at(c, keyPath(k), req[k] as t.Mixed, undefined), 'missing_field', name, `missing field "${k}" in ${name}`);
    }
    return t.success(strictOutput(u, sawUndefined, replaced) as StrictOf<R, O>);
  };
  const fast = (u: unknown): StrictOf<R, O> | typeof FAIL => {
    if (!isPlainObject(u)) return FAIL;
    let sawUndefined = false;
    let replaced: Record<string, unknown> | undefined;
    const ks = Object.keys(u);
    for (let i = 0; i < ks.length; i++) {
      const k = ks[i]!;
      const f = fastFields.get(k);
      if (f === undefined) return FAIL;
      const v = u[k];
      if (v === undefined) {
        sawUndefined = true;
        continue;
      }
      const r = f(v);
      if (r === FAIL) return FAIL;
      if (r !== v) (replaced ??= {})[k] = r;
    }
    for (let i = 0; i < reqKeys.length; i++) if (u[reqKeys[i]!] === undefined) return FAIL;
    return strictOutput(u, sawUndefined, replaced) as StrictOf<R, O>;
  };
  return make(name, slow, fast);
};

/** The value a strict object decodes to: `u` itself, or a copy without `undefined` members and with replaced children. */
const strictOutput = (u: Record<string, unknown>, sawUndefined: boolean, replaced: Record<string, unknown> | undefined): Record<string, unknown> => {
  if (!sawUndefined && replaced === undefined) return u;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(u)) {
    if (u[k] === undefined) continue;
    out[k] = replaced !== undefined && k in replaced ? replaced[k] : u[k];
  }
  return out;
};

/**
 * A union decoded by dispatch on the string field `field` (`type` or `role`):
 * a missing field is `missing_field`, a non-string `wrong_type`, an unknown value
 * `unknownReason` naming the value; otherwise exactly that branch decodes.
 */
export const dispatch = <B extends Record<string, Codec<any>>>(
  name: string,
  field: string,
  branches: B,
  unknownReason: DecodeReason = 'invalid_value',
): Codec<t.TypeOf<B[keyof B]>> => {
  const keys = Object.keys(branches);
  const fastBranches = new Map<string, Fast<t.TypeOf<B[keyof B]>>>();
  for (const k of keys) fastBranches.set(k, fastOf(branches[k] as Codec<t.TypeOf<B[keyof B]>>));
  return make(
    name,
    (u, c) => {
      if (!isPlainObject(u)) return fail(u, c, 'wrong_type', name);
      const tag = u[field];
      const fieldCtx = at(c, keyPath(field), str, tag);
      if (tag === undefined) return fail(tag, fieldCtx, 'missing_field', name, `missing field "${field}" in ${name}`);
      if (typeof tag !== 'string') return fail(tag, fieldCtx, 'wrong_type', `${name}.${field}`);
      if (!Object.prototype.hasOwnProperty.call(branches, tag)) {
        return fail(tag, fieldCtx, unknownReason, `${name}.${field}`, `unknown ${field} ${JSON.stringify(tag)} in ${name}; expected one of ${keys.join(', ')}`);
      }
      return (branches[tag] as Codec<t.TypeOf<B[keyof B]>>).validate(u, c);
    },
    (u) => {
      if (!isPlainObject(u)) return FAIL;
      const tag = u[field];
      if (typeof tag !== 'string') return FAIL;
      const f = fastBranches.get(tag);
      return f === undefined ? FAIL : f(u);
    },
  );
};

/** A union tried in order; the error of the last branch is reported. Use only for small non-object unions. */
export const either = <A, B>(name: string, a: Codec<A>, b: Codec<B>): Codec<A | B> => {
  const fa = fastOf(a);
  const fb = fastOf(b);
  return make(
    name,
    (u, c) => {
      const ra = a.validate(u, c);
      return E.isRight(ra) ? ra : (b.validate(u, c) as t.Validation<A | B>);
    },
    (u) => {
      const ra = fa(u);
      return ra !== FAIL ? ra : fb(u);
    },
  );
};
