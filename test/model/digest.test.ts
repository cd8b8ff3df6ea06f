/**
 * Transcript digests (model.md §7.1–§7.3): the vectors, digest form, stability
 * and sensitivity lists of §10, blob ids and byte memoization.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  assistantMessage,
  assistantText,
  blobId,
  canonicalMessageBytes,
  digestForm,
  imageBlob,
  imageInline,
  outputText,
  reasoning,
  spoken,
  structuredBlock,
  systemMessage,
  systemNotice,
  textBlock,
  toolResult,
  toolResults,
  toolUse,
  transcriptDigest,
  userMessage,
  userText,
  sha256Digest,
  framing,
  type Message,
  type MessageInput,
} from '../../src/model/index.ts';
import { commaMessageBytes, inlineBlobId } from '../../src/model/digest.ts';
import { canonicalJsonUnsafe as canonicalJson } from '../../src/model/json.ts';
import { arbImageBytes, arbMediaType, arbMessage, arbMessages, arbMillis, arbOrigin, arbUsage } from '../../spec/model/arbitraries.ts';

const sha = (bytes: Uint8Array | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const decoder = new TextDecoder();

const EMPTY = 'sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945';
const HELLO = 'sha256:272c6f9c335d47d833189ef60d38a182e598b4b3a0ea73e7f7080f23a1ee2f1f';
const HELLO_HI = 'sha256:da2222c402f476a7db9ac4a9b90155a3307e41aa4dfad5482ba5f2b3f1fd993a';
const PNG = 'sha256:fb1e3bc6dbb29cf9dff812505b0d6a5ef6ab17e0cd1daa08743b9455f65e1734';
const PNG_BYTES = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('vectors (model.md §7.2, §7.3)', () => {
  it('§7.2 blob id of image/png with the PNG signature bytes', () => {
    expect(Buffer.from(PNG_BYTES).toString('base64')).toBe('iVBORw0KGgo=');
    expect(blobId('image/png', PNG_BYTES)).toBe(PNG);
    // The preimage is UTF-8(mediaType) || 0x00 || bytes.
    expect(sha(Buffer.concat([Buffer.from('image/png'), Buffer.from([0]), PNG_BYTES]))).toBe(PNG);
  });

  it('§7.3 the empty transcript', () => {
    expect(transcriptDigest([])).toBe(EMPTY);
    expect(sha('[]')).toBe(EMPTY);
  });

  it('§7.3 [userText("hello")] hashes exactly the quoted bytes, whatever its createdAt', () => {
    const quoted = '[{"content":[{"text":"hello","type":"text"}],"role":"user","transcriptRole":"conversational"}]';
    expect(sha(quoted)).toBe(HELLO);
    expect(transcriptDigest([userText('hello')])).toBe(HELLO);
    for (const createdAt of [0, 1, 1_700_000_000_000, Number.MAX_SAFE_INTEGER]) {
      const m = userText('hello', { createdAt });
      expect(m.createdAt).toBe(createdAt);
      expect(transcriptDigest([m])).toBe(HELLO);
      expect(`[${decoder.decode(canonicalMessageBytes(m))}]`).toBe(quoted);
    }
  });

  it('§7.3 the same plus assistantText("hi")', () => {
    expect(transcriptDigest([userText('hello'), assistantText('hi')])).toBe(HELLO_HI);
    expect(
      sha(
        '[{"content":[{"text":"hello","type":"text"}],"role":"user","transcriptRole":"conversational"},' +
          '{"content":[{"text":"hi","type":"text"}],"role":"assistant","stopReason":"end_turn"}]',
      ),
    ).toBe(HELLO_HI);
    expect(transcriptDigest([userText('hello', { createdAt: 3 }), assistantText('hi', { createdAt: 4, usage: { inputTokens: 1, outputTokens: 1 } })])).toBe(HELLO_HI);
  });

  it('sha256Digest hashes raw bytes', () => {
    expect(sha256Digest(new Uint8Array())).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Digest(new TextEncoder().encode('[]'))).toBe(EMPTY);
  });

  it('T(ms) is "[" + J(d(m0)) + "," + … + "]" (property)', () => {
    fc.assert(
      fc.property(arbMessages(6), (ms) => {
        const t = `[${ms.map((m) => decoder.decode(canonicalMessageBytes(m))).join(',')}]`;
        expect(transcriptDigest(ms)).toBe(sha(t));
        expect(framing.OPEN).toEqual(new TextEncoder().encode('['));
        expect(framing.COMMA).toEqual(new TextEncoder().encode(','));
        expect(framing.CLOSE).toEqual(new TextEncoder().encode(']'));
      }),
      { numRuns: 60 },
    );
  });
});

describe('blobId', () => {
  it('separates media type and bytes with 0x00', () => {
    const a = blobId('image/png', new Uint8Array([0x61]));
    const b = blobId('image/pnga', new Uint8Array());
    expect(a).not.toBe(b);
    expect(blobId('image/png', new Uint8Array([1, 2]))).not.toBe(blobId('image/png', new Uint8Array([1, 2, 0])));
    expect(blobId('image/png', PNG_BYTES)).not.toBe(blobId('image/jpeg', PNG_BYTES));
  });

  it('matches the definition (property)', () => {
    fc.assert(
      fc.property(arbMediaType, arbImageBytes, (mt, bytes) => {
        expect(blobId(mt, bytes)).toBe(sha(Buffer.concat([Buffer.from(mt, 'utf8'), Buffer.from([0]), bytes])));
      }),
      { numRuns: 100 },
    );
  });

  it('inlineBlobId: decoded a slice at a time, the same id as the whole bytes; non-canonical text decoded whole as Buffer reads it (property)', () => {
    fc.assert(
      fc.property(arbMediaType, fc.uint8Array({ minLength: 1, maxLength: 80 }), fc.constantFrom(4, 8, 12, 40), (mt, bytes, slice) => {
        const text = Buffer.from(bytes).toString('base64');
        expect(inlineBlobId(mt, text, slice)).toBe(blobId(mt, bytes));
        expect(inlineBlobId(mt, text)).toBe(blobId(mt, bytes));
        const spaced = `${text.slice(0, 3)} ${text.slice(3)}`; // not canonical: no slicing at 4-character boundaries
        expect(inlineBlobId(mt, spaced, slice)).toBe(blobId(mt, Buffer.from(spaced, 'base64')));
      }),
      { numRuns: 200 },
    );
  });
});

describe('digestForm (model.md §7.1)', () => {
  it('removes createdAt from every role and origin/usage from assistant messages', () => {
    expect(digestForm(systemMessage('s', { createdAt: 1 }))).toEqual({ role: 'system', text: 's' });
    expect(digestForm(systemNotice('generic', 'n', { createdAt: 1, data: { a: 1 } }))).toEqual({ role: 'system_notice', kind: 'generic', text: 'n', data: { a: 1 } });
    expect(
      digestForm(
        assistantMessage([outputText('x', 'sig')], 'error', {
          createdAt: 1,
          errorMessage: 'boom',
          origin: { provider: 'p', model: 'm' },
          usage: { inputTokens: 1, outputTokens: 1 },
        }),
      ),
    ).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'x', signature: 'sig' }], stopReason: 'error', errorMessage: 'boom' });
    expect(digestForm(toolResults([toolResult('t', 'r', { details: { d: 1 } })], { createdAt: 1 }))).toEqual({
      role: 'tool_results',
      results: [{ toolUseId: 't', content: [{ type: 'text', text: 'r' }], isError: false, details: { d: 1 } }],
    });
  });

  it('replaces inline images by their blob id, in user content and tool results', () => {
    const inline = imageInline('image/png', 'iVBORw0KGgo=');
    expect(digestForm(userMessage([inline]))).toEqual({
      role: 'user',
      content: [{ type: 'image', mediaType: 'image/png', source: { type: 'blob', blobId: PNG } }],
      transcriptRole: 'conversational',
    });
    expect(digestForm(toolResults([toolResult('t', [textBlock('a'), inline])]))).toEqual({
      role: 'tool_results',
      results: [{ toolUseId: 't', content: [{ type: 'text', text: 'a' }, { type: 'image', mediaType: 'image/png', source: { type: 'blob', blobId: PNG } }], isError: false }],
    });
  });

  it('does not mutate the message', () => {
    const m = userMessage([imageInline('image/png', 'iVBORw0KGgo=')], { createdAt: 7 });
    const copy = structuredClone(m);
    digestForm(m);
    canonicalMessageBytes(m);
    expect(m).toEqual(copy);
  });
});

// ---------------------------------------------------------------------------
// Stability and sensitivity (model.md §10)

const d = (ms: readonly (Message | MessageInput)[]): string => transcriptDigest(ms);

const pngBlob = imageBlob('image/png', PNG);
const pngInline = imageInline('image/png', 'iVBORw0KGgo=');

/** A transcript exercising every role, block type and optional field. */
const sample = (o: {
  createdAt?: number;
  origin?: { provider: string; model: string };
  usage?: { inputTokens: number; outputTokens: number };
  img?: 'inline' | 'blob';
  argsOrder?: 'ab' | 'ba';
} = {}): Message[] => {
  const at = o.createdAt ?? 1;
  const img = o.img === 'blob' ? pngBlob : pngInline;
  const args = o.argsOrder === 'ba' ? { b: { y: 2, x: 1 }, a: [1, { q: 1, p: 2 }] } : { a: [1, { p: 2, q: 1 }], b: { x: 1, y: 2 } };
  const data = o.argsOrder === 'ba' ? { z: null, m: { k: 'v', j: true } } : { m: { j: true, k: 'v' }, z: null };
  const details = o.argsOrder === 'ba' ? { diff: '-a+b', at: 3 } : { at: 3, diff: '-a+b' };
  const ms: MessageInput[] = [
    systemMessage('You are helpful.', { createdAt: at }),
    systemNotice('tool_scope', 'tools changed', { createdAt: at + 1, data }),
    userMessage([textBlock('look'), img, structuredBlock(data)], { createdAt: at + 2 }),
    assistantMessage([reasoning('think', 'rsig'), outputText('ok', 'tsig'), spoken('said'), toolUse('tu1', 'read', args, 'usig')], 'tool_use', {
      createdAt: at + 3,
      ...(o.origin ? { origin: o.origin } : {}),
      ...(o.usage ? { usage: o.usage } : {}),
    }),
    toolResults([toolResult('tu1', [textBlock('file'), img], { details }), toolResult('tu2', 'second', { isError: true })], { createdAt: at + 4 }),
  ];
  return ms as Message[];
};

describe('digest stability (model.md §10)', () => {
  const base = d(sample());

  it('changing createdAt', () => {
    expect(d(sample({ createdAt: 999_999 }))).toBe(base);
    expect(d(sample().map(({ createdAt: _c, ...m }) => m as MessageInput))).toBe(base);
  });

  it('changing or adding origin and usage', () => {
    expect(d(sample({ origin: { provider: 'anthropic', model: 'm1' } }))).toBe(base);
    expect(d(sample({ origin: { provider: 'openai', model: 'm2' } }))).toBe(base);
    expect(d(sample({ usage: { inputTokens: 100, outputTokens: 3 } }))).toBe(base);
  });

  it('inlining or externalizing an image', () => {
    expect(d(sample({ img: 'blob' }))).toBe(base);
  });

  it('reordering keys inside args, data and details', () => {
    expect(d(sample({ argsOrder: 'ba' }))).toBe(base);
  });

  it('reordering the message object\'s own keys, and undefined members', () => {
    const m = userText('x', { createdAt: 1 }) as Message;
    const reordered = { transcriptRole: m.role === 'user' ? m.transcriptRole : 'x', createdAt: 2, content: m.role === 'user' ? m.content : [], role: 'user' } as Message;
    expect(d([reordered])).toBe(d([m]));
    expect(d([{ ...m, createdAt: undefined } as unknown as MessageInput])).toBe(d([m]));
  });

  it('createdAt, origin and usage never matter (property)', () => {
    fc.assert(
      fc.property(arbMessages(5), fc.array(fc.tuple(arbMillis, fc.option(arbOrigin), fc.option(arbUsage)), { minLength: 5, maxLength: 5 }), (ms, edits) => {
        const edited = ms.map((m, i) => {
          const [at, origin, usage] = edits[i]!;
          if (m.role !== 'assistant') return { ...m, createdAt: at };
          const { origin: _o, usage: _u, ...rest } = m;
          return { ...rest, createdAt: at, ...(origin ? { origin } : {}), ...(usage ? { usage } : {}) };
        });
        expect(d(edited as Message[])).toBe(d(ms));
      }),
      { numRuns: 60 },
    );
  });

  it('inline and blob sources of the same bytes digest identically (property)', () => {
    fc.assert(
      fc.property(arbMediaType, arbImageBytes, (mt, bytes) => {
        const inline = userMessage([imageInline(mt, Buffer.from(bytes).toString('base64'))]);
        const blob = userMessage([imageBlob(mt, blobId(mt, bytes))]);
        expect(d([inline])).toBe(d([blob]));
      }),
      { numRuns: 60 },
    );
  });
});

describe('digest sensitivity (model.md §10)', () => {
  const base = sample();
  const baseDigest = d(base);
  type Edit = (ms: Message[]) => void;
  const clone = (): Message[] => structuredClone(base);
  const cases: Array<[string, Edit]> = [
    ['system text', (ms) => { (ms[0] as Extract<Message, { role: 'system' }>).text += ' '; }],
    ['notice text', (ms) => { (ms[1] as Extract<Message, { role: 'system_notice' }>).text = 'tools Changed'; }],
    ['notice kind', (ms) => { (ms[1] as Extract<Message, { role: 'system_notice' }>).kind = 'generic'; }],
    ['notice data', (ms) => { (ms[1] as Extract<Message, { role: 'system_notice' }>).data = { m: { j: false, k: 'v' }, z: null }; }],
    ['notice data removed', (ms) => { delete (ms[1] as Extract<Message, { role: 'system_notice' }>).data; }],
    ['user text', (ms) => { const u = ms[2] as Extract<Message, { role: 'user' }>; u.content[0] = { type: 'text', text: 'look ' }; }],
    ['user block order', (ms) => { const u = ms[2] as Extract<Message, { role: 'user' }>; u.content.reverse(); }],
    ['structured data value', (ms) => { const u = ms[2] as Extract<Message, { role: 'user' }>; u.content[2] = structuredBlock({ m: { j: true, k: 'V' }, z: null }); }],
    ['transcriptRole', (ms) => { (ms[2] as Extract<Message, { role: 'user' }>).transcriptRole = 'injected_context'; }],
    ['image bytes (inline)', (ms) => { const u = ms[2] as Extract<Message, { role: 'user' }>; u.content[1] = imageInline('image/png', 'iVBORw0KGgs='); }],
    ['image bytes (blob)', (ms) => { const u = ms[2] as Extract<Message, { role: 'user' }>; u.content[1] = imageBlob('image/png', blobId('image/png', new Uint8Array([1]))); }],
    ['image media type', (ms) => { const u = ms[2] as Extract<Message, { role: 'user' }>; u.content[1] = imageInline('image/x-png', 'iVBORw0KGgo='); }],
    ['assistant text', (ms) => { (ms[3] as Extract<Message, { role: 'assistant' }>).content[1] = outputText('OK', 'tsig'); }],
    ['reasoning text', (ms) => { (ms[3] as Extract<Message, { role: 'assistant' }>).content[0] = reasoning('think!', 'rsig'); }],
    ['spoken text', (ms) => { (ms[3] as Extract<Message, { role: 'assistant' }>).content[2] = spoken('Said'); }],
    ['text signature', (ms) => { (ms[3] as Extract<Message, { role: 'assistant' }>).content[1] = outputText('ok', 'tsig2'); }],
    ['text signature removed', (ms) => { (ms[3] as Extract<Message, { role: 'assistant' }>).content[1] = outputText('ok'); }],
    ['reasoning signature', (ms) => { (ms[3] as Extract<Message, { role: 'assistant' }>).content[0] = reasoning('think', 'rsig2'); }],
    ['tool_use signature', (ms) => { const a = ms[3] as Extract<Message, { role: 'assistant' }>; a.content[3] = { ...(a.content[3] as Extract<typeof a.content[number], { type: 'tool_use' }>), signature: 'other' }; }],
    ['tool_use args value', (ms) => { const a = ms[3] as Extract<Message, { role: 'assistant' }>; a.content[3] = toolUse('tu1', 'read', { a: [1, { p: 2, q: 1 }], b: { x: 1, y: 3 } }, 'usig'); }],
    ['tool_use name', (ms) => { const a = ms[3] as Extract<Message, { role: 'assistant' }>; a.content[3] = toolUse('tu1', 'write', { a: [1, { p: 2, q: 1 }], b: { x: 1, y: 2 } }, 'usig'); }],
    ['tool_use id', (ms) => { const a = ms[3] as Extract<Message, { role: 'assistant' }>; a.content[3] = toolUse('tu9', 'read', { a: [1, { p: 2, q: 1 }], b: { x: 1, y: 2 } }, 'usig'); }],
    ['assistant block order', (ms) => { const a = ms[3] as Extract<Message, { role: 'assistant' }>; [a.content[0], a.content[1]] = [a.content[1]!, a.content[0]!]; }],
    ['stopReason', (ms) => { (ms[3] as Extract<Message, { role: 'assistant' }>).stopReason = 'end_turn'; }],
    ['errorMessage', (ms) => { (ms[3] as Extract<Message, { role: 'assistant' }>).errorMessage = 'x'; }],
    ['tool result text', (ms) => { const r = ms[4] as Extract<Message, { role: 'tool_results' }>; r.results[1]!.content = [textBlock('Second')]; }],
    ['isError', (ms) => { const r = ms[4] as Extract<Message, { role: 'tool_results' }>; r.results[1]!.isError = false; }],
    ['details', (ms) => { const r = ms[4] as Extract<Message, { role: 'tool_results' }>; r.results[0]!.details = { at: 4, diff: '-a+b' }; }],
    ['result order', (ms) => { const r = ms[4] as Extract<Message, { role: 'tool_results' }>; r.results.reverse(); }],
    ['toolUseId', (ms) => { const r = ms[4] as Extract<Message, { role: 'tool_results' }>; r.results[1]!.toolUseId = 'tu3'; }],
    ['image bytes in a tool result', (ms) => { const r = ms[4] as Extract<Message, { role: 'tool_results' }>; r.results[0]!.content[1] = imageInline('image/png', 'AA=='); }],
    ['message order', (ms) => { [ms[0], ms[1]] = [ms[1]!, ms[0]!]; }],
    ['message removed', (ms) => { ms.pop(); }],
  ];

  it.each(cases)('changing %s changes the digest', (_name, edit) => {
    const ms = clone();
    edit(ms);
    expect(ms).not.toEqual(base);
    expect(d(ms)).not.toBe(baseDigest);
  });

  it('no trimming and no Unicode normalization', () => {
    expect(d([userText('é')])).not.toBe(d([userText('e\u0301')]));
    expect(d([userText('a')])).not.toBe(d([userText('a ')]));
    expect(d([userText('a')])).not.toBe(d([userText('\ufeffa')]));
    expect(d([systemMessage('line\n')])).not.toBe(d([systemMessage('line\r\n')]));
  });

  it('any text change changes the digest (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        fc.pre(a !== b);
        expect(d([userText(a)])).not.toBe(d([userText(b)]));
        expect(d([assistantText(a)])).not.toBe(d([assistantText(b)]));
      }),
      { numRuns: 100 },
    );
  });

  it('a transcript and its prefixes and extensions differ (property)', () => {
    fc.assert(
      fc.property(arbMessages(4), arbMessage, (ms, m) => {
        expect(d([...ms, m])).not.toBe(d(ms));
      }),
      { numRuns: 60 },
    );
  });
});

describe('canonicalMessageBytes and transcriptDigest inputs', () => {
  it('memoizes per frozen message: the comma-prefixed bytes once, the plain bytes a view of them', () => {
    const m = Object.freeze(userText('memo', { createdAt: 1 }));
    const c = commaMessageBytes(m);
    expect(commaMessageBytes(m)).toBe(c);
    const a = canonicalMessageBytes(m);
    expect(a.buffer).toBe(c.buffer);
    expect(a.byteOffset).toBe(c.byteOffset + 1);
    expect(decoder.decode(a)).toBe('{"content":[{"text":"memo","type":"text"}],"role":"user","transcriptRole":"conversational"}');
    expect(decoder.decode(c)).toBe(`,${decoder.decode(a)}`);
  });

  it('comma-prefixed bytes of a long message (outside the shared slab) are "," and its canonical bytes', () => {
    const m = Object.freeze(userText('é😀'.repeat(4000), { createdAt: 1 }));
    const c = commaMessageBytes(m);
    expect(c[0]).toBe(0x2c);
    expect(Buffer.from(c.subarray(1)).equals(Buffer.from(canonicalMessageBytes(m)))).toBe(true);
    expect(decoder.decode(canonicalMessageBytes(m))).toBe(canonicalJson(digestForm(m)));
  });

  it('does not serve stale bytes for a message that is not frozen', () => {
    const m = systemMessage('before') as { role: 'system'; text: string };
    const before = decoder.decode(canonicalMessageBytes(m));
    m.text = 'after';
    expect(decoder.decode(canonicalMessageBytes(m))).not.toBe(before);
  });

  it('takes MessageInputs: the digest ignores a missing createdAt', () => {
    fc.assert(
      fc.property(arbMessages(4), (ms) => {
        const inputs = ms.map(({ createdAt: _c, ...m }) => m as MessageInput);
        expect(d(inputs)).toBe(d(ms));
      }),
      { numRuns: 40 },
    );
  });

  it('throws on a value that is not JSON (a caller bug)', () => {
    expect(() => d([{ role: 'system_notice', kind: 'k', text: 'x', data: { n: NaN } } as unknown as Message])).toThrow();
    expect(() => d([{ role: 'user', content: [{ type: 'structured', data: new Date() }], transcriptRole: 'conversational' } as unknown as Message])).toThrow();
  });
});
