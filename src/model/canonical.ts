/**
 * The RFC 8785 serializer behind `canonicalJson` (json.ts) and the message digest
 * form (digest.ts). Internal: not re-exported by `model/index.ts`.
 *
 * One recursive pass validates and serializes (model.md §6): members sorted by
 * UTF-16 code units (`Array.prototype.sort` without a comparator), strings and
 * numbers as ECMAScript `JSON.stringify` writes them (so `-0` is `0`), no
 * whitespace, `undefined` members skipped. Anything that is not JSON (see
 * `jsonProblem` in json.ts) throws `BAIL`; depth is bounded by `MAX_JSON_DEPTH`,
 * so recursion cannot overflow the stack (a cycle runs into the bound).
 *
 * Two shortcuts, both giving exactly the text of the plain recursion:
 * - **Clean subtrees.** A subtree whose objects are plain, free of `toJSON`, with
 *   keys already in canonical order, whose strings are well-formed, numbers finite
 *   and arrays free of `undefined`, serializes under `JSON.stringify` exactly as
 *   RFC 8785 asks (`JSON.stringify` also drops `undefined` members and writes
 *   `-0` as `0`). Such subtrees (all of a value parsed back from canonical JSON)
 *   are checked by the walk and written by the native `JSON.stringify`.
 * - **Recent messages.** The text of a frozen message serialized for its digest
 *   (digest.ts) is kept for the next couple of thousand messages (a few MB at
 *   most), so the log record or snapshot chunk that holds the message reuses it
 *   instead of serializing it again.
 */

/**
 * The deepest nesting of arrays and objects accepted (levels). Serializers and
 * `JSON.stringify` recurse, so a deeper value would overflow the stack; it is
 * refused as `not_json` instead.
 */
export const MAX_JSON_DEPTH = 1000;

/** Thrown inside the serializer to abandon it; never escapes the callers in this layer. */
export const BAIL: unique symbol = Symbol('not canonical JSON');

/** A child the walk found clean: the parent serializes it with `JSON.stringify`. */
const CLEAN: unique symbol = Symbol('clean');

/**
 * Whether serializing `v` would call a `toJSON` method the member walk does not see:
 * any `toJSON` on an array (`canonicalize`, like `JSON.stringify`, calls it), or a
 * non-enumerable / inherited one on a plain object. An own enumerable `toJSON`
 * member is a function value the walk reports at `.toJSON`. toJSON is never called
 * (model.md §6), so such values are `not_json`.
 */
export const hasHiddenToJson = (v: object): boolean =>
  typeof (v as { toJSON?: unknown }).toJSON === 'function' && (Array.isArray(v) || !Object.prototype.propertyIsEnumerable.call(v, 'toJSON'));

/** Canonical text of a recently serialized frozen message, and its nesting height (0: no container below it). */
interface Known {
  readonly json: string;
  readonly height: number;
}

/**
 * The most recent frozen messages serialized by `canonicalWithout` (insertion
 * order = age): at most `RECENT` of them and `RECENT_CHARS` UTF-16 code units
 * of text (a few MB), so a store's periodic snapshot (every 1,000 records by
 * default) finds the text of the messages appended since the last one.
 */
const recent = new Map<object, Known>();
const RECENT = 2048;
const RECENT_CHARS = 4 * 1024 * 1024;
/** Code units of text held by `recent`. */
let recentChars = 0;

/** The deepest container depth reached since it was last reset (for `Known.height`). */
let deepest = 0;

/**
 * Serializes `v` at nesting `depth`: its canonical text, or `CLEAN` when the
 * subtree is clean (the caller then writes it with `JSON.stringify`).
 */
const write = (v: unknown, depth: number): string | typeof CLEAN => {
  switch (typeof v) {
    case 'string':
      if (!v.isWellFormed()) throw BAIL;
      return CLEAN;
    case 'number':
      if (!Number.isFinite(v)) throw BAIL;
      return CLEAN;
    case 'boolean':
      return CLEAN;
    case 'object':
      break;
    default:
      throw BAIL;
  }
  if (v === null) return CLEAN;
  if (recent.size > 0 && Object.isFrozen(v)) {
    const known = recent.get(v);
    if (known !== undefined && depth + known.height < MAX_JSON_DEPTH) {
      if (depth + known.height > deepest) deepest = depth + known.height;
      return known.json;
    }
  }
  if (depth >= MAX_JSON_DEPTH || ((v as { toJSON?: unknown }).toJSON !== undefined && hasHiddenToJson(v))) throw BAIL;
  if (depth > deepest) deepest = depth;
  if (Array.isArray(v)) {
    const n = v.length;
    let parts: Array<string | typeof CLEAN> | undefined;
    for (let i = 0; i < n; i++) {
      const x: unknown = v[i];
      if (x === undefined) throw BAIL;
      const r = write(x, depth + 1);
      if (r !== CLEAN) (parts ??= new Array<string | typeof CLEAN>(n).fill(CLEAN))[i] = r;
    }
    if (parts === undefined) return CLEAN;
    let out = '[';
    for (let i = 0; i < n; i++) {
      if (i > 0) out += ',';
      const p = parts[i]!;
      out += p === CLEAN ? JSON.stringify(v[i]) : p;
    }
    return out + ']';
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) throw BAIL;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  const n = keys.length;
  let sorted = true;
  let parts: Array<string | typeof CLEAN> | undefined;
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    if (!k.isWellFormed()) throw BAIL;
    if (i > 0 && !(keys[i - 1]! < k)) sorted = false;
    const member = o[k];
    if (member === undefined) continue;
    const r = write(member, depth + 1);
    if (r !== CLEAN) (parts ??= new Array<string | typeof CLEAN>(n).fill(CLEAN))[i] = r;
  }
  if (sorted && parts === undefined) return CLEAN;
  // Write the members in canonical order: sort the indexes by key.
  const order = Array.from({ length: n }, (_, i) => i);
  if (!sorted) order.sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  let out = '{';
  let first = true;
  for (let j = 0; j < n; j++) {
    const i = order[j]!;
    const k = keys[i]!;
    const member = o[k];
    if (member === undefined) continue;
    const p = parts === undefined ? CLEAN : parts[i]!;
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + (p === CLEAN ? JSON.stringify(member) : p);
    first = false;
  }
  return out + '}';
};

/**
 * The canonical JSON of `v` (throws `BAIL` when it is not JSON; may throw
 * `RangeError`). `depth`: the nesting level `v` sits at inside the value being
 * written (0: the top), which counts toward `MAX_JSON_DEPTH`.
 */
export const writeCanonical = (v: unknown, depth = 0): string => {
  const r = write(v, depth);
  return r === CLEAN ? (JSON.stringify(v) as string) : r;
};

/** Puts `o`'s text into `recent` as the newest entry, dropping the oldest beyond the bounds. */
const remember = (o: object, known: Known): void => {
  const old = recent.get(o);
  if (old !== undefined) {
    recent.delete(o);
    recentChars -= old.json.length;
  }
  recent.set(o, known);
  recentChars += known.json.length;
  while (recent.size > RECENT || (recentChars > RECENT_CHARS && recent.size > 1)) {
    const oldest = recent.keys().next().value as object;
    recentChars -= recent.get(oldest)!.json.length;
    recent.delete(oldest);
  }
};

/**
 * The canonical JSON of the plain object `o`, and of `o` without the members
 * whose key `omit` accepts, from one serialization of the members (both equal
 * the canonical JSON of the object and of its copy without those keys).
 * `undefined` when `o` is not a JSON object (the caller then takes the general
 * path, which names the problem). A frozen `o` is remembered for a while
 * (`recent`), so serializing a value that holds it reuses the text, unless
 * `keep` is false (a message read only to resume a digest).
 */
export const canonicalWithout = (o: unknown, omit: (key: string) => boolean, keep = true): { readonly full: string; readonly without: string } | undefined => {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
  const proto = Object.getPrototypeOf(o) as unknown;
  if ((proto !== Object.prototype && proto !== null) || hasHiddenToJson(o)) return undefined;
  const m = o as Record<string, unknown>;
  const keys = Object.keys(m).sort();
  // Both texts are joined from their members' pieces, so each is one flat string: the
  // record and the snapshot chunk that later hold the message copy it instead of walking
  // a rope of every member's concatenation (once for the record hash, once more to write it).
  const fullPieces: string[] = [];
  const withoutPieces: string[] = [];
  const saved = deepest;
  deepest = 0;
  try {
    for (const k of keys) {
      const member = m[k];
      if (member === undefined) continue;
      if (!k.isWellFormed()) return undefined;
      const r = write(member, 1);
      const piece = JSON.stringify(k) + ':' + (r === CLEAN ? JSON.stringify(member) : r);
      fullPieces.push(piece);
      if (!omit(k)) withoutPieces.push(piece);
    }
    const full = `{${fullPieces.join(',')}}`;
    const without = `{${withoutPieces.join(',')}}`;
    if (keep && Object.isFrozen(o)) remember(o, { json: full, height: deepest });
    return { full, without };
  } catch (e) {
    if (e === BAIL || e instanceof RangeError) return undefined;
    throw e;
  } finally {
    deepest = saved;
  }
};
