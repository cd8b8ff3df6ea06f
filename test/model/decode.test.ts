/**
 * The codec toolkit (src/model/decode.ts), the scalar codecs, and the decode
 * failures of model.md §8 / §10: each failure gives the documented `reason` and
 * `path`, the first one in document order; nothing is defaulted.
 */
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import {
  arrayOf,
  bool,
  BlobIdCodec,
  decodeMessage,
  decodeMessageInput,
  decodeMessages,
  decodeWith,
  DigestCodec,
  dispatch,
  either,
  isDigest,
  isPlainObject,
  isWellFormed,
  keyPath,
  literal,
  MillisCodec,
  nat,
  nonEmptyStr,
  oneOf,
  positive,
  recordOf,
  refine,
  str,
  strict,
  toDecodeError,
  TokenCountCodec,
  type Codec,
  type DecodeError,
  type DecodeReason,
} from '../../src/model/index.ts';

const left = <A>(codec: Codec<A>, u: unknown): DecodeError => {
  const r = decodeWith(codec, u);
  if (E.isRight(r)) throw new Error(`expected a DecodeError, decoded ${JSON.stringify(r.right)}`);
  return r.left;
};

const right = <A>(codec: Codec<A>, u: unknown): A => {
  const r = decodeWith(codec, u);
  if (E.isLeft(r)) throw new Error(`expected Right, got ${r.left.message}`);
  return r.right;
};

const digestA = `sha256:${'a'.repeat(64)}`;

describe('decode toolkit: scalars', () => {
  it('str accepts well-formed strings and refuses others', () => {
    expect(right(str, '')).toBe('');
    expect(right(str, 'é😀')).toBe('é😀');
    expect(left(str, 1)).toMatchObject({ _tag: 'DecodeError', path: '$', reason: 'wrong_type', expected: 'string' });
    expect(left(str, null)).toMatchObject({ reason: 'wrong_type' });
    expect(left(str, 'a\ud800')).toMatchObject({ reason: 'lone_surrogate' });
  });

  it('isWellFormed agrees with String.prototype.isWellFormed semantics', () => {
    const cases: Array<[string, boolean]> = [
      ['', true],
      ['abc', true],
      ['😀', true],
      ['\ud83d', false],
      ['\ude00', false],
      ['\ude00\ud83d', false],
      ['a\ud83d\ude00b', true],
      ['\ud83d\ud83d\ude00', false],
      ['\ud83d\ude00\ude00', false],
    ];
    for (const [s, expected] of cases) expect(isWellFormed(s), JSON.stringify(s)).toBe(expected);
  });

  it('nonEmptyStr refuses the empty string with invalid_value', () => {
    expect(right(nonEmptyStr, 'x')).toBe('x');
    expect(left(nonEmptyStr, '')).toMatchObject({ reason: 'invalid_value' });
    expect(left(nonEmptyStr, 3)).toMatchObject({ reason: 'wrong_type' });
  });

  it('bool', () => {
    expect(right(bool, false)).toBe(false);
    expect(left(bool, 'true')).toMatchObject({ reason: 'wrong_type' });
    expect(left(bool, 0)).toMatchObject({ reason: 'wrong_type' });
  });

  it('nat: non-negative safe integers; other numbers are invalid_number, non-numbers wrong_type', () => {
    for (const n of [0, 1, 42, Number.MAX_SAFE_INTEGER]) expect(right(nat, n)).toBe(n);
    for (const n of [-1, 1.5, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER + 1, 2 ** 60, -0.5]) {
      expect(left(nat, n), String(n)).toMatchObject({ reason: 'invalid_number', path: '$' });
    }
    for (const u of ['1', null, true, 1n, [1], {}]) expect(left(nat, u)).toMatchObject({ reason: 'wrong_type' });
  });

  it('positive: at least 1', () => {
    expect(right(positive, 1)).toBe(1);
    expect(left(positive, 0)).toMatchObject({ reason: 'invalid_number' });
    expect(left(positive, 'x')).toMatchObject({ reason: 'wrong_type' });
  });

  it('MillisCodec and TokenCountCodec are non-negative safe integers', () => {
    expect(right(MillisCodec, 1_700_000_000_000)).toBe(1_700_000_000_000);
    expect(left(MillisCodec, -1)).toMatchObject({ reason: 'invalid_number' });
    expect(left(TokenCountCodec, 0.5)).toMatchObject({ reason: 'invalid_number' });
  });

  it('DigestCodec / BlobIdCodec / isDigest: sha256:<64 lowercase hex>', () => {
    expect(right(DigestCodec, digestA)).toBe(digestA);
    expect(right(BlobIdCodec, digestA)).toBe(digestA);
    expect(isDigest(digestA)).toBe(true);
    for (const bad of [`sha256:${'A'.repeat(64)}`, `sha256:${'a'.repeat(63)}`, `sha256:${'a'.repeat(65)}`, `sha1:${'a'.repeat(64)}`, 'a'.repeat(64), `sha256:${'g'.repeat(64)}`, ` ${digestA}`, `${digestA}\n`]) {
      expect(left(DigestCodec, bad), bad).toMatchObject({ reason: 'invalid_value', expected: 'Digest' });
      expect(isDigest(bad)).toBe(false);
    }
    expect(left(DigestCodec, 1)).toMatchObject({ reason: 'wrong_type' });
    expect(isDigest(1)).toBe(false);
  });

  it('oneOf and literal', () => {
    const c = oneOf('Color', ['red', 'green'] as const, 'unknown_block_type');
    expect(right(c, 'red')).toBe('red');
    const e = left(c, 'blue');
    expect(e).toMatchObject({ reason: 'unknown_block_type', expected: 'Color' });
    expect(e.message).toContain('"blue"');
    expect(left(oneOf('X', ['a'] as const), 'b')).toMatchObject({ reason: 'invalid_value' });
    expect(left(c, 1)).toMatchObject({ reason: 'wrong_type' });
    expect(right(literal('x'), 'x')).toBe('x');
    expect(left(literal('x'), 'y')).toMatchObject({ reason: 'invalid_value' });
    expect(left(literal(1), '1')).toMatchObject({ reason: 'wrong_type' });
  });

  it('refine adds a check after the base codec', () => {
    const even = refine(nat, 'Even', (n) => (n % 2 === 0 ? undefined : 'odd'));
    expect(right(even, 4)).toBe(4);
    expect(left(even, 3)).toMatchObject({ reason: 'invalid_value', expected: 'Even', message: 'invalid_value at $: odd' });
    expect(left(even, -2)).toMatchObject({ reason: 'invalid_number' });
  });
});

describe('decode toolkit: containers', () => {
  it('arrayOf reports the first failing index and checks the minimum length', () => {
    const c = arrayOf(nat, { minLength: 1, name: 'Nats' });
    const input = [1, 2, 3];
    expect(right(c, input)).toBe(input); // unchanged input is returned as is
    expect(left(c, [1, -1, 'x'])).toMatchObject({ path: '$[1]', reason: 'invalid_number' });
    expect(left(c, [])).toMatchObject({ path: '$', reason: 'invalid_value', expected: 'Nats' });
    expect(left(c, { 0: 1 })).toMatchObject({ reason: 'wrong_type' });
  });

  it('recordOf decodes every value and reports the key path', () => {
    const c = recordOf(nat);
    expect(right(c, { a: 1 })).toEqual({ a: 1 });
    expect(left(c, { a: 1, 'b c': -1 })).toMatchObject({ path: '$["b c"]', reason: 'invalid_number' });
    expect(left(c, [1])).toMatchObject({ reason: 'wrong_type' });
  });

  it('isPlainObject: Object.prototype or null prototype only', () => {
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    expect(isPlainObject([])).toBe(false);
    expect(isPlainObject(null)).toBe(false);
    expect(isPlainObject(new Date())).toBe(false);
    expect(isPlainObject(new (class A {})())).toBe(false);
    expect(isPlainObject(Object.create({}))).toBe(false);
  });

  it('keyPath: .name for identifiers, ["…"] otherwise', () => {
    expect(keyPath('content')).toBe('.content');
    expect(keyPath('$x_1')).toBe('.$x_1');
    expect(keyPath('1a')).toBe('["1a"]');
    expect(keyPath('a b')).toBe('["a b"]');
    expect(keyPath('')).toBe('[""]');
    expect(keyPath('"')).toBe('["\\""]');
  });

  const Point = strict('Point', { x: nat, y: nat }, { label: str });

  it('strict: unknown keys are refused, not stripped', () => {
    expect(left(Point, { x: 1, y: 2, z: 3 })).toMatchObject({ path: '$.z', reason: 'unknown_field', expected: 'Point' });
    expect(left(Point, { x: 1, 'not an id': 0, y: 2 })).toMatchObject({ path: '$["not an id"]', reason: 'unknown_field' });
    expect(left(Point, { __proto__: null, x: 1, y: 2, constructor: 1 })).toMatchObject({ path: '$.constructor', reason: 'unknown_field' });
    expect(left(Point, JSON.parse('{"x":1,"y":2,"__proto__":{}}'))).toMatchObject({ path: '$.__proto__', reason: 'unknown_field' });
  });

  it('strict: missing required keys in declared order, after the present keys', () => {
    expect(left(Point, {})).toMatchObject({ path: '$.x', reason: 'missing_field' });
    expect(left(Point, { x: 1 })).toMatchObject({ path: '$.y', reason: 'missing_field' });
    // A bad present key comes before a missing one.
    expect(left(Point, { label: 5 })).toMatchObject({ path: '$.label', reason: 'wrong_type' });
  });

  it('strict: the first failure in the value\'s own key order', () => {
    expect(left(Point, { y: -1, x: 'a' })).toMatchObject({ path: '$.y' });
    expect(left(Point, { x: 'a', y: -1 })).toMatchObject({ path: '$.x' });
  });

  it('strict: null is not absent; undefined members count as absent and are dropped', () => {
    expect(left(Point, { x: 1, y: 2, label: null })).toMatchObject({ path: '$.label', reason: 'wrong_type' });
    const r = right(Point, { x: 1, y: 2, label: undefined });
    expect(r).toEqual({ x: 1, y: 2 });
    expect('label' in r).toBe(false);
    expect(left(Point, { x: undefined, y: 2 })).toMatchObject({ path: '$.x', reason: 'missing_field' });
  });

  it('strict: nothing defaulted, valid input returned as is', () => {
    const input = { x: 1, y: 2 };
    const out = right(Point, input);
    expect(out).toBe(input);
    expect(Object.keys(out)).toEqual(['x', 'y']);
  });

  it('strict: refuses non-plain objects', () => {
    expect(left(Point, [])).toMatchObject({ reason: 'wrong_type' });
    expect(left(Point, null)).toMatchObject({ reason: 'wrong_type' });
    expect(left(Point, new (class {
      x = 1;
      y = 2;
    })())).toMatchObject({ reason: 'wrong_type' });
  });

  const Shape = dispatch(
    'Shape',
    'kind',
    {
      dot: strict('Dot', { kind: literal('dot') }),
      box: strict('Box', { kind: literal('box'), w: nat }),
    },
    'unknown_block_type',
  );

  it('dispatch: missing, non-string and unknown discriminants', () => {
    expect(left(Shape, {})).toMatchObject({ path: '$.kind', reason: 'missing_field' });
    expect(left(Shape, { kind: 1 })).toMatchObject({ path: '$.kind', reason: 'wrong_type' });
    const e = left(Shape, { kind: 'circle' });
    expect(e).toMatchObject({ path: '$.kind', reason: 'unknown_block_type' });
    expect(e.message).toContain('"circle"');
    // Prototype names are not branches.
    expect(left(Shape, { kind: 'toString' })).toMatchObject({ reason: 'unknown_block_type' });
    expect(left(Shape, { kind: '__proto__' })).toMatchObject({ reason: 'unknown_block_type' });
    expect(left(Shape, 'dot')).toMatchObject({ path: '$', reason: 'wrong_type' });
  });

  it('dispatch: decodes exactly the chosen branch (one error, not every branch)', () => {
    expect(right(Shape, { kind: 'dot' })).toEqual({ kind: 'dot' });
    expect(left(Shape, { kind: 'box' })).toMatchObject({ path: '$.w', reason: 'missing_field', expected: 'Box' });
    expect(left(Shape, { kind: 'dot', w: 1 })).toMatchObject({ path: '$.w', reason: 'unknown_field', expected: 'Dot' });
  });

  it('either tries in order and reports the last branch', () => {
    const c = either('NatOrBool', nat, bool);
    expect(right(c, 1)).toBe(1);
    expect(right(c, true)).toBe(true);
    expect(left(c, 'x')).toMatchObject({ reason: 'wrong_type', expected: 'boolean' });
  });

  it('toDecodeError maps foreign io-ts errors to invalid_value', () => {
    const r = t.string.decode(1);
    expect(E.isLeft(r)).toBe(true);
    if (E.isLeft(r)) expect(toDecodeError(r.left)).toMatchObject({ _tag: 'DecodeError', reason: 'invalid_value', path: '$' });
    expect(toDecodeError([])).toMatchObject({ _tag: 'DecodeError', path: '$' });
  });

  it('codecs encode as the identity', () => {
    const v = { x: 1, y: 2 };
    expect(Point.encode(v)).toBe(v);
    expect(Point.is(v)).toBe(true);
    expect(Point.is({ x: 1 })).toBe(false);
  });
});

// ---------------------------------------------------------------------------
// Message decode failures (model.md §10)

const text = (s: string) => ({ type: 'text', text: s });
const user = (over: Record<string, unknown> = {}) => ({ role: 'user', content: [text('a'), text('b'), text('c')], transcriptRole: 'conversational', createdAt: 1, ...over });
const assistant = (over: Record<string, unknown> = {}) => ({ role: 'assistant', content: [{ type: 'text', text: 'hi' }], stopReason: 'end_turn', createdAt: 2, ...over });
const results = (over: Record<string, unknown> = {}, resultOver: Record<string, unknown> = {}) => ({
  role: 'tool_results',
  results: [{ toolUseId: 'tu_1', content: [text('ok'), text('fine')], isError: false, ...resultOver }],
  createdAt: 3,
  ...over,
});
const image = (mediaType: string, data: string) => ({ type: 'image', mediaType, source: { type: 'inline', data } });
const usage = (u: Record<string, unknown>) => assistant({ usage: u });

/** A transcript of 41 valid messages with `bad` at index 41, as stored (JSON round trip). */
const at41 = (bad: unknown): unknown => {
  const ms: unknown[] = [];
  for (let i = 0; i < 41; i++) ms.push(i % 3 === 0 ? user() : i % 3 === 1 ? assistant() : results());
  ms.push(bad);
  return ms;
};

type Case = readonly [name: string, bad: unknown, path: string, reason: DecodeReason];

const cases: Case[] = [
  // unknown role / block type
  ['unknown role', user({ role: 'robot' }), '$[41].role', 'unknown_role'],
  ['missing role', (({ role: _r, ...rest }) => rest)(user()), '$[41].role', 'missing_field'],
  ['non-string role', user({ role: 7 }), '$[41].role', 'wrong_type'],
  ['unknown user block type', user({ content: [text('a'), text('b'), { type: 'video', url: 'x' }] }), '$[41].content[2].type', 'unknown_block_type'],
  ['missing block type', user({ content: [text('a'), text('b'), { text: 'c' }] }), '$[41].content[2].type', 'missing_field'],
  ['image in assistant content', assistant({ content: [image('image/png', 'AA==')] }), '$[41].content[0].type', 'unknown_block_type'],
  ['unknown assistant block type', assistant({ content: [{ type: 'thinking', thinking: 'x' }] }), '$[41].content[0].type', 'unknown_block_type'],
  ['unknown image source type', user({ content: [{ type: 'image', mediaType: 'image/png', source: { type: 'url', url: 'x' } }] }), '$[41].content[0].source.type', 'unknown_block_type'],
  ['unknown block in a tool result', results({}, { content: [text('a'), { type: 'file' }] }), '$[41].results[0].content[1].type', 'unknown_block_type'],
  // missing field
  ['missing createdAt', (({ createdAt: _c, ...rest }) => rest)(user()), '$[41].createdAt', 'missing_field'],
  ['missing transcriptRole (not defaulted)', (({ transcriptRole: _t, ...rest }) => rest)(user()), '$[41].transcriptRole', 'missing_field'],
  ['missing isError (not defaulted)', results({}, { isError: undefined }), '$[41].results[0].isError', 'missing_field'],
  ['missing stopReason', (({ stopReason: _s, ...rest }) => rest)(assistant()), '$[41].stopReason', 'missing_field'],
  ['missing text in a block', user({ content: [text('a'), { type: 'text' }] }), '$[41].content[1].text', 'missing_field'],
  ['missing tool_use args', assistant({ content: [{ type: 'tool_use', id: 'a', name: 'b' }] }), '$[41].content[0].args', 'missing_field'],
  ['missing notice kind', { role: 'system_notice', text: 'x', createdAt: 1 }, '$[41].kind', 'missing_field'],
  ['missing image source', user({ content: [{ type: 'image', mediaType: 'image/png' }] }), '$[41].content[0].source', 'missing_field'],
  ['missing transcript source', assistant({ content: [{ type: 'transcript', text: 'x' }] }), '$[41].content[0].source', 'missing_field'],
  ['missing origin model', assistant({ origin: { provider: 'p' } }), '$[41].origin.model', 'missing_field'],
  ['missing usage outputTokens', usage({ inputTokens: 1 }), '$[41].usage.outputTokens', 'missing_field'],
  // extra key
  ['extra key on a message', user({ extra: 1 }), '$[41].extra', 'unknown_field'],
  ['extra key with an odd name', user({ 'x-y': 1 }), '$[41]["x-y"]', 'unknown_field'],
  ['extra key on a block', user({ content: [text('a'), { type: 'text', text: 'b', cache: true }] }), '$[41].content[1].cache', 'unknown_field'],
  ['extra key on an image source', user({ content: [{ type: 'image', mediaType: 'image/png', source: { type: 'blob', blobId: digestA, size: 3 } }] }), '$[41].content[0].source.size', 'unknown_field'],
  ['extra key on usage', usage({ inputTokens: 1, outputTokens: 1, cost: 0 }), '$[41].usage.cost', 'unknown_field'],
  ['extra key on origin', assistant({ origin: { provider: 'p', model: 'm', region: 'eu' } }), '$[41].origin.region', 'unknown_field'],
  ['extra key on a tool result', results({}, { toolName: 'read' }), '$[41].results[0].toolName', 'unknown_field'],
  ['signature on a transcript block', assistant({ content: [{ type: 'transcript', text: 'x', source: 'spoken', signature: 's' }] }), '$[41].content[0].signature', 'unknown_field'],
  ['usage on a user message', user({ usage: { inputTokens: 1, outputTokens: 1 } }), '$[41].usage', 'unknown_field'],
  // null optional / wrong type
  ['null usage', assistant({ usage: null }), '$[41].usage', 'wrong_type'],
  ['null origin', assistant({ origin: null }), '$[41].origin', 'wrong_type'],
  ['null errorMessage', assistant({ errorMessage: null }), '$[41].errorMessage', 'wrong_type'],
  ['null signature', assistant({ content: [{ type: 'reasoning', text: '', signature: null }] }), '$[41].content[0].signature', 'wrong_type'],
  ['null origin.api', assistant({ origin: { provider: 'p', model: 'm', api: null } }), '$[41].origin.api', 'wrong_type'],
  ['null cache field', usage({ inputTokens: 1, outputTokens: 1, cacheReadTokens: null }), '$[41].usage.cacheReadTokens', 'wrong_type'],
  ['null createdAt', user({ createdAt: null }), '$[41].createdAt', 'wrong_type'],
  ['null required text', { role: 'system', text: null, createdAt: 1 }, '$[41].text', 'wrong_type'],
  ['content not an array', user({ content: 'hello' }), '$[41].content', 'wrong_type'],
  ['message not an object', 'hello', '$[41]', 'wrong_type'],
  ['isError not a boolean', results({}, { isError: 'false' }), '$[41].results[0].isError', 'wrong_type'],
  ['createdAt as a string', user({ createdAt: '2024-01-01' }), '$[41].createdAt', 'wrong_type'],
  // NaN, Infinity
  ['NaN createdAt', user({ createdAt: NaN }), '$[41].createdAt', 'invalid_number'],
  ['Infinity createdAt', user({ createdAt: Infinity }), '$[41].createdAt', 'invalid_number'],
  ['NaN in structured data', user({ content: [{ type: 'structured', data: { a: [1, NaN] } }] }), '$[41].content[0].data.a[1]', 'invalid_number'],
  ['Infinity in tool args', assistant({ content: [{ type: 'tool_use', id: 'a', name: 'b', args: { n: Infinity } }] }), '$[41].content[0].args.n', 'invalid_number'],
  ['-Infinity in details', results({}, { details: [-Infinity] }), '$[41].results[0].details[0]', 'invalid_number'],
  ['NaN in notice data', { role: 'system_notice', kind: 'generic', text: '', data: NaN, createdAt: 1 }, '$[41].data', 'invalid_number'],
  // bad token counts
  ['negative inputTokens', usage({ inputTokens: -1, outputTokens: 0 }), '$[41].usage.inputTokens', 'invalid_number'],
  ['fractional outputTokens', usage({ inputTokens: 1, outputTokens: 1.5 }), '$[41].usage.outputTokens', 'invalid_number'],
  ['unsafe inputTokens', usage({ inputTokens: 2 ** 53, outputTokens: 0 }), '$[41].usage.inputTokens', 'invalid_number'],
  ['NaN cacheCreationTokens', usage({ inputTokens: 1, outputTokens: 0, cacheCreationTokens: NaN }), '$[41].usage.cacheCreationTokens', 'invalid_number'],
  ['token count as a string', usage({ inputTokens: '5', outputTokens: 0 }), '$[41].usage.inputTokens', 'wrong_type'],
  ['cache above inputTokens', usage({ inputTokens: 10, outputTokens: 0, cacheCreationTokens: 6, cacheReadTokens: 5 }), '$[41].usage', 'invalid_value'],
  ['negative createdAt', user({ createdAt: -1 }), '$[41].createdAt', 'invalid_number'],
  // lone surrogate
  ['lone surrogate in text', user({ content: [text('a'), text('b\ud800')] }), '$[41].content[1].text', 'lone_surrogate'],
  ['lone surrogate in a system message', { role: 'system', text: '\udc00', createdAt: 1 }, '$[41].text', 'lone_surrogate'],
  ['lone surrogate in a signature', assistant({ content: [{ type: 'text', text: 'x', signature: '\ud83d' }] }), '$[41].content[0].signature', 'lone_surrogate'],
  ['lone surrogate in tool args', assistant({ content: [{ type: 'tool_use', id: 'a', name: 'b', args: { q: ['\ud800'] } }] }), '$[41].content[0].args.q[0]', 'lone_surrogate'],
  ['lone surrogate in a role', user({ role: 'user\ud800' }), '$[41].role', 'unknown_role'],
  // non-canonical base64
  ['base64 with non-zero pad bits', user({ content: [image('image/png', 'iVBORw0KGgp=')] }), '$[41].content[0].source.data', 'invalid_value'],
  ['base64 without padding', user({ content: [image('image/png', 'iVBORw0KGgo')] }), '$[41].content[0].source.data', 'invalid_value'],
  ['base64 with whitespace', user({ content: [image('image/png', 'iVBORw0K\nGgo=')] }), '$[41].content[0].source.data', 'invalid_value'],
  ['base64 with a space', user({ content: [image('image/png', 'iVBO Rw0KGgo=')] }), '$[41].content[0].source.data', 'invalid_value'],
  ['base64url alphabet', user({ content: [image('image/png', '-_-_')] }), '$[41].content[0].source.data', 'invalid_value'],
  ['empty base64', user({ content: [image('image/png', '')] }), '$[41].content[0].source.data', 'invalid_value'],
  ['base64 with extra padding', user({ content: [image('image/png', 'AA===')] }), '$[41].content[0].source.data', 'invalid_value'],
  ['base64 padding in the middle', user({ content: [image('image/png', 'AA==AA==')] }), '$[41].content[0].source.data', 'invalid_value'],
  // non-canonical media type
  ['uppercase media type', user({ content: [image('image/PNG', 'AA==')] }), '$[41].content[0].mediaType', 'invalid_value'],
  ['media type with parameters', user({ content: [image('image/png; q=1', 'AA==')] }), '$[41].content[0].mediaType', 'invalid_value'],
  ['media type with spaces', user({ content: [image(' image/png', 'AA==')] }), '$[41].content[0].mediaType', 'invalid_value'],
  ['non-image media type', user({ content: [image('text/plain', 'AA==')] }), '$[41].content[0].mediaType', 'invalid_value'],
  ['empty subtype', user({ content: [image('image/', 'AA==')] }), '$[41].content[0].mediaType', 'invalid_value'],
  // other refinements
  ['bad blob id', user({ content: [{ type: 'image', mediaType: 'image/png', source: { type: 'blob', blobId: 'sha256:xyz' } }] }), '$[41].content[0].source.blobId', 'invalid_value'],
  ['empty user content', user({ content: [] }), '$[41].content', 'invalid_value'],
  ['empty results', results({ results: [] }), '$[41].results', 'invalid_value'],
  ['empty tool_use id', assistant({ content: [{ type: 'tool_use', id: '', name: 'b', args: {} }] }), '$[41].content[0].id', 'invalid_value'],
  ['empty tool_use name', assistant({ content: [{ type: 'tool_use', id: 'a', name: '', args: {} }] }), '$[41].content[0].name', 'invalid_value'],
  ['empty toolUseId', results({}, { toolUseId: '' }), '$[41].results[0].toolUseId', 'invalid_value'],
  ['empty notice kind', { role: 'system_notice', kind: '', text: 'x', createdAt: 1 }, '$[41].kind', 'invalid_value'],
  ['unknown transcriptRole', user({ transcriptRole: 'narrator' }), '$[41].transcriptRole', 'invalid_value'],
  ['unknown transcript source', assistant({ content: [{ type: 'transcript', text: 'x', source: 'written' }] }), '$[41].content[0].source', 'invalid_value'],
  ['unknown stopReason', assistant({ stopReason: 'stop' }), '$[41].stopReason', 'invalid_value'],
  ['empty origin provider', assistant({ origin: { provider: '', model: 'm' } }), '$[41].origin.provider', 'invalid_value'],
];

describe('decode failures (model.md §10)', () => {
  it.each(cases)('%s', (_name, bad, path, reason) => {
    // Raw values (NaN and Infinity cannot survive JSON); a member set to undefined is absent.
    const input = at41(bad);
    const r = decodeMessages(input);
    expect(r).toMatchObject({ _tag: 'Left', left: { _tag: 'DecodeError', path, reason } });
    if (E.isLeft(r)) {
      expect(r.left.message.startsWith(`${reason} at ${path}`)).toBe(true);
      expect(typeof r.left.expected).toBe('string');
    }
    // The same failure on the message alone, rooted at `$`.
    const single = decodeMessage(bad);
    expect(single).toMatchObject({ _tag: 'Left', left: { path: path.replace('$[41]', '$'), reason } });
  });

  it('unknown role and block type messages name the value', () => {
    const r1 = decodeMessage(user({ role: 'robot' }));
    expect(E.isLeft(r1) && r1.left.message).toContain('"robot"');
    const r2 = decodeMessage(user({ content: [{ type: 'video' }] }));
    expect(E.isLeft(r2) && r2.left.message).toContain('"video"');
  });

  it('not_json for non-JSON values in a Json position', () => {
    expect(decodeMessage(user({ content: [{ type: 'structured', data: { when: new Date() } }] }))).toMatchObject({
      left: { path: '$.content[0].data.when', reason: 'not_json' },
    });
    expect(decodeMessage(assistant({ content: [{ type: 'tool_use', id: 'a', name: 'b', args: 1n }] }))).toMatchObject({
      left: { path: '$.content[0].args', reason: 'not_json' },
    });
    expect(decodeMessage(results({}, { details: { f: () => 1 } }))).toMatchObject({ left: { path: '$.results[0].details.f', reason: 'not_json' } });
  });

  it('reports the first failure in document order', () => {
    // content comes before transcriptRole in the value: the block error wins.
    const m = { role: 'user', content: [{ type: 'text', text: 1 }], transcriptRole: 'bad', createdAt: -1 };
    expect(decodeMessage(m)).toMatchObject({ left: { path: '$.content[0].text', reason: 'wrong_type' } });
    // Reordered keys: the first key in the value fails first.
    const m2 = { createdAt: -1, transcriptRole: 'bad', role: 'user', content: [{ type: 'text', text: 1 }] };
    expect(decodeMessage(m2)).toMatchObject({ left: { path: '$.createdAt', reason: 'invalid_number' } });
    // Among messages, the lowest index.
    expect(decodeMessages([user(), user({ createdAt: -1 }), user({ role: 'x' })])).toMatchObject({ left: { path: '$[1].createdAt' } });
    // Deterministic: the same input gives the same error.
    expect(decodeMessages(at41(user({ a: 1, b: 2 })))).toEqual(decodeMessages(at41(user({ a: 1, b: 2 }))));
  });

  it('decodeMessages refuses a non-array', () => {
    expect(decodeMessages({ 0: user() })).toMatchObject({ left: { path: '$', reason: 'wrong_type' } });
  });

  it('nothing is defaulted: decoded values hold exactly the stored keys', () => {
    const stored = JSON.parse(JSON.stringify([user(), assistant(), results()])) as unknown[];
    const r = decodeMessages(stored);
    expect(E.isRight(r)).toBe(true);
    if (E.isRight(r)) {
      expect(r.right).toEqual(stored);
      r.right.forEach((m, i) => expect(Object.keys(m)).toEqual(Object.keys(stored[i] as object)));
    }
    // A message input without createdAt stays without it.
    const input = (({ createdAt: _c, ...rest }) => rest)(user());
    const ri = decodeMessageInput(input);
    expect(E.isRight(ri) && 'createdAt' in ri.right).toBe(false);
    // No isError, transcriptRole or createdAt is filled in on failure paths either (checked above).
  });

  it('null is a value inside Json', () => {
    expect(E.isRight(decodeMessage(user({ content: [{ type: 'structured', data: null }] })))).toBe(true);
    expect(E.isRight(decodeMessage(assistant({ content: [{ type: 'tool_use', id: 'a', name: 'b', args: { x: null } }] })))).toBe(true);
  });
});
