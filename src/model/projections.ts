/**
 * Pure, total projections of messages to text (model.md §5).
 */
import type { AssistantBlock, ContentBlock, ToolUseBlock } from './content.ts';
import { canonicalJsonUnsafe } from './json.ts';
import type { AssistantMessage, Message, MessageInput } from './message.ts';

/** The text of a block: its text, `[image: <mediaType>]`, or the canonical JSON of structured data. */
export const contentBlockText = (b: ContentBlock): string => {
  switch (b.type) {
    case 'text':
      return b.text;
    case 'image':
      return `[image: ${b.mediaType}]`;
    case 'structured':
      return canonicalJsonUnsafe(b.data);
  }
};

/** Non-empty block projections joined with `"\n"`. */
export const textContent = (blocks: readonly ContentBlock[]): string =>
  blocks.map(contentBlockText).filter((s) => s !== '').join('\n');

/** Non-empty `text` and `transcript` texts of an assistant message joined with `"\n"`. */
export const assistantVisibleText = (m: Pick<AssistantMessage, 'content'>): string =>
  m.content
    .filter((b): b is Extract<AssistantBlock, { type: 'text' | 'transcript' }> => b.type === 'text' || b.type === 'transcript')
    .map((b) => b.text)
    .filter((s) => s !== '')
    .join('\n');

/** The readable text of any message. */
export const messageText = (m: Message | MessageInput): string => {
  switch (m.role) {
    case 'system':
    case 'system_notice':
      return m.text;
    case 'user':
      return textContent(m.content);
    case 'assistant':
      return assistantVisibleText(m);
    case 'tool_results':
      return m.results.map((r) => textContent(r.content)).filter((s) => s !== '').join('\n');
  }
};

/** An assistant message's `tool_use` blocks in order; `[]` for other messages. */
export const toolUses = (m: Message | MessageInput): ToolUseBlock[] =>
  m.role === 'assistant' ? m.content.filter((b): b is ToolUseBlock => b.type === 'tool_use') : [];

/** Whether any block is an image. */
export const hasImages = (blocks: readonly ContentBlock[]): boolean => blocks.some((b) => b.type === 'image');
