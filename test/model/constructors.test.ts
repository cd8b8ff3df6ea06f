/**
 * Constructors (model.md §5): exact shapes and defaults, no `undefined` members,
 * media types canonicalized, and every result decodes with its codec.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import {
  AssistantBlockCodec,
  assistantMessage,
  assistantText,
  assistantToolCalls,
  compactionSummary,
  ContentBlockCodec,
  decodeMessage,
  decodeMessageInput,
  decodeWith,
  imageBlob,
  imageInline,
  injectedContext,
  outputText,
  reasoning,
  spoken,
  stampMessage,
  structuredBlock,
  systemMessage,
  systemNotice,
  textBlock,
  toolResult,
  ToolResultCodec,
  toolResults,
  toolUse,
  userMessage,
  userText,
  type Codec,
  type MessageInput,
} from '../../src/model/index.ts';
import {
  arbBase64,
  arbContentBlock,
  arbDigest,
  arbImageBytes,
  arbJson,
  arbMediaType,
  arbMillis,
  arbNonEmptyText,
  arbNoticeKind,
  arbOrigin,
  arbStopReason,
  arbText,
  arbTranscriptRole,
  arbUsage,
} from '../../spec/model/arbitraries.ts';

const BLOB = `sha256:${'b'.repeat(64)}`;

/** Decodes as a MessageInput and, stamped, as a Message; no member is `undefined`. */
const decodesAsMessage = (m: MessageInput): void => {
  const r = decodeMessageInput(m);
  if (E.isLeft(r)) throw new Error(r.left.message);
  expect(r.right).toEqual(m);
  const stamped = stampMessage(m, 1_700_000_000_000);
  expect(decodeMessage(stamped)).toEqual(E.right(stamped));
  expect(decodeMessage(JSON.parse(JSON.stringify(stamped)))).toEqual(E.right(stamped));
  expect(JSON.stringify(m)).not.toContain('undefined');
  const noUndefined = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(noUndefined);
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) {
      expect(x, `member ${k}`).not.toBeUndefined();
      noUndefined(x);
    }
  };
  noUndefined(m);
};

const decodes = <A>(codec: Codec<A>, v: A): void => {
  expect(decodeWith(codec, v)).toEqual(E.right(v));
};

describe('block constructors', () => {
  it('textBlock, structuredBlock', () => {
    expect(textBlock('a')).toStrictEqual({ type: 'text', text: 'a' });
    expect(structuredBlock({ b: [1] })).toStrictEqual({ type: 'structured', data: { b: [1] } });
    decodes(ContentBlockCodec, textBlock(''));
    decodes(ContentBlockCodec, structuredBlock(null));
  });

  it('imageInline and imageBlob canonicalize the media type', () => {
    expect(imageInline(' Image/PNG; charset=binary ', 'iVBORw0KGgo=')).toStrictEqual({
      type: 'image',
      mediaType: 'image/png',
      source: { type: 'inline', data: 'iVBORw0KGgo=' },
    });
    expect(imageBlob('IMAGE/JPEG', BLOB)).toStrictEqual({ type: 'image', mediaType: 'image/jpeg', source: { type: 'blob', blobId: BLOB } });
    decodes(ContentBlockCodec, imageInline('image/PNG', 'AA=='));
    decodes(ContentBlockCodec, imageBlob('image/webp;q=1', BLOB));
  });

  it('assistant blocks: signature present only when given', () => {
    expect(outputText('t')).toStrictEqual({ type: 'text', text: 't' });
    expect(outputText('t', 's')).toStrictEqual({ type: 'text', text: 't', signature: 's' });
    expect(spoken('w')).toStrictEqual({ type: 'transcript', text: 'w', source: 'spoken' });
    expect(reasoning('')).toStrictEqual({ type: 'reasoning', text: '' });
    expect(reasoning('', 'enc')).toStrictEqual({ type: 'reasoning', text: '', signature: 'enc' });
    expect(toolUse('id', 'name', { a: 1 })).toStrictEqual({ type: 'tool_use', id: 'id', name: 'name', args: { a: 1 } });
    expect(toolUse('id', 'name', 'raw {', 'sig')).toStrictEqual({ type: 'tool_use', id: 'id', name: 'name', args: 'raw {', signature: 'sig' });
    expect('signature' in outputText('t')).toBe(false);
    for (const b of [outputText('t'), outputText('t', ''), spoken(''), reasoning('r', 's'), toolUse('i', 'n', null)]) decodes(AssistantBlockCodec, b);
  });
});

describe('message constructors', () => {
  it('systemMessage', () => {
    expect(systemMessage('sys')).toStrictEqual({ role: 'system', text: 'sys' });
    expect(systemMessage('sys', { createdAt: 5 })).toStrictEqual({ role: 'system', text: 'sys', createdAt: 5 });
    decodesAsMessage(systemMessage(''));
  });

  it('systemNotice', () => {
    expect(systemNotice('tool_scope', 'changed')).toStrictEqual({ role: 'system_notice', kind: 'tool_scope', text: 'changed' });
    expect(systemNotice('generic', 'n', { data: { x: 1 }, createdAt: 2 })).toStrictEqual({ role: 'system_notice', kind: 'generic', text: 'n', data: { x: 1 }, createdAt: 2 });
    // `null` data is a Json value and is kept.
    expect(systemNotice('generic', 'n', { data: null })).toStrictEqual({ role: 'system_notice', kind: 'generic', text: 'n', data: null });
    decodesAsMessage(systemNotice('external_event', 'hook', { data: [1, 'a'] }));
  });

  it('userText and userMessage: conversational by default', () => {
    expect(userText('hi')).toStrictEqual({ role: 'user', content: [{ type: 'text', text: 'hi' }], transcriptRole: 'conversational' });
    expect(userText('hi', { transcriptRole: 'injected_context', createdAt: 3 })).toStrictEqual({
      role: 'user',
      content: [{ type: 'text', text: 'hi' }],
      transcriptRole: 'injected_context',
      createdAt: 3,
    });
    const blocks = [textBlock('a'), imageInline('image/png', 'AA==')];
    const m = userMessage(blocks);
    expect(m).toStrictEqual({ role: 'user', content: blocks, transcriptRole: 'conversational' });
    blocks.push(textBlock('later'));
    expect(m.role === 'user' && m.content).toHaveLength(2); // the array is copied
    decodesAsMessage(m);
  });

  it('compactionSummary and injectedContext set their transcriptRole', () => {
    expect(compactionSummary('sum')).toStrictEqual({ role: 'user', content: [{ type: 'text', text: 'sum' }], transcriptRole: 'compaction_summary' });
    expect(compactionSummary('sum', { createdAt: 1 })).toMatchObject({ createdAt: 1 });
    expect(injectedContext('ctx')).toStrictEqual({ role: 'user', content: [{ type: 'text', text: 'ctx' }], transcriptRole: 'injected_context' });
    expect(injectedContext([structuredBlock({ a: 1 })])).toStrictEqual({ role: 'user', content: [{ type: 'structured', data: { a: 1 } }], transcriptRole: 'injected_context' });
    decodesAsMessage(compactionSummary('x'));
    decodesAsMessage(injectedContext([textBlock('x')], { createdAt: 4 }));
  });

  it('assistantText: end_turn by default, options carried', () => {
    expect(assistantText('ok')).toStrictEqual({ role: 'assistant', content: [{ type: 'text', text: 'ok' }], stopReason: 'end_turn' });
    const origin = { provider: 'anthropic', model: 'claude', api: 'anthropic-messages' };
    const usage = { inputTokens: 10, outputTokens: 1, cacheReadTokens: 5 };
    expect(assistantText('ok', { stopReason: 'max_tokens', origin, usage, createdAt: 8 })).toStrictEqual({
      role: 'assistant',
      content: [{ type: 'text', text: 'ok' }],
      stopReason: 'max_tokens',
      origin,
      usage,
      createdAt: 8,
    });
    decodesAsMessage(assistantText('ok', { origin, usage }));
  });

  it('assistantMessage: may be empty; errorMessage, origin and usage only when given', () => {
    expect(assistantMessage([], 'cancelled')).toStrictEqual({ role: 'assistant', content: [], stopReason: 'cancelled' });
    expect(assistantMessage([], 'error', { errorMessage: 'boom' })).toStrictEqual({ role: 'assistant', content: [], stopReason: 'error', errorMessage: 'boom' });
    decodesAsMessage(assistantMessage([reasoning('', 'enc'), outputText('a')], 'error', { errorMessage: 'e' }));
  });

  it('assistantToolCalls: optional text first, one tool_use per call, stopReason tool_use', () => {
    expect(assistantToolCalls([{ id: 't1', name: 'read', args: { p: 'a' } }, { id: 't2', name: 'ls', args: {}, signature: 's' }], { text: 'Let me look.' })).toStrictEqual({
      role: 'assistant',
      content: [
        { type: 'text', text: 'Let me look.' },
        { type: 'tool_use', id: 't1', name: 'read', args: { p: 'a' } },
        { type: 'tool_use', id: 't2', name: 'ls', args: {}, signature: 's' },
      ],
      stopReason: 'tool_use',
    });
    expect(assistantToolCalls([{ id: 't1', name: 'read', args: null }])).toStrictEqual({
      role: 'assistant',
      content: [{ type: 'tool_use', id: 't1', name: 'read', args: null }],
      stopReason: 'tool_use',
    });
    // An empty text is still a block when given.
    expect(assistantToolCalls([], { text: '' })).toMatchObject({ content: [{ type: 'text', text: '' }] });
    decodesAsMessage(assistantToolCalls([{ id: 'a', name: 'b', args: [1] }], { usage: { inputTokens: 1, outputTokens: 1 } }));
  });

  it('toolResult and toolResults: isError false by default, details only when given', () => {
    expect(toolResult('t1', 'done')).toStrictEqual({ toolUseId: 't1', content: [{ type: 'text', text: 'done' }], isError: false });
    expect(toolResult('t1', [], { isError: true, details: { diff: '+a' } })).toStrictEqual({ toolUseId: 't1', content: [], isError: true, details: { diff: '+a' } });
    decodes(ToolResultCodec, toolResult('t1', [imageBlob('image/png', BLOB)]));
    const m = toolResults([toolResult('t1', 'a'), toolResult('t2', 'b', { isError: true })], { createdAt: 6 });
    expect(m).toStrictEqual({
      role: 'tool_results',
      results: [
        { toolUseId: 't1', content: [{ type: 'text', text: 'a' }], isError: false },
        { toolUseId: 't2', content: [{ type: 'text', text: 'b' }], isError: true },
      ],
      createdAt: 6,
    });
    decodesAsMessage(m);
  });

  it('createdAt appears only when given', () => {
    for (const m of [systemMessage('a'), systemNotice('k', 'a'), userText('a'), compactionSummary('a'), injectedContext('a'), assistantText('a'), assistantMessage([], 'end_turn'), assistantToolCalls([]), toolResults([toolResult('t', 'a')])]) {
      expect('createdAt' in m).toBe(false);
    }
    expect(userText('a', { createdAt: 0 }).createdAt).toBe(0);
  });
});

describe('constructors produce values that decode (property)', () => {
  const opts = { numRuns: 60 };
  it('every constructor, with arbitrary valid inputs', () => {
    fc.assert(
      fc.property(arbText, fc.option(arbMillis, { nil: undefined }), (text, createdAt) => {
        const at = createdAt === undefined ? {} : { createdAt };
        decodesAsMessage(systemMessage(text, at));
        decodesAsMessage(userText(text, at));
        decodesAsMessage(compactionSummary(text, at));
        decodesAsMessage(injectedContext(text, at));
        decodesAsMessage(assistantText(text, at));
      }),
      opts,
    );
    fc.assert(
      fc.property(arbNoticeKind, arbText, fc.option(arbJson, { nil: undefined }), (kind, text, data) => {
        decodesAsMessage(systemNotice(kind, text, data === undefined ? {} : { data }));
      }),
      opts,
    );
    fc.assert(
      fc.property(fc.array(arbContentBlock, { minLength: 1, maxLength: 3 }), arbTranscriptRole, (blocks, transcriptRole) => {
        decodesAsMessage(userMessage(blocks, { transcriptRole }));
        decodesAsMessage(injectedContext(blocks));
      }),
      opts,
    );
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: arbNonEmptyText, name: arbNonEmptyText, args: arbJson }), { maxLength: 3 }),
        fc.option(arbText, { nil: undefined }),
        fc.option(arbOrigin, { nil: undefined }),
        fc.option(arbUsage, { nil: undefined }),
        arbStopReason,
        (calls, text, origin, usage, stopReason) => {
          decodesAsMessage(assistantToolCalls(calls, { text, origin, usage }));
          decodesAsMessage(assistantText(text ?? '', { stopReason, origin, usage }));
          decodesAsMessage(assistantMessage([outputText(text ?? 'x', text), reasoning(''), spoken('s')], stopReason, { errorMessage: text, origin, usage }));
        },
      ),
      opts,
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(arbNonEmptyText, fc.oneof(arbText, fc.array(arbContentBlock, { maxLength: 2 })), fc.option(fc.boolean(), { nil: undefined }), fc.option(arbJson, { nil: undefined })), { minLength: 1, maxLength: 3 }),
        (rs) => {
          const results = rs.map(([id, content, isError, details]) => toolResult(id, content, { isError, details }));
          for (const r of results) decodes(ToolResultCodec, r);
          decodesAsMessage(toolResults(results));
        },
      ),
      opts,
    );
  });

  it('image constructors with any casing or parameters of a valid media type', () => {
    fc.assert(
      fc.property(arbMediaType, fc.constantFrom('', ' ', '; charset=x', ';q=1'), fc.boolean(), arbBase64, arbDigest, (mt, suffix, upper, data, id) => {
        const spelled = `${upper ? mt.toUpperCase() : mt}${suffix}`;
        decodes(ContentBlockCodec, imageInline(spelled, data));
        decodes(ContentBlockCodec, imageBlob(` ${spelled}`, id));
        expect(imageInline(spelled, data)).toMatchObject({ mediaType: mt });
      }),
      opts,
    );
    fc.assert(fc.property(arbImageBytes, (b) => decodes(ContentBlockCodec, imageInline('image/png', Buffer.from(b).toString('base64')))), opts);
  });
});
