/**
 * One transcript message as the model saw it: role, index, digest; text;
 * thinking collapsed; tool calls with the index of their results; tool results
 * with the call they answer; long outputs collapsed; system prompts and
 * notices (tool-visibility notices included) marked.
 */
import type { ContentBlock } from '../../model/content.ts';
import type { Message } from '../../model/message.ts';
import type { TranscriptEntry } from '../views.ts';
import { short, time } from './format.ts';

/** Characters shown before a block is collapsed. */
const LONG = 1200;

/** Where each tool call of a page was answered, and what each result answers. */
export interface ToolPairs {
  readonly resultOf: ReadonlyMap<string, number>;
  readonly callOf: ReadonlyMap<string, { readonly name: string; readonly index: number }>;
}

/** Pairs the tool calls and results within a page. */
export const pairTools = (entries: readonly TranscriptEntry[]): ToolPairs => {
  const resultOf = new Map<string, number>();
  const callOf = new Map<string, { name: string; index: number }>();
  for (const e of entries) {
    const m = e.message;
    if (m.role === 'assistant') for (const b of m.content) if (b.type === 'tool_use') callOf.set(b.id, { name: b.name, index: e.index });
    if (m.role === 'tool_results') for (const r of m.results) resultOf.set(r.toolUseId, e.index);
  }
  return { resultOf, callOf };
};

const Long = ({ text, label }: { text: string; label: string }) =>
  text.length <= LONG ? (
    <pre class="text">{text}</pre>
  ) : (
    <details class="long">
      <summary>
        {label} ({text.length.toLocaleString('en-US')} characters)
      </summary>
      <pre class="text">{text}</pre>
    </details>
  );

const blockText = (b: ContentBlock): string => (b.type === 'text' ? b.text : b.type === 'image' ? `[image ${b.mediaType}]` : JSON.stringify(b.data, null, 2));

const roleClass = (m: Message): string => (m.role === 'user' && m.transcriptRole !== 'conversational' ? 'user-synthetic' : m.role);

const roleName = (m: Message): string => {
  switch (m.role) {
    case 'user':
      return m.transcriptRole === 'conversational' ? 'user' : `user · ${m.transcriptRole}`;
    case 'system':
      return 'system prompt';
    case 'system_notice':
      return `notice · ${m.kind}`;
    case 'assistant':
      return m.origin !== undefined ? `assistant · ${m.origin.model}` : 'assistant';
    case 'tool_results':
      return 'tool results';
  }
};

const Body = ({ m, pairs }: { m: Message; pairs: ToolPairs }) => {
  switch (m.role) {
    case 'system':
      return <Long text={m.text} label="system prompt" />;
    case 'system_notice':
      return (
        <div class={m.kind.startsWith('tool') ? 'notice tool-visibility' : 'notice'}>
          <Long text={m.text} label="notice" />
        </div>
      );
    case 'user':
      return (
        <>
          {m.content.map((b, k) => (
            <Long key={k} text={blockText(b)} label="message" />
          ))}
        </>
      );
    case 'assistant':
      return (
        <>
          {m.content.map((b, k) => {
            switch (b.type) {
              case 'text':
              case 'transcript':
                return <Long key={k} text={b.text} label="reply" />;
              case 'reasoning':
                return (
                  <details key={k} class="thinking">
                    <summary>thinking ({b.text.length.toLocaleString('en-US')} characters)</summary>
                    <pre class="text">{b.text}</pre>
                  </details>
                );
              case 'tool_use': {
                const r = pairs.resultOf.get(b.id);
                return (
                  <div key={k} class="tool-call" data-testid="tool-call">
                    <span class="tool-name">{b.name}</span> <span class="muted">{r !== undefined ? `→ result #${r}` : '→ result not on this page'}</span>
                    <Long text={JSON.stringify(b.args, null, 2)} label="arguments" />
                  </div>
                );
              }
            }
          })}
          {m.errorMessage !== undefined && <div class="error-text">error: {m.errorMessage}</div>}
        </>
      );
    case 'tool_results':
      return (
        <>
          {m.results.map((r, k) => {
            const call = pairs.callOf.get(r.toolUseId);
            const text = r.content.map(blockText).join('\n');
            return (
              <div key={k} class={r.isError ? 'tool-result is-error' : 'tool-result'} data-testid="tool-result">
                <span class="muted">{call !== undefined ? `result of ${call.name} (#${call.index})` : `result of ${r.toolUseId}`}</span>
                <Long text={text} label={r.isError ? 'error output' : 'output'} />
              </div>
            );
          })}
        </>
      );
  }
};

/** One message card. */
export const MessageCard = ({ entry, pairs }: { entry: TranscriptEntry; pairs: ToolPairs }) => {
  const m = entry.message;
  return (
    <article class={`msg ${roleClass(m)}`} data-testid="message" data-index={entry.index}>
      <header>
        <span class="idx">#{entry.index}</span> <span class="role">{roleName(m)}</span> <span class="muted">{time(m.createdAt)}</span>{' '}
        <span class="digest" title={entry.digest}>
          {short(entry.digest)}
        </span>
        {m.role === 'assistant' && m.usage !== undefined && (
          <span class="muted">
            {' '}
            · in {m.usage.inputTokens} / out {m.usage.outputTokens} tokens
          </span>
        )}
      </header>
      <Body m={m} pairs={pairs} />
    </article>
  );
};
