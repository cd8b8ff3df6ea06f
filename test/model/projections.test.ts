/**
 * Projections (model.md §5): contentBlockText, textContent, assistantVisibleText,
 * messageText for every role, toolUses, hasImages. All are total.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  assistantMessage,
  assistantText,
  assistantToolCalls,
  assistantVisibleText,
  canonicalJsonUnsafe,
  contentBlockText,
  hasImages,
  imageBlob,
  imageInline,
  messageText,
  outputText,
  reasoning,
  spoken,
  structuredBlock,
  systemMessage,
  systemNotice,
  textBlock,
  textContent,
  toolResult,
  toolResults,
  toolUse,
  toolUses,
  userMessage,
  userText,
} from '../../src/model/index.ts';
import { arbContentBlock, arbMessage } from '../../spec/model/arbitraries.ts';

const BLOB = `sha256:${'c'.repeat(64)}`;

describe('contentBlockText', () => {
  it('text, image and structured blocks', () => {
    expect(contentBlockText(textBlock('hello'))).toBe('hello');
    expect(contentBlockText(textBlock(''))).toBe('');
    expect(contentBlockText(imageInline('image/png', 'AA=='))).toBe('[image: image/png]');
    expect(contentBlockText(imageBlob('image/jpeg', BLOB))).toBe('[image: image/jpeg]');
    expect(contentBlockText(structuredBlock({ b: 1, a: [true, null] }))).toBe('{"a":[true,null],"b":1}');
    expect(contentBlockText(structuredBlock('s'))).toBe('"s"');
    expect(contentBlockText(structuredBlock(null))).toBe('null');
  });
});

describe('textContent', () => {
  it('joins non-empty projections with "\\n": images as [image: image/png], structured data as canonical JSON, empty text dropped', () => {
    expect(
      textContent([textBlock('look at'), textBlock(''), imageInline('image/png', 'iVBORw0KGgo='), structuredBlock({ z: 1, a: 'x' }), textBlock(''), textBlock('end')]),
    ).toBe('look at\n[image: image/png]\n{"a":"x","z":1}\nend');
  });

  it('empty cases', () => {
    expect(textContent([])).toBe('');
    expect(textContent([textBlock('')])).toBe('');
    expect(textContent([textBlock(''), textBlock('')])).toBe('');
    expect(textContent([textBlock('a'), textBlock('')])).toBe('a');
  });

  it('keeps whitespace-only and multi-line text as is', () => {
    expect(textContent([textBlock(' '), textBlock('a\nb')])).toBe(' \na\nb');
  });

  it('structured data "" is the non-empty JSON string ""', () => {
    expect(textContent([structuredBlock('')])).toBe('""');
  });

  it('is total and equals the filtered join (property)', () => {
    fc.assert(
      fc.property(fc.array(arbContentBlock, { maxLength: 5 }), (blocks) => {
        const expected = blocks
          .map((b) => (b.type === 'text' ? b.text : b.type === 'image' ? `[image: ${b.mediaType}]` : canonicalJsonUnsafe(b.data)))
          .filter((s) => s !== '')
          .join('\n');
        expect(textContent(blocks)).toBe(expected);
      }),
      { numRuns: 100 },
    );
  });
});

describe('assistantVisibleText', () => {
  it('text and transcript blocks only; reasoning and tool use left out; empty texts dropped', () => {
    const m = assistantMessage([reasoning('private thought', 'sig'), outputText('Hello'), toolUse('t', 'read', { p: 1 }), outputText(''), spoken('spoken words'), reasoning('')], 'tool_use');
    expect(assistantVisibleText(m)).toBe('Hello\nspoken words');
    expect(assistantVisibleText(assistantMessage([], 'cancelled'))).toBe('');
    expect(assistantVisibleText(assistantMessage([reasoning('only thinking')], 'end_turn'))).toBe('');
  });
});

describe('messageText for every role', () => {
  it('system: its text', () => {
    expect(messageText(systemMessage('You are terse.'))).toBe('You are terse.');
    expect(messageText(systemMessage(''))).toBe('');
  });

  it('system_notice: its text (not kind or data)', () => {
    expect(messageText(systemNotice('tool_scope', 'Tools changed', { data: { added: ['x'] } }))).toBe('Tools changed');
  });

  it('user: textContent of its blocks', () => {
    expect(messageText(userMessage([textBlock('see'), imageBlob('image/png', BLOB), structuredBlock([1])]))).toBe('see\n[image: image/png]\n[1]');
    expect(messageText(userText(''))).toBe('');
  });

  it('assistant: visible text', () => {
    expect(messageText(assistantText('Done.'))).toBe('Done.');
    expect(messageText(assistantToolCalls([{ id: 't', name: 'n', args: {} }], { text: 'Calling' }))).toBe('Calling');
    expect(messageText(assistantToolCalls([{ id: 't', name: 'n', args: {} }]))).toBe('');
  });

  it('tool_results: non-empty per-result textContent joined with "\\n"', () => {
    const m = toolResults([
      toolResult('a', [textBlock('line 1'), textBlock('line 2')]),
      toolResult('b', []),
      toolResult('c', ''),
      toolResult('d', [imageInline('image/gif', 'AA==')], { isError: true, details: { hidden: 'never shown' } }),
    ]);
    expect(messageText(m)).toBe('line 1\nline 2\n[image: image/gif]');
  });

  it('is total over every message (property)', () => {
    fc.assert(
      fc.property(arbMessage, (m) => {
        expect(typeof messageText(m)).toBe('string');
        if (m.role === 'user') expect(messageText(m)).toBe(textContent(m.content));
        if (m.role === 'assistant') expect(messageText(m)).toBe(assistantVisibleText(m));
        if (m.role === 'system' || m.role === 'system_notice') expect(messageText(m)).toBe(m.text);
      }),
      { numRuns: 100 },
    );
  });
});

describe('toolUses and hasImages', () => {
  it('toolUses: the tool_use blocks of an assistant message in order; [] otherwise', () => {
    const m = assistantMessage([toolUse('1', 'a', {}), outputText('x'), toolUse('2', 'b', [1], 's')], 'tool_use');
    expect(toolUses(m)).toEqual([
      { type: 'tool_use', id: '1', name: 'a', args: {} },
      { type: 'tool_use', id: '2', name: 'b', args: [1], signature: 's' },
    ]);
    expect(toolUses(assistantText('x'))).toEqual([]);
    expect(toolUses(userText('x'))).toEqual([]);
    expect(toolUses(systemMessage('x'))).toEqual([]);
    expect(toolUses(toolResults([toolResult('1', 'r')]))).toEqual([]);
  });

  it('hasImages', () => {
    expect(hasImages([])).toBe(false);
    expect(hasImages([textBlock('a'), structuredBlock({ type: 'image' })])).toBe(false);
    expect(hasImages([textBlock('a'), imageBlob('image/png', BLOB)])).toBe(true);
    expect(hasImages([imageInline('image/png', 'AA==')])).toBe(true);
  });
});
