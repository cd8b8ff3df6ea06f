/**
 * Copying a plain object with one member added, without a hidden class per copy.
 *
 * On Node 20 (V8 11.3) an object literal that spreads an object and then adds
 * a member the source does not have (`{ ...m, createdAt: at }`) gets a hidden
 * class (V8 "map") of its own, made for that one object and allocated in the
 * old generation: a million such copies cost ~26 MB of old-generation memory
 * and nine full GCs where `Object.assign({}, m, { createdAt: at })` costs 0.3 MB
 * and one, and ran ~6× slower (measured in `bench/RESULTS.md`, "I2"; a spread
 * that only replaces members the source has, like `{ ...state, seq }`, shares
 * its class and is fine). Every object kept that way also keeps its class,
 * ~330 bytes, as long as it lives.
 */

/**
 * `{ ...o, [key]: value }`: a fresh plain object with `o`'s own enumerable
 * string-keyed members in order and `key` set last (or in its place, when `o`
 * has it). Copied by `Object.assign`, which shares one hidden class between
 * copies of objects of the same shape (module docstring). An `o` with an own
 * `__proto__` member (JSON.parse makes those), or a `key` of `__proto__`, is
 * spread instead: `Object.assign` or the assignment would set the copy's
 * prototype rather than copy or add that member.
 */
export const withMember = <O extends object, K extends string, V>(o: O, key: K, value: V): WithMember<O, K, V> => {
  if (key === '__proto__' || Object.prototype.hasOwnProperty.call(o, '__proto__')) return { ...o, [key]: value } as unknown as WithMember<O, K, V>;
  const out = Object.assign({}, o) as Record<string, unknown>;
  out[key] = value;
  return out as WithMember<O, K, V>;
};

/** `O` with member `K` of type `V`, for each member of a union `O` (its discriminant kept). */
export type WithMember<O, K extends string, V> = O extends unknown ? Omit<O, K> & { [P in K]: V } : never;
