/**
 * Responses API wire builders of the local OpenAI-compatible test server:
 * a scripted completion → a completed `Response` (JSON) or the `ResponseStreamEvent`s of its SSE stream.
 * Pure apart from the ids `ctx.newId` mints.
 */
import type {
  Response,
  ResponseFunctionToolCall,
  ResponseOutputItem,
  ResponseOutputMessage,
  ResponseOutputText,
  ResponseStreamEvent,
  ResponseUsage,
} from 'openai/resources/responses/responses';
import { isRecord, splitArgumentDeltas, splitTextDeltas } from './shared.ts';
import type { ScriptedCompletion, ScriptedUsage, WireContext } from './types.ts';

/** Scripted token counts → Responses `usage` (`total_tokens` = input + output). */
export function responsesUsage(usage: Required<ScriptedUsage>): ResponseUsage {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedTokens, cache_write_tokens: 0 },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.inputTokens + usage.outputTokens,
  } satisfies ResponseUsage;
}

/** The completed output items of a scripted completion: a `message` (`msg_…`) when it has text, then one `function_call` (`fc_…`) per call. */
function outputItems(reply: ScriptedCompletion, ctx: WireContext): Array<ResponseOutputMessage | ResponseFunctionToolCall> {
  const items: Array<ResponseOutputMessage | ResponseFunctionToolCall> = [];
  const text = reply.kind === 'text' ? reply.text : reply.text;
  if (text !== undefined) {
    items.push({
      id: ctx.newId('msg_'),
      type: 'message',
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
    } satisfies ResponseOutputMessage);
  }
  if (reply.kind === 'tool_calls') {
    for (const call of reply.calls) {
      items.push({
        id: ctx.newId('fc_'),
        type: 'function_call',
        status: 'completed',
        call_id: call.id,
        name: call.name,
        arguments: call.arguments,
      } satisfies ResponseFunctionToolCall);
    }
  }
  return items;
}

/** The concatenated `output_text` parts of `items` (the SDK's `response.output_text`). */
function joinOutputText(items: ReadonlyArray<ResponseOutputItem>): string {
  let out = '';
  for (const item of items) {
    if (item.type !== 'message') continue;
    for (const part of item.content) if (part.type === 'output_text') out += part.text;
  }
  return out;
}

/**
 * The `Response` envelope with request parameters echoed back (instructions, tools, tool_choice,
 * temperature, top_p, metadata, parallel_tool_calls, previous_response_id, max_output_tokens, user),
 * OpenAI's defaults where the request had none.
 */
function responseEnvelope(id: string, body: unknown, ctx: WireContext): Response {
  const b = isRecord(body) ? body : {};
  const instructions = b['instructions'];
  const envelope: Response = {
    id,
    object: 'response',
    created_at: ctx.created,
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions:
      typeof instructions === 'string' || Array.isArray(instructions) ? (instructions as Response['instructions']) : null,
    max_output_tokens: typeof b['max_output_tokens'] === 'number' ? b['max_output_tokens'] : null,
    metadata: isRecord(b['metadata']) ? (b['metadata'] as Response['metadata']) : {},
    model: ctx.model,
    output: [],
    output_text: '',
    parallel_tool_calls: typeof b['parallel_tool_calls'] === 'boolean' ? b['parallel_tool_calls'] : true,
    previous_response_id: typeof b['previous_response_id'] === 'string' ? b['previous_response_id'] : null,
    service_tier: 'default',
    temperature: typeof b['temperature'] === 'number' ? b['temperature'] : 1,
    text: { format: { type: 'text' } },
    tool_choice: b['tool_choice'] !== undefined ? (b['tool_choice'] as Response['tool_choice']) : 'auto',
    tools: Array.isArray(b['tools']) ? (b['tools'] as Response['tools']) : [],
    top_p: typeof b['top_p'] === 'number' ? b['top_p'] : 1,
    truncation: 'disabled',
  } satisfies Response;
  if (typeof b['user'] === 'string') envelope.user = b['user'];
  return envelope;
}

/** The completed `Response` for `items`: `status: 'completed'`, `completed_at`, `output`, `output_text`, `usage`. */
function completedResponse(
  id: string,
  body: unknown,
  ctx: WireContext,
  items: ReadonlyArray<ResponseOutputItem>,
  usage: ResponseUsage,
): Response {
  return {
    ...responseEnvelope(id, body, ctx),
    status: 'completed',
    completed_at: ctx.created,
    output: items.map((i) => structuredClone(i)),
    output_text: joinOutputText(items),
    usage,
  } satisfies Response;
}

/**
 * The non-streaming answer: a `resp_…` `Response` with `status: 'completed'` whose `output` is the
 * assistant `message` (when there is text) followed by one `function_call` item per scripted call
 * (`call_id` = the scripted id).
 */
export function responseObject(reply: ScriptedCompletion, body: unknown, ctx: WireContext, usage: ResponseUsage): Response {
  return completedResponse(ctx.newId('resp_'), body, ctx, outputItems(reply, ctx), usage);
}

/**
 * The streaming answer, with `sequence_number` 0, 1, 2, … in this order:
 * 1. `response.created`, `response.in_progress` (the envelope, `status: 'in_progress'`, `output: []`);
 * 2. for the message (output index 0, if there is text): `response.output_item.added` (`status: 'in_progress'`,
 *    `content: []`), `response.content_part.added` (empty `output_text`), one `response.output_text.delta`
 *    per word, `response.output_text.done`, `response.content_part.done`, `response.output_item.done`;
 * 3. per function call: `response.output_item.added` (`arguments: ''`, `status: 'in_progress'`), one
 *    `response.function_call_arguments.delta` per ≤8-character piece, `response.function_call_arguments.done`,
 *    `response.output_item.done`;
 * 4. `response.completed` with the full completed `Response` (same id, output and usage as the JSON answer would have).
 * The caller writes each as `event: <type>` + `data: <json>`; there is no `[DONE]`.
 */
export function responseEvents(
  reply: ScriptedCompletion,
  body: unknown,
  ctx: WireContext,
  usage: ResponseUsage,
): ResponseStreamEvent[] {
  const id = ctx.newId('resp_');
  const items = outputItems(reply, ctx);
  const events: ResponseStreamEvent[] = [];
  let seq = 0;
  const next = (): number => seq++;

  events.push({ type: 'response.created', sequence_number: next(), response: responseEnvelope(id, body, ctx) });
  events.push({ type: 'response.in_progress', sequence_number: next(), response: responseEnvelope(id, body, ctx) });
  items.forEach((item, output_index) => {
    if (item.type === 'message') {
      const itemId = item.id;
      events.push({
        type: 'response.output_item.added',
        sequence_number: next(),
        output_index,
        item: { ...item, status: 'in_progress', content: [] },
      });
      item.content.forEach((part, content_index) => {
        if (part.type !== 'output_text') return;
        const empty: ResponseOutputText = { type: 'output_text', text: '', annotations: [], logprobs: [] };
        events.push({
          type: 'response.content_part.added',
          sequence_number: next(),
          item_id: itemId,
          output_index,
          content_index,
          part: empty,
        });
        for (const delta of splitTextDeltas(part.text)) {
          events.push({
            type: 'response.output_text.delta',
            sequence_number: next(),
            item_id: itemId,
            output_index,
            content_index,
            delta,
            logprobs: [],
          });
        }
        events.push({
          type: 'response.output_text.done',
          sequence_number: next(),
          item_id: itemId,
          output_index,
          content_index,
          text: part.text,
          logprobs: [],
        });
        events.push({
          type: 'response.content_part.done',
          sequence_number: next(),
          item_id: itemId,
          output_index,
          content_index,
          part: structuredClone(part),
        });
      });
    } else {
      const itemId = item.id ?? '';
      events.push({
        type: 'response.output_item.added',
        sequence_number: next(),
        output_index,
        item: { ...item, status: 'in_progress', arguments: '' },
      });
      for (const delta of splitArgumentDeltas(item.arguments)) {
        events.push({
          type: 'response.function_call_arguments.delta',
          sequence_number: next(),
          item_id: itemId,
          output_index,
          delta,
        });
      }
      events.push({
        type: 'response.function_call_arguments.done',
        sequence_number: next(),
        item_id: itemId,
        output_index,
        name: item.name,
        arguments: item.arguments,
      });
    }
    events.push({ type: 'response.output_item.done', sequence_number: next(), output_index, item: structuredClone(item) });
  });
  events.push({
    type: 'response.completed',
    sequence_number: next(),
    response: completedResponse(id, body, ctx, items, usage),
  });
  return events;
}
