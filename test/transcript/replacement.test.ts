import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import {
  assistantMessage,
  imageBlob,
  outputText,
  reasoning,
  structuredBlock,
  systemMessage,
  textBlock,
  toolResult,
  toolResults,
  toolUse,
  userMessage,
} from '../../src/model/index.ts';
import { applyReplacement, decodeTranscriptReplacement, transcriptFromMessages, transcriptMessages } from '../../src/transcript/index.ts';
import { left, right, stamp } from './helpers.ts';

const t = transcriptFromMessages(
  stamp(
    [
      systemMessage('sys'),
      userMessage([textBlock('look'), imageBlob('image/png', `sha256:${'a'.repeat(64)}`)]),
      assistantMessage([reasoning('hmm'), toolUse('c1', 'ls', {}), toolUse('c2', 'cat', { f: 'x' })], 'tool_use'),
      toolResults([toolResult('c1', 'a b'), toolResult('c2', [textBlock('x1'), textBlock('x2')])]),
    ],
    42,
  ),
);
const before = structuredClone(transcriptMessages(t));

describe('applyReplacement', () => {
  it('message: replaces the whole message, stamping a missing createdAt', () => {
    const m = right(applyReplacement(t, 1, { type: 'message', message: { role: 'user', content: [textBlock('new')], transcriptRole: 'conversational' } }, 99));
    expect(m).toEqual({ role: 'user', content: [textBlock('new')], transcriptRole: 'conversational', createdAt: 99 });
    const kept = right(applyReplacement(t, 0, { type: 'message', message: { role: 'system', text: 'S', createdAt: 5 } }, 99));
    expect(kept.createdAt).toBe(5);
  });

  it('user_content_block: replaces one block of a user message, keeping the rest', () => {
    const m = right(applyReplacement(t, 1, { type: 'user_content_block', blockIndex: 1, block: structuredBlock({ a: 1 }) }, 99));
    expect(m).toEqual({ ...before[1], content: [textBlock('look'), structuredBlock({ a: 1 })] });
  });

  it('assistant_block: replaces one block of an assistant message', () => {
    const m = right(applyReplacement(t, 2, { type: 'assistant_block', blockIndex: 0, block: outputText('plan') }, 99));
    expect(m.role === 'assistant' && m.content).toEqual([outputText('plan'), toolUse('c1', 'ls', {}), toolUse('c2', 'cat', { f: 'x' })]);
    expect(m.createdAt).toBe(42);
  });

  it('tool_result_content_block: replaces one block of one result', () => {
    const m = right(applyReplacement(t, 3, { type: 'tool_result_content_block', resultIndex: 1, blockIndex: 1, block: textBlock('X2') }, 99));
    expect(m).toEqual({ ...before[3], results: [toolResult('c1', 'a b'), toolResult('c2', [textBlock('x1'), textBlock('X2')])] });
  });

  it('MessageIndexOutOfBounds { messageIndex, messageCount }', () => {
    const r = { type: 'message' as const, message: systemMessage('s') };
    expect(left(applyReplacement(t, 4, r, 1))).toMatchObject({ _tag: 'MessageIndexOutOfBounds', messageIndex: 4, messageCount: 4 });
    expect(left(applyReplacement(t, -1, r, 1))).toMatchObject({ _tag: 'MessageIndexOutOfBounds', messageIndex: -1, messageCount: 4 });
    expect(left(applyReplacement(transcriptFromMessages([]), 0, r, 1))).toMatchObject({ messageIndex: 0, messageCount: 0 });
  });

  it('MessageRoleMismatch { messageIndex, expected, actual }', () => {
    expect(left(applyReplacement(t, 0, { type: 'user_content_block', blockIndex: 0, block: textBlock('x') }, 1))).toMatchObject({
      _tag: 'MessageRoleMismatch',
      messageIndex: 0,
      expected: 'user',
      actual: 'system',
    });
    expect(left(applyReplacement(t, 1, { type: 'assistant_block', blockIndex: 0, block: outputText('x') }, 1))).toMatchObject({
      messageIndex: 1,
      expected: 'assistant',
      actual: 'user',
    });
    expect(left(applyReplacement(t, 2, { type: 'tool_result_content_block', resultIndex: 0, blockIndex: 0, block: textBlock('x') }, 1))).toMatchObject({
      messageIndex: 2,
      expected: 'tool_results',
      actual: 'assistant',
    });
  });

  it('BlockIndexOutOfBounds { blockKind, blockIndex, blockCount }', () => {
    expect(left(applyReplacement(t, 1, { type: 'user_content_block', blockIndex: 2, block: textBlock('x') }, 1))).toMatchObject({
      _tag: 'BlockIndexOutOfBounds',
      blockKind: 'user_content_block',
      blockIndex: 2,
      blockCount: 2,
    });
    expect(left(applyReplacement(t, 2, { type: 'assistant_block', blockIndex: 3, block: outputText('x') }, 1))).toMatchObject({
      blockKind: 'assistant_block',
      blockIndex: 3,
      blockCount: 3,
    });
    expect(left(applyReplacement(t, 3, { type: 'tool_result_content_block', resultIndex: 2, blockIndex: 0, block: textBlock('x') }, 1))).toMatchObject({
      blockKind: 'tool_result',
      blockIndex: 2,
      blockCount: 2,
    });
    expect(left(applyReplacement(t, 3, { type: 'tool_result_content_block', resultIndex: 0, blockIndex: 1, block: textBlock('x') }, 1))).toMatchObject({
      blockKind: 'tool_result_content_block',
      blockIndex: 1,
      blockCount: 1,
    });
  });

  it('never changes the transcript', () => {
    applyReplacement(t, 3, { type: 'tool_result_content_block', resultIndex: 1, blockIndex: 1, block: textBlock('X2') }, 99);
    applyReplacement(t, 1, { type: 'user_content_block', blockIndex: 0, block: textBlock('X') }, 99);
    expect(transcriptMessages(t)).toEqual(before);
  });

  it('the codec decodes every kind strictly', () => {
    expect(E.isRight(decodeTranscriptReplacement({ type: 'assistant_block', blockIndex: 0, block: { type: 'text', text: 'x' } }))).toBe(true);
    expect(left(decodeTranscriptReplacement({ type: 'paragraph' }))).toMatchObject({ reason: 'unknown_block_type', path: '$.type' });
    expect(left(decodeTranscriptReplacement({ type: 'user_content_block', blockIndex: -1, block: textBlock('x') }))).toMatchObject({
      reason: 'invalid_number',
      path: '$.blockIndex',
    });
    expect(left(decodeTranscriptReplacement({ type: 'message', message: systemMessage('x'), extra: 1 }))).toMatchObject({ reason: 'unknown_field' });
    expect(left(decodeTranscriptReplacement({ type: 'tool_result_content_block', blockIndex: 0, block: textBlock('x') }))).toMatchObject({
      reason: 'missing_field',
      path: '$.resultIndex',
    });
  });
});
