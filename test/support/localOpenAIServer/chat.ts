/**
 * Chat Completions wire builders of the local OpenAI-compatible test server:
 * a scripted completion → a `ChatCompletion` (JSON) or the `ChatCompletionChunk`s of its SSE stream.
 * Pure apart from the ids `ctx.newId` mints.
 */
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionMessage,
  ChatCompletionMessageFunctionToolCall,
} from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import { splitArgumentDeltas, splitTextDeltas } from './shared.ts';
import type { ScriptedCompletion, ScriptedUsage, WireContext } from './types.ts';

const SYSTEM_FINGERPRINT = 'fp_palimpsest_local';

/** Scripted token counts → Chat `usage` (`prompt_tokens` = input, `completion_tokens` = output, `total_tokens` their sum). */
export function chatUsage(usage: Required<ScriptedUsage>): CompletionUsage {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  } satisfies CompletionUsage;
}

/** `finish_reason` of a scripted completion: `tool_calls` when it calls tools, else `stop`. */
function finishReason(reply: ScriptedCompletion): 'stop' | 'tool_calls' {
  return reply.kind === 'tool_calls' && reply.calls.length > 0 ? 'tool_calls' : 'stop';
}

/** The assistant text of a scripted completion, `null` for a tool-call reply without text. */
function replyText(reply: ScriptedCompletion): string | null {
  return reply.kind === 'text' ? reply.text : (reply.text ?? null);
}

/**
 * The non-streaming answer: one choice (index 0) whose assistant message carries the text
 * (`content`, `null` if none) and the tool calls (`type: 'function'`, ids as scripted).
 */
export function chatCompletion(reply: ScriptedCompletion, ctx: WireContext, usage: CompletionUsage): ChatCompletion {
  const message: ChatCompletionMessage = {
    role: 'assistant',
    content: replyText(reply),
    refusal: null,
    annotations: [],
  };
  if (reply.kind === 'tool_calls' && reply.calls.length > 0) {
    message.tool_calls = reply.calls.map(
      (c) =>
        ({
          id: c.id,
          type: 'function',
          function: { name: c.name, arguments: c.arguments },
        }) satisfies ChatCompletionMessageFunctionToolCall,
    );
  }
  return {
    id: ctx.newId('chatcmpl-'),
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(reply) }],
    usage,
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  } satisfies ChatCompletion;
}

/**
 * The streaming answer, in order (all chunks share one `chatcmpl-` id):
 * 1. `delta: { role: 'assistant', content: '' | null, refusal: null }` (`null` content for a tool-call reply without text);
 * 2. one `delta: { content }` per word of the text;
 * 3. per tool call `i`: `delta.tool_calls: [{ index: i, id, type: 'function', function: { name, arguments: '' } }]`,
 *    then `delta.tool_calls: [{ index: i, function: { arguments } }]` per ≤8-character piece of the arguments;
 * 4. `delta: {}` with `finish_reason` `stop` | `tool_calls`;
 * 5. only when `includeUsage`: `choices: []` with `usage`; every earlier chunk then carries `usage: null`.
 * The caller writes each as `data: <json>` and ends with `data: [DONE]`.
 */
export function chatCompletionChunks(
  reply: ScriptedCompletion,
  ctx: WireContext,
  usage: CompletionUsage,
  includeUsage: boolean,
): ChatCompletionChunk[] {
  const id = ctx.newId('chatcmpl-');
  const chunk = (
    delta: ChatCompletionChunk.Choice.Delta,
    finish: ChatCompletionChunk.Choice['finish_reason'] = null,
  ): ChatCompletionChunk =>
    ({
      id,
      object: 'chat.completion.chunk',
      created: ctx.created,
      model: ctx.model,
      service_tier: 'default',
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    }) satisfies ChatCompletionChunk;

  const text = replyText(reply);
  const chunks: ChatCompletionChunk[] = [chunk({ role: 'assistant', content: text === null ? null : '', refusal: null })];
  for (const piece of splitTextDeltas(text ?? '')) chunks.push(chunk({ content: piece }));
  if (reply.kind === 'tool_calls') {
    reply.calls.forEach((call, index) => {
      chunks.push(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }));
      for (const piece of splitArgumentDeltas(call.arguments)) {
        chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
      }
    });
  }
  chunks.push(chunk({}, finishReason(reply)));
  if (includeUsage) {
    chunks.push({
      id,
      object: 'chat.completion.chunk',
      created: ctx.created,
      model: ctx.model,
      service_tier: 'default',
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices: [],
      usage,
    } satisfies ChatCompletionChunk);
  }
  return chunks;
}
