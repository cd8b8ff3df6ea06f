/**
 * The fast paths of the append and verify hot paths give exactly what the plain
 * definitions give: canonical JSON (clean subtrees written by `JSON.stringify`,
 * recently serialized frozen messages reused), the digest form bytes (one
 * serialization for the message and its digest form), and the codec toolkit
 * (a fast validator first, the error-building one only on failure).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import canonicalize from 'canonicalize';
import {
  canonicalJson,
  canonicalMessageBytes,
  decodeMessage,
  decodeWith,
  digestForm,
  JsonCodec,
  MAX_JSON_DEPTH,
  MessageCodec,
  transcriptDigest,
  userText,
  type Json,
  type Message,
} from '../../src/model/index.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { arbJson, arbMessage } from '../../spec/model/arbitraries.ts';
import { canonicalWithout } from '../../src/model/canonical.ts';

const ok = (value: unknown): string => {
  const r = canonicalJson(value);
  if (E.isLeft(r)) throw new Error(`expected Right, got ${JSON.stringify(r.left)}`);
  return r.right;
};

const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

/** Sets an own data member (also for the key `__proto__`). */
const own = (o: object, k: string, v: unknown): void => {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
};

/** `v` with every object's keys put in a random order (a permutation per object). */
const shuffled = (v: Json, rnd: () => number): Json => {
  if (Array.isArray(v)) return v.map((x) => shuffled(x, rnd));
  if (typeof v !== 'object' || v === null) return v;
  const keys = Object.keys(v);
  for (let i = keys.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [keys[i], keys[j]] = [keys[j]!, keys[i]!];
  }
  const out: { [k: string]: Json } = {};
  for (const k of keys) own(out, k, shuffled(v[k]!, rnd));
  return out;
};

/** `v` with every object's keys in canonical order (what parsing canonical JSON gives, integer-like keys aside). */
const sortedCopy = (v: Json): Json => {
  if (Array.isArray(v)) return v.map(sortedCopy);
  if (typeof v !== 'object' || v === null) return v;
  const out: { [k: string]: Json } = {};
  for (const k of Object.keys(v).sort()) own(out, k, sortedCopy(v[k]!));
  return out;
};

describe('canonical JSON: clean subtrees and mixed key orders', () => {
  it('agrees with canonicalize whatever the key order of each object', () => {
    fc.assert(
      fc.property(arbJson, fc.integer(), (v, seed) => {
        let s = seed >>> 0;
        const rnd = (): number => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
        const expected = canonicalize(v);
        expect(ok(shuffled(v, rnd))).toBe(expected);
        expect(ok(sortedCopy(v))).toBe(expected);
        expect(ok(JSON.parse(expected as string))).toBe(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('orders integer-like keys as strings, inside clean and dirty parents', () => {
    const o = JSON.parse('{"10":1,"9":2,"a":{"2":[1,{"b":1,"a":2}],"10":null}}');
    expect(ok(o)).toBe('{"10":1,"9":2,"a":{"10":null,"2":[1,{"a":2,"b":1}]}}');
    expect(ok(o)).toBe(canonicalize(o));
  });

  it('sorts by UTF-16 code units in clean and dirty objects', () => {
    const emoji = '\ud83d\ude00';
    expect(ok({ '\ufb33': 1, [emoji]: 2 })).toBe(`{"${emoji}":2,"\ufb33":1}`);
    expect(ok({ [emoji]: 2, '\ufb33': 1 })).toBe(`{"${emoji}":2,"\ufb33":1}`);
  });

  it('handles null-prototype objects, -0, undefined members and escapes on the clean path', () => {
    const o = Object.assign(Object.create(null) as Record<string, unknown>, { a: -0, b: 'x\u2028\u007f\n"\\', c: undefined, d: [1e21, 1e-7, 0.1] });
    expect(ok(o)).toBe('{"a":0,"b":"x\u2028\u007f\\n\\"\\\\","d":[1e+21,1e-7,0.1]}');
    expect(ok({ a: { b: { c: [true, false, null] } } })).toBe('{"a":{"b":{"c":[true,false,null]}}}');
  });

  it('refuses non-JSON inside subtrees whose keys are already sorted', () => {
    const cases: Array<[unknown, string, string]> = [
      [{ a: 'x', b: { c: 'bad\ud800' } }, 'lone_surrogate', '$.b.c'],
      [{ a: [1, NaN] }, 'not_finite', '$.a[1]'],
      [{ a: [1, undefined] }, 'undefined', '$.a[1]'],
      [{ a: { b: () => 1 } }, 'not_json', '$.a.b'],
      [{ a: new Date(0) }, 'not_json', '$.a'],
      [{ a: 1n }, 'not_json', '$.a'],
      [{ a: Object.defineProperty({ b: 1 }, 'toJSON', { value: () => 'x', enumerable: false }) }, 'not_json', '$.a'],
      [{ a: Object.assign([1, 2], { toJSON: () => 'x' }) }, 'not_json', '$.a'],
      [{ a: { '\udc00': 1 } }, 'lone_surrogate', '$.a["\\udc00"]'],
    ];
    for (const [v, reason, path] of cases) {
      const r = canonicalJson(v);
      expect(E.isLeft(r), String(path)).toBe(true);
      if (E.isLeft(r)) expect({ reason: r.left.reason, path: r.left.path }).toEqual({ reason, path });
    }
  });

  it('still refuses a value nested past MAX_JSON_DEPTH on the clean path', () => {
    let deep: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH; i++) deep = { a: deep };
    expect(E.isRight(canonicalJson(deep))).toBe(true); // the innermost object is at depth MAX_JSON_DEPTH - 1
    const r = canonicalJson({ a: deep });
    expect(E.isLeft(r) && r.left.reason).toBe('not_json');
  });
});

describe('canonicalWithout: the object and the object without some members, from one walk', () => {
  it('equals canonicalize of the object and of its copy without the omitted keys, whatever the keys', () => {
    const arbKey = fc.oneof(fc.constantFrom('createdAt', 'usage', '0', '10', '9', '__proto__', 'a', 'b', ''), fc.string({ maxLength: 4 }));
    const arbObject = fc.uniqueArray(fc.tuple(arbKey, arbJson), { selector: ([k]) => k, maxLength: 8 });
    fc.assert(
      fc.property(arbObject, fc.boolean(), (members, frozen) => {
        const o = {};
        for (const [k, v] of members) own(o, k, v);
        if (frozen) Object.freeze(o);
        const omit = (k: string): boolean => k === 'createdAt' || k === 'usage' || k === '9';
        const kept = {};
        for (const [k, v] of members) if (!omit(k)) own(kept, k, v);
        expect(canonicalWithout(o, omit)).toEqual({ full: canonicalize(o), without: canonicalize(kept) });
      }),
      { numRuns: 400 },
    );
  });
});

describe('canonicalMessageBytes: one serialization for the message and its digest form', () => {
  it('equals the canonical JSON of digestForm, frozen or not', () => {
    fc.assert(
      fc.property(arbMessage, fc.boolean(), (m, freeze) => {
        const copy = JSON.parse(JSON.stringify(m)) as Message;
        const expected = utf8(canonicalize(digestForm(copy)) as string);
        const target = freeze ? deepFreeze(copy) : copy;
        expect(Buffer.from(canonicalMessageBytes(target)).toString('hex')).toBe(expected);
        // A frozen message serialized for its digest is reused inside larger values: same text.
        expect(ok({ z: 1, messages: [target], a: [target] })).toBe(canonicalize({ z: 1, messages: [copy], a: [copy] }));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the depth bound for a remembered message placed deeper', () => {
    // A message whose Json data nests just below the bound at the message's own depth.
    let data: Json = 1;
    for (let i = 0; i < MAX_JSON_DEPTH - 3; i++) data = [data];
    const m = deepFreeze({ role: 'system_notice', kind: 'k', text: 't', data, createdAt: 1 } as Message);
    expect(canonicalMessageBytes(m).length).toBeGreaterThan(0);
    expect(E.isRight(canonicalJson(m))).toBe(true);
    let wrapped: unknown = m;
    for (let i = 0; i < 5; i++) wrapped = [wrapped];
    const r = canonicalJson(wrapped);
    expect(E.isLeft(r) && r.left.reason).toBe('not_json');
  });

  it('gives the spec vectors', () => {
    const m = deepFreeze({ ...userText('hello'), createdAt: 123 } as Message);
    expect(transcriptDigest([m])).toBe('sha256:272c6f9c335d47d833189ef60d38a182e598b4b3a0ea73e7f7080f23a1ee2f1f');
    expect(`sha256:${bytesToHex(sha256(Buffer.from('[]')))}`).toBe(transcriptDigest([]));
  });
});

describe('codec toolkit: fast and reporting paths agree', () => {
  const mutations: Array<[string, (m: Record<string, unknown>) => void, string]> = [
    ['unknown key', (m) => (m.extra = 1), 'unknown_field'],
    ['missing createdAt', (m) => delete m.createdAt, 'missing_field'],
    ['null createdAt', (m) => (m.createdAt = null), 'wrong_type'],
    ['negative createdAt', (m) => (m.createdAt = -1), 'invalid_number'],
    ['unknown role', (m) => (m.role = 'robot'), 'unknown_role'],
    ['lone surrogate key', (m) => (m['\ud800'] = 1), 'unknown_field'],
  ];

  it('decodes every valid message to itself and refuses each mutation with its reason', () => {
    fc.assert(
      fc.property(arbMessage, fc.constantFrom(...mutations), (m, [, mutate, reason]) => {
        const copy = JSON.parse(JSON.stringify(m)) as Record<string, unknown>;
        const d = decodeMessage(copy);
        expect(E.isRight(d) && d.right).toBe(copy);
        expect(MessageCodec.is(copy)).toBe(true);
        mutate(copy);
        const bad = decodeMessage(copy);
        expect(E.isLeft(bad) && bad.left.reason).toBe(reason);
        expect(MessageCodec.is(copy)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('drops undefined members into a copy on both paths', () => {
    const m = { role: 'user', content: [{ type: 'text', text: 'x', extra: undefined }], transcriptRole: 'conversational', createdAt: 1, junk: undefined };
    const d = decodeWith(MessageCodec, m);
    expect(E.isLeft(d) && d.left.reason).toBe('unknown_field');
    const fine = { role: 'assistant', content: [{ type: 'text', text: 'x', signature: undefined }], stopReason: 'end_turn', createdAt: 1, origin: undefined };
    const f = decodeWith(MessageCodec, fine);
    expect(E.isRight(f)).toBe(true);
    if (E.isRight(f)) {
      expect(f.right).not.toBe(fine);
      expect(Object.keys(f.right)).toEqual(['role', 'content', 'stopReason', 'createdAt']);
      expect(f.right.role === 'assistant' && Object.keys(f.right.content[0]!)).toEqual(['type', 'text']);
    }
  });

  it('the Json codec accepts exactly what isJson accepts', () => {
    const values: unknown[] = [1, 'a', null, [1, [2]], { a: { b: [null] } }, NaN, [undefined], { a: () => 1 }, 'x\udc00', new Map(), Object.create(null)];
    for (const v of values) {
      const d = decodeWith(JsonCodec, v);
      expect(E.isRight(d)).toBe(JsonCodec.is(v));
      if (E.isRight(d)) expect(d.right).toBe(v);
    }
  });
});

function deepFreeze<A>(v: A): A {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}
