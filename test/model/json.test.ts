/**
 * Canonical JSON (model.md §6) and the `Json` codec (model.md §1).
 */
import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import canonicalize from 'canonicalize';
import {
  canonicalBytes,
  canonicalJson,
  canonicalJsonUnsafe,
  decodeWith,
  isJson,
  JsonCodec,
  type CanonicalJsonError,
} from '../../src/model/index.ts';
import { arbJson } from '../../spec/model/arbitraries.ts';

const ok = (value: unknown): string => {
  const r = canonicalJson(value);
  if (E.isLeft(r)) throw new Error(`expected Right, got ${JSON.stringify(r.left)}`);
  return r.right;
};

const err = (value: unknown): CanonicalJsonError => {
  const r = canonicalJson(value);
  if (E.isRight(r)) throw new Error(`expected Left, got ${r.right}`);
  return r.left;
};

const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

describe('canonicalJson: structure', () => {
  it('writes no whitespace, BOM or trailing newline', () => {
    const out = ok({ b: [1, { d: true, c: null }], a: 'x y' });
    expect(out).toBe('{"a":"x y","b":[1,{"c":null,"d":true}]}');
    expect(out.charCodeAt(0)).not.toBe(0xfeff);
    expect(out.endsWith('\n')).toBe(false);
  });

  it('writes the literals and keeps array order', () => {
    expect(ok(null)).toBe('null');
    expect(ok(true)).toBe('true');
    expect(ok(false)).toBe('false');
    expect(ok([3, 1, 2])).toBe('[3,1,2]');
    expect(ok([])).toBe('[]');
    expect(ok({})).toBe('{}');
  });

  it('sorts the §6 example by UTF-16 code units: the emoji before U+FB33', () => {
    expect(ok({ '\ufb33': 1, '\ud83d\ude00': 2 })).toBe('{"\ud83d\ude00":2,"\ufb33":1}');
    // Code point order would put U+1F600 after U+FB33; localeCompare is not used either.
    expect('\ud83d\ude00'.codePointAt(0)! > '\ufb33'.codePointAt(0)!).toBe(true);
  });

  it('sorts keys differing in case or by prefix by code units', () => {
    expect(ok({ b: 1, B: 2, a: 3, A: 4, aa: 5, '': 6, ab: 7, 'a\u0000': 8, _: 9, Z: 10, z: 11 })).toBe(
      '{"":6,"A":4,"B":2,"Z":10,"_":9,"a":3,"a\\u0000":8,"aa":5,"ab":7,"b":1,"z":11}',
    );
    // Not localeCompare: "é" (U+00E9) sorts after "z", "Z" before "a".
    expect(ok({ é: 1, z: 2, Z: 3, a: 4 })).toBe('{"Z":3,"a":4,"z":2,"é":1}');
    // Numeric-looking keys sort as strings, not as numbers (no integer-key order).
    expect(ok({ 10: 'a', 2: 'b', 1: 'c' })).toBe('{"1":"c","10":"a","2":"b"}');
  });

  it('sorts nested objects and keeps key order of the input irrelevant', () => {
    const a = { x: { q: 1, p: [{ z: 1, y: 2 }] }, w: 0 };
    const b = { w: 0, x: { p: [{ y: 2, z: 1 }], q: 1 } };
    expect(ok(a)).toBe(ok(b));
    expect(ok(a)).toBe('{"w":0,"x":{"p":[{"y":2,"z":1}],"q":1}}');
  });

  it('accepts null-prototype objects', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.b = 1;
    o.a = Object.assign(Object.create(null) as object, { c: 2 });
    expect(ok(o)).toBe('{"a":{"c":2},"b":1}');
  });

  it('accepts shared (non-cyclic) references', () => {
    const shared = { v: 1 };
    expect(ok({ a: shared, b: [shared, shared] })).toBe('{"a":{"v":1},"b":[{"v":1},{"v":1}]}');
  });

  it('handles deep nesting in the walk without recursion limits on validity', () => {
    let v: unknown = 1;
    for (let i = 0; i < 500; i++) v = [v];
    expect(ok(v)).toBe('['.repeat(500) + '1' + ']'.repeat(500));
  });
});

describe('canonicalJson: strings', () => {
  it('escapes the control characters as JSON.stringify does', () => {
    expect(ok('"\\')).toBe('"\\"\\\\"');
    expect(ok('\b\f\n\r\t')).toBe('"\\b\\f\\n\\r\\t"');
    const named: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
    for (let c = 0; c < 0x20; c++) {
      const expected = named[c] ?? `\\u00${c.toString(16).padStart(2, '0')}`;
      expect(ok(String.fromCharCode(c))).toBe(`"${expected}"`);
    }
    // Lowercase hex.
    expect(ok('\u001f\u000b')).toBe('"\\u001f\\u000b"');
  });

  it('keeps U+007F, U+2028, U+2029, "/" and non-ASCII literal', () => {
    expect(ok('\u007f')).toBe('"\u007f"');
    expect(ok('\u2028\u2029')).toBe('"\u2028\u2029"');
    expect(ok('a/b')).toBe('"a/b"');
    expect(ok('é€דּ')).toBe('"é€דּ"');
    expect(hex(ok('\u2028'))).toBe('22e280a822');
  });

  it('keeps non-BMP characters literal, as four UTF-8 bytes', () => {
    expect(ok('😀')).toBe('"😀"');
    expect(ok('\u{10ffff}')).toBe('"\u{10ffff}"');
    expect(Buffer.from(canonicalBytes('😀')).toString('hex')).toBe('22f09f988022');
    expect(ok({ '😀': '𝄞' })).toBe('{"😀":"𝄞"}');
  });

  it('does no Unicode normalization', () => {
    expect(ok('e\u0301')).toBe('"e\u0301"');
    expect(ok('e\u0301')).not.toBe(ok('é'));
  });

  it('refuses lone surrogates in values and keys, with the path', () => {
    expect(err('\ud800')).toMatchObject({ _tag: 'CanonicalJsonError', path: '$', reason: 'lone_surrogate' });
    expect(err('a\udc00b')).toMatchObject({ reason: 'lone_surrogate' });
    expect(err('\ud83d')).toMatchObject({ reason: 'lone_surrogate' }); // high surrogate at the end
    expect(err('\ude00\ud83d')).toMatchObject({ reason: 'lone_surrogate' }); // reversed pair
    expect(err({ a: ['ok', 'x\ud800'] })).toMatchObject({ path: '$.a[1]', reason: 'lone_surrogate' });
    expect(err({ ['k\udbff']: 1 })).toMatchObject({ path: '$["k\\udbff"]', reason: 'lone_surrogate' });
  });
});

describe('canonicalJson: numbers', () => {
  it.each([
    [-0, '0'],
    [0, '0'],
    [1e21, '1e+21'],
    [1e20, '100000000000000000000'],
    [1e-7, '1e-7'],
    [1e-6, '0.000001'],
    [5e-324, '5e-324'],
    [0.1 + 0.2, '0.30000000000000004'],
    [2 ** 53, '9007199254740992'],
    [2 ** 53 + 2, '9007199254740994'],
    [123456789012345680000, '123456789012345680000'],
    [-1.5, '-1.5'],
    [4.5, '4.5'],
    [1e300 * 10, '1e+301'],
  ])('%s is written %s', (n, expected) => {
    expect(ok(n)).toBe(expected);
    expect(ok([n])).toBe(`[${expected}]`);
  });

  it('-0 and 0 canonicalize alike inside structures', () => {
    expect(ok({ a: -0, b: [-0] })).toBe('{"a":0,"b":[0]}');
  });

  it('integers above 2^53 are already rounded by JSON.parse', () => {
    expect(ok(JSON.parse('9007199254740993'))).toBe('9007199254740992');
    expect(ok(JSON.parse('[18446744073709551615]'))).toBe('[18446744073709552000]');
  });

  it('refuses NaN and ±Infinity with reason not_finite and the path', () => {
    expect(err(NaN)).toMatchObject({ path: '$', reason: 'not_finite' });
    expect(err({ a: { b: [0, Infinity] } })).toMatchObject({ path: '$.a.b[1]', reason: 'not_finite' });
    expect(err([-Infinity])).toMatchObject({ path: '$[0]', reason: 'not_finite' });
  });

  it('writes every finite double as Number.prototype.toString (property)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        expect(ok(n)).toBe(Object.is(n, -0) ? '0' : String(n));
      }),
      { numRuns: 300 },
    );
  });
});

describe('canonicalJson: undefined', () => {
  it('drops undefined members, like JSON.stringify, so a value hashes the same after storage', () => {
    const v = { a: undefined, b: 1, c: { d: undefined } };
    expect(ok(v)).toBe('{"b":1,"c":{}}');
    expect(ok(v)).toBe(ok(JSON.parse(JSON.stringify(v))));
  });

  it('refuses undefined elsewhere: elements, holes, the root', () => {
    expect(err(undefined)).toMatchObject({ path: '$', reason: 'undefined' });
    expect(err([1, undefined])).toMatchObject({ path: '$[1]', reason: 'undefined' });
    // eslint-disable-next-line no-sparse-arrays
    expect(err({ a: [, 1] })).toMatchObject({ path: '$.a[0]', reason: 'undefined' });
  });
});

describe('canonicalJson: non-JSON values', () => {
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }
  it.each<[string, unknown, string]>([
    ['Date', { at: new Date(0) }, '$.at'],
    ['Map', { m: new Map([['a', 1]]) }, '$.m'],
    ['Set', [new Set([1])], '$[0]'],
    ['class instance', { p: new Point(1, 2) }, '$.p'],
    ['RegExp', /x/, '$'],
    ['Uint8Array', { b: new Uint8Array([1]) }, '$.b'],
    ['boxed number', { n: Object(1) as unknown }, '$.n'],
    ['boxed string', [Object('s') as unknown], '$[0]'],
    ['bigint', { n: 1n }, '$.n'],
    ['symbol', { s: Symbol('s') }, '$.s'],
    ['symbol element', [Symbol.iterator], '$[0]'],
    ['function', { f: () => 1 }, '$.f'],
    ['function at the root', () => 1, '$'],
    ['bigint at the root', 10n, '$'],
  ])('%s is not_json', (_name, value, path) => {
    expect(err(value)).toMatchObject({ _tag: 'CanonicalJsonError', reason: 'not_json', path });
    expect(isJson(value)).toBe(false);
  });

  it('names odd keys with bracket paths', () => {
    expect(err({ 'odd key': { 'a.b': 1n } })).toMatchObject({ path: '$["odd key"]["a.b"]', reason: 'not_json' });
    expect(err({ 'a-b': [{ _ok: 1, $x: 2n }] })).toMatchObject({ path: '$["a-b"][0].$x' });
  });

  it('reports the first problem in document order', () => {
    expect(err({ a: 1, b: [1, NaN], c: undefined, d: 1n })).toMatchObject({ path: '$.b[1]', reason: 'not_finite' });
    expect(err([{ x: Symbol('a') }, NaN])).toMatchObject({ path: '$[0].x', reason: 'not_json' });
  });
});

describe('canonicalJson: cycles', () => {
  it('reports a cycle through an object with its path', () => {
    const o: Record<string, unknown> = { a: 1 };
    o.self = o;
    expect(err(o)).toMatchObject({ reason: 'cycle', path: '$.self' });
  });

  it('reports a cycle through an array with its path', () => {
    const a: unknown[] = [1];
    a.push({ back: a });
    expect(err(a)).toMatchObject({ reason: 'cycle', path: '$[1].back' });
  });
});

describe('canonicalJson: toJSON is never called', () => {
  it('a Date is refused without calling its toJSON', () => {
    const spy = vi.spyOn(Date.prototype, 'toJSON');
    try {
      expect(err(new Date(0)).reason).toBe('not_json');
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('an own enumerable toJSON member is a function value: not_json at .toJSON', () => {
    const toJSON = vi.fn(() => 'CALLED');
    expect(err({ a: 1, toJSON })).toMatchObject({ path: '$.toJSON', reason: 'not_json' });
    expect(toJSON).not.toHaveBeenCalled();
  });

  it('a non-enumerable toJSON on a plain object is refused, not called', () => {
    const toJSON = vi.fn(() => 'CALLED');
    const o = { a: 1 };
    Object.defineProperty(o, 'toJSON', { value: toJSON, enumerable: false });
    expect(err({ wrap: o })).toMatchObject({ path: '$.wrap', reason: 'not_json' });
    expect(toJSON).not.toHaveBeenCalled();
  });

  it('a toJSON method on an array is refused, not called', () => {
    const toJSON = vi.fn(() => 'CALLED');
    const a = Object.assign([1, 2], { toJSON });
    expect(err({ list: a })).toMatchObject({ path: '$.list', reason: 'not_json' });
    expect(toJSON).not.toHaveBeenCalled();
  });

  it('a toJSON member holding data is ordinary data', () => {
    expect(ok({ toJSON: 'text', a: [1] })).toBe('{"a":[1],"toJSON":"text"}');
  });
});

describe('RFC 8785 examples', () => {
  it('§3.2.2: primitive data types (numbers, string escapes, literals)', () => {
    const input = `{
  "numbers": [333333333.33333329, 1E30, 4.50,
              2e-3, 0.000000000000000000000000001],
  "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
  "literals": [null, true, false]
}`;
    expect(ok(JSON.parse(input))).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  const sortingInput = `{
  "\\u20ac": "Euro Sign",
  "\\r": "Carriage Return",
  "\\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\\ud83d\\ude00": "Emoji: Grinning Face",
  "\\u0080": "Control",
  "\\u00f6": "Latin Small Letter O With Diaeresis"
}`;
  const sortingOutput =
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign","😀":"Emoji: Grinning Face","דּ":"Hebrew Letter Dalet With Dagesh"}';

  it('§3.2.3: sorting of object properties', () => {
    expect(ok(JSON.parse(sortingInput))).toBe(sortingOutput);
  });

  it('§3.2.4: UTF-8 generation of the sorting example', () => {
    const expected = [
      '7b 22 5c 72 22 3a 22 43 61 72 72 69 61 67 65 20 52 65 74 75 72 6e 22 2c 22 31 22 3a 22 4f',
      '6e 65 22 2c 22 c2 80 22 3a 22 43 6f 6e 74 72 6f 6c 22 2c 22 c3 b6 22 3a 22 4c 61 74 69 6e',
      '20 53 6d 61 6c 6c 20 4c 65 74 74 65 72 20 4f 20 57 69 74 68 20 44 69 61 65 72 65 73 69 73',
      '22 2c 22 e2 82 ac 22 3a 22 45 75 72 6f 20 53 69 67 6e 22 2c 22 f0 9f 98 80 22 3a 22 45 6d',
      '6f 6a 69 3a 20 47 72 69 6e 6e 69 6e 67 20 46 61 63 65 22 2c 22 ef ac b3 22 3a 22 48 65 62',
      '72 65 77 20 4c 65 74 74 65 72 20 44 61 6c 65 74 20 57 69 74 68 20 44 61 67 65 73 68 22 7d',
    ]
      .join(' ')
      .replace(/ /g, '');
    expect(Buffer.from(canonicalBytes(JSON.parse(sortingInput))).toString('hex')).toBe(expected);
  });

  it('Appendix B: number serialization samples', () => {
    const samples: Array<[string, string]> = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, expected] of samples) {
      const n = Buffer.from(bits, 'hex').readDoubleBE(0);
      expect(ok(n), bits).toBe(expected);
    }
    // The two error rows: NaN (7fffffffffffffff) and Infinity (7ff0000000000000).
    expect(err(Buffer.from('7fffffffffffffff', 'hex').readDoubleBE(0)).reason).toBe('not_finite');
    expect(err(Buffer.from('7ff0000000000000', 'hex').readDoubleBE(0)).reason).toBe('not_finite');
  });
});

describe('canonicalJson: properties', () => {
  it('is a fixed point of JSON.parse and agrees with canonicalize on JSON values', () => {
    fc.assert(
      fc.property(arbJson, (v) => {
        const c = ok(v);
        expect(c).toBe(canonicalize(v));
        expect(ok(JSON.parse(c))).toBe(c);
        expect(ok(JSON.parse(JSON.stringify(v)))).toBe(c);
        expect(JSON.parse(c)).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 300 },
    );
  });

  it('canonicalJsonUnsafe returns the same string and throws on non-JSON', () => {
    expect(canonicalJsonUnsafe({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
    expect(() => canonicalJsonUnsafe({ a: NaN })).toThrow(/\$\.a/);
    expect(Buffer.from(canonicalBytes({ é: 1 })).toString('utf8')).toBe('{"é":1}');
  });
});

describe('JsonCodec', () => {
  it('accepts every JSON value and returns it unchanged', () => {
    fc.assert(
      fc.property(arbJson, (v) => {
        const r = decodeWith(JsonCodec, v);
        expect(r).toEqual(E.right(v));
        expect(E.isRight(r) && r.right).toBe(v);
        expect(isJson(v)).toBe(true);
        expect(JsonCodec.is(v)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it.each<[string, unknown, string, string]>([
    ['NaN', { a: NaN }, '$.a', 'invalid_number'],
    ['Infinity', [1, Infinity], '$[1]', 'invalid_number'],
    ['lone surrogate value', { s: '\udfff' }, '$.s', 'lone_surrogate'],
    ['lone surrogate key', { ['\ud800']: 1 }, '$["\\ud800"]', 'lone_surrogate'],
    ['Date', { d: new Date() }, '$.d', 'not_json'],
    ['undefined element', [undefined], '$[0]', 'not_json'],
    ['undefined root', undefined, '$', 'not_json'],
    ['bigint', 1n, '$', 'not_json'],
    ['cycle', (() => { const a: unknown[] = []; a.push(a); return a; })(), '$[0]', 'not_json'],
  ])('refuses %s with the documented reason and path', (_name, value, path, reason) => {
    const r = decodeWith(JsonCodec, value);
    expect(r).toMatchObject({ _tag: 'Left', left: { _tag: 'DecodeError', path, reason } });
  });
});

describe('nesting limit', () => {
  it('refuses values nested deeper than MAX_JSON_DEPTH as not_json instead of overflowing the stack', async () => {
    const { canonicalJson, MAX_JSON_DEPTH, JsonCodec } = await import('../../src/model/json.ts');
    let ok: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH; i++) ok = [ok];
    expect(canonicalJson(ok)._tag).toBe('Right');
    let deep: unknown = 1;
    for (let i = 0; i < 5000; i++) deep = { a: deep };
    const r = canonicalJson(deep);
    expect(r._tag).toBe('Left');
    if (r._tag === 'Left') expect(r.left.reason).toBe('not_json');
    expect(JsonCodec.decode(deep)._tag).toBe('Left');
  });
});
