/**
 * Content blocks and messages (model.md §2, §3, §8): every role and block type
 * survives encode, JSON.stringify, JSON.parse, decode unchanged; the content
 * helpers (media type, base64); MessageInput and stampMessage.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import {
  AssistantBlockCodec,
  Base64Codec,
  canonicalMediaType,
  ContentBlockCodec,
  decodeMessage,
  decodeMessageInput,
  decodeMessages,
  decodeWith,
  ImageSourceCodec,
  isCanonicalBase64,
  MediaTypeCodec,
  MessageCodec,
  MessageInputCodec,
  MessagesCodec,
  OriginCodec,
  stampMessage,
  StopReasonCodec,
  ToolResultCodec,
  TranscriptRoleCodec,
  UsageCodec,
  JsonCodec,
  type Codec,
  type Message,
  type MessageInput,
} from '../../src/model/index.ts';
import {
  arbAssistantBlock,
  arbAssistantBlockByType,
  arbContentBlock,
  arbContentBlockByType,
  arbJson,
  arbMessage,
  arbMessageByRole,
  arbMessageInput,
  arbMessages,
  arbOrigin,
  arbToolResult,
  arbUsage,
  roles,
  stopReasons,
  transcriptRoles,
} from '../../spec/model/arbitraries.ts';

/** encode, JSON.stringify, JSON.parse, decode: the result deep-equals the original. */
const roundTrips = <A>(codec: Codec<A>, value: A): void => {
  const encoded = codec.encode(value);
  expect(encoded).toBe(value); // encode is the identity on valid values
  const stored: unknown = JSON.parse(JSON.stringify(encoded));
  const decoded = decodeWith(codec, stored);
  if (E.isLeft(decoded)) throw new Error(`round trip failed: ${decoded.left.message}`);
  expect(decoded.right).toEqual(value);
  expect(decoded.right).toStrictEqual(stored); // no key added or dropped by decode
  // Decoding the original in memory also succeeds and returns it unchanged.
  expect(decodeWith(codec, value)).toEqual(E.right(value));
};

const runs = { numRuns: 120 };

describe('round trip (model.md §10)', () => {
  it.each(roles)('every %s message', (role) => {
    fc.assert(
      fc.property(arbMessageByRole[role], (m) => {
        expect(m.role).toBe(role);
        roundTrips(MessageCodec, m as Message);
        const viaDecodeMessage = decodeMessage(JSON.parse(JSON.stringify(m)));
        expect(viaDecodeMessage).toEqual(E.right(m));
      }),
      runs,
    );
  });

  it.each(Object.keys(arbContentBlockByType) as Array<keyof typeof arbContentBlockByType>)('every %s content block', (type) => {
    fc.assert(
      fc.property(arbContentBlockByType[type], (b) => {
        expect(b.type).toBe(type);
        roundTrips(ContentBlockCodec, b);
      }),
      runs,
    );
  });

  it.each(Object.keys(arbAssistantBlockByType) as Array<keyof typeof arbAssistantBlockByType>)('every %s assistant block', (type) => {
    fc.assert(
      fc.property(arbAssistantBlockByType[type], (b) => {
        expect(b.type).toBe(type);
        roundTrips(AssistantBlockCodec, b);
      }),
      runs,
    );
  });

  it('content blocks, assistant blocks, tool results, usage, origin, Json', () => {
    fc.assert(fc.property(arbContentBlock, (b) => roundTrips(ContentBlockCodec, b)), runs);
    fc.assert(fc.property(arbAssistantBlock, (b) => roundTrips(AssistantBlockCodec, b)), runs);
    fc.assert(fc.property(arbToolResult, (r) => roundTrips(ToolResultCodec, r)), runs);
    fc.assert(fc.property(arbUsage, (u) => roundTrips(UsageCodec, u)), runs);
    fc.assert(fc.property(arbOrigin, (o) => roundTrips(OriginCodec, o)), runs);
    fc.assert(fc.property(arbJson, (j) => roundTrips(JsonCodec, j)), runs);
  });

  it('transcripts of mixed roles (decodeMessages)', () => {
    fc.assert(
      fc.property(arbMessages(6), (ms) => {
        roundTrips(MessagesCodec, ms);
        expect(decodeMessages(JSON.parse(JSON.stringify(ms)))).toEqual(E.right(ms));
      }),
      { numRuns: 60 },
    );
  });

  it('message inputs, with and without createdAt', () => {
    fc.assert(
      fc.property(arbMessageInput, (m) => {
        roundTrips(MessageInputCodec, m);
        expect(decodeMessageInput(JSON.parse(JSON.stringify(m)))).toEqual(E.right(m));
      }),
      runs,
    );
  });

  it('the arbitraries cover every role, block type, stop reason and transcript role', () => {
    const seen = new Set<string>();
    for (const m of fc.sample(arbMessage, { numRuns: 400, seed: 7 })) {
      seen.add(`role:${m.role}`);
      if (m.role === 'user') {
        seen.add(`tr:${m.transcriptRole}`);
        for (const b of m.content) seen.add(`cb:${b.type}`);
      }
      if (m.role === 'assistant') {
        seen.add(`sr:${m.stopReason}`);
        for (const b of m.content) seen.add(`ab:${b.type}`);
      }
    }
    for (const r of roles) expect(seen).toContain(`role:${r}`);
    for (const t of ['text', 'image', 'structured']) expect(seen).toContain(`cb:${t}`);
    for (const t of ['text', 'transcript', 'reasoning', 'tool_use']) expect(seen).toContain(`ab:${t}`);
    for (const s of stopReasons) expect(seen).toContain(`sr:${s}`);
    for (const t of transcriptRoles) expect(seen).toContain(`tr:${t}`);
  });
});

describe('messages', () => {
  const base: Message = { role: 'user', content: [{ type: 'text', text: 'hi' }], transcriptRole: 'conversational', createdAt: 5 };

  it('a message with every optional field decodes; so does a minimal one of each role', () => {
    const full: Message = {
      role: 'assistant',
      content: [
        { type: 'text', text: 'a', signature: 's' },
        { type: 'transcript', text: 'b', source: 'spoken' },
        { type: 'reasoning', text: '', signature: 'enc' },
        { type: 'tool_use', id: 't', name: 'n', args: 'not valid json {', signature: 'sig' },
      ],
      stopReason: 'error',
      errorMessage: 'boom',
      origin: { provider: 'anthropic', model: 'claude', api: 'anthropic-messages', responseId: 'msg_1' },
      usage: { inputTokens: 10, outputTokens: 2, cacheCreationTokens: 3, cacheReadTokens: 4 },
      createdAt: 9,
    };
    expect(decodeMessage(full)).toEqual(E.right(full));
    const minimal: unknown[] = [
      { role: 'system', text: '', createdAt: 0 },
      { role: 'system_notice', kind: 'model_change', text: '', createdAt: 0 },
      base,
      { role: 'assistant', content: [], stopReason: 'cancelled', createdAt: 0 },
      { role: 'tool_results', results: [{ toolUseId: 'x', content: [], isError: true }], createdAt: 0 },
    ];
    for (const m of minimal) expect(decodeMessage(m)).toEqual(E.right(m));
  });

  it('accepts null-prototype objects', () => {
    const m = Object.assign(Object.create(null) as object, base);
    expect(E.isRight(decodeMessage(m))).toBe(true);
  });

  it('MessageCodec requires createdAt; MessageInputCodec does not', () => {
    const { createdAt: _c, ...input } = base;
    expect(decodeMessage(input)).toMatchObject({ left: { path: '$.createdAt', reason: 'missing_field' } });
    expect(decodeMessageInput(input)).toEqual(E.right(input));
    expect(decodeMessageInput(base)).toEqual(E.right(base));
    expect(decodeMessageInput({ ...input, createdAt: -1 })).toMatchObject({ left: { path: '$.createdAt', reason: 'invalid_number' } });
    expect(decodeMessageInput({ ...input, role: 'bot' })).toMatchObject({ left: { path: '$.role', reason: 'unknown_role' } });
  });

  it('stampMessage fills a missing createdAt and keeps an existing one', () => {
    const { createdAt: _c, ...input } = base;
    const stamped = stampMessage(input as MessageInput, 42);
    expect(stamped).toEqual({ ...input, createdAt: 42 });
    expect(input).not.toHaveProperty('createdAt'); // pure
    expect(stampMessage(base, 42)).toBe(base);
    expect(stampMessage({ ...input, createdAt: 0 } as MessageInput, 42).createdAt).toBe(0);
    fc.assert(
      fc.property(arbMessageInput, fc.maxSafeNat(), (m, at) => {
        const s = stampMessage(m, at);
        expect(decodeMessage(s)).toEqual(E.right(s));
        expect(s.createdAt).toBe(m.createdAt ?? at);
      }),
      { numRuns: 60 },
    );
  });

  it('the closed sets', () => {
    for (const s of stopReasons) expect(decodeWith(StopReasonCodec, s)).toEqual(E.right(s));
    for (const r of transcriptRoles) expect(decodeWith(TranscriptRoleCodec, r)).toEqual(E.right(r));
    expect(E.isLeft(decodeWith(StopReasonCodec, 'stop'))).toBe(true);
    expect(E.isLeft(decodeWith(TranscriptRoleCodec, 'Conversational'))).toBe(true);
  });
});

describe('content helpers', () => {
  it('canonicalMediaType trims, cuts at ";" and lowercases', () => {
    expect(canonicalMediaType('image/png')).toBe('image/png');
    expect(canonicalMediaType(' Image/PNG ')).toBe('image/png');
    expect(canonicalMediaType('image/jpeg; charset=binary')).toBe('image/jpeg');
    expect(canonicalMediaType('IMAGE/SVG+XML;q=1')).toBe('image/svg+xml');
  });

  it('MediaTypeCodec accepts exactly the canonical spelling', () => {
    for (const ok of ['image/png', 'image/svg+xml', 'image/vnd.ms-photo', 'image/x-icon', 'image/0', "image/a!#$&^_.+-"]) {
      expect(decodeWith(MediaTypeCodec, ok), ok).toEqual(E.right(ok));
    }
    for (const bad of ['image/PNG', 'Image/png', 'image/png;q=1', 'image/png ', 'image/', 'image/-x', 'text/plain', 'image', 'image/p ng', 'image/pñg', '']) {
      expect(decodeWith(MediaTypeCodec, bad), bad).toMatchObject({ left: { reason: 'invalid_value', expected: 'MediaType' } });
    }
  });

  it('isCanonicalBase64: padded standard base64 that re-encodes to itself', () => {
    expect(isCanonicalBase64('iVBORw0KGgo=')).toBe(true);
    expect(isCanonicalBase64('AA==')).toBe(true);
    expect(isCanonicalBase64('AAA=')).toBe(true);
    expect(isCanonicalBase64('AAAA')).toBe(true);
    expect(isCanonicalBase64('+/+/')).toBe(true);
    for (const bad of ['', 'A', 'AA', 'AA=', 'AB==', 'AAB=', 'iVBORw0KGgp=', 'iVBORw0KGgo', ' AAAA', 'AA AA', 'AAAA\n', '-_-_', 'AA==AA==', '====', 'A===', 'AAAAA===']) {
      expect(isCanonicalBase64(bad), JSON.stringify(bad)).toBe(false);
      expect(E.isLeft(decodeWith(Base64Codec, bad))).toBe(true);
    }
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        expect(isCanonicalBase64(Buffer.from(bytes).toString('base64'))).toBe(true);
      }),
    );
    // Checked on the text, it agrees with decoding and re-encoding (what it was defined by) on any short string of base64 characters.
    const chars = 'AQgw/+=B';
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...chars), { maxLength: 12 }), (cs) => {
        const s = cs.join('');
        const roundTrips = s.length > 0 && s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s) && Buffer.from(s, 'base64').toString('base64') === s;
        expect(isCanonicalBase64(s), JSON.stringify(s)).toBe(roundTrips);
      }),
      { numRuns: 2000 },
    );
  });

  it('canonical base64 text and bytes correspond one to one (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9+/]{2,12}={0,2}$/), (s) => {
        if (isCanonicalBase64(s)) expect(Buffer.from(Buffer.from(s, 'base64')).toString('base64')).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  it('ImageSourceCodec: inline or blob, nothing else', () => {
    const blob = { type: 'blob', blobId: `sha256:${'0'.repeat(64)}` };
    expect(decodeWith(ImageSourceCodec, blob)).toEqual(E.right(blob));
    expect(decodeWith(ImageSourceCodec, { type: 'inline', data: 'AA==' })).toEqual(E.right({ type: 'inline', data: 'AA==' }));
    expect(decodeWith(ImageSourceCodec, { type: 'url', url: 'x' })).toMatchObject({ left: { path: '$.type', reason: 'unknown_block_type' } });
    expect(decodeWith(ImageSourceCodec, { type: 'inline', data: 'AA==', blobId: blob.blobId })).toMatchObject({ left: { path: '$.blobId', reason: 'unknown_field' } });
  });

  it('tool results: content may be empty, details is any Json', () => {
    const r = { toolUseId: 'a', content: [], isError: false, details: { diff: ['-a', '+b'], n: null } };
    expect(decodeWith(ToolResultCodec, r)).toEqual(E.right(r));
  });
});
