/**
 * Responses API conversions: messages → input items (every role and block, the
 * signature conventions), response → message (text, reasoning, function calls,
 * every status, usage), streaming accumulation, and typed errors.
 */
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type {
  Response,
  ResponseInputItem,
  ResponseOutputItem,
  ResponseReasoningItem,
  ResponseStreamEvent,
  ResponseUsage,
} from 'openai/resources/responses/responses';
import { accumulateResponseStream, fromResponse, toResponsesInput, type AssistantTurn } from '../../../src/adapters/openai/index.ts';
import {
  assistantMessage,
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
  userMessage,
  userText,
} from '../../../src/model/constructors.ts';
import { stampMessage, type Message, type MessageInput } from '../../../src/model/message.ts';
import { Session } from '../../../src/session/session.ts';

const PNG = 'iVBORw0KGgo=';
const BLOB = 'sha256:fb1e3bc6dbb29cf9dff812505b0d6a5ef6ab17e0cd1daa08743b9455f65e1734';
const stamp = (ms: MessageInput[]): Message[] => ms.map((m, i) => stampMessage(m, 1_000 + i));
const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected Right, got ${JSON.stringify(e.left)}`);
  return e.right;
};
const left = <L>(e: E.Either<L, unknown>): L => {
  if (E.isRight(e)) throw new Error(`expected Left, got ${JSON.stringify(e.right)}`);
  return e.left;
};

const usageWire: ResponseUsage = {
  input_tokens: 900,
  input_tokens_details: { cached_tokens: 512, cache_write_tokens: 0 },
  output_tokens: 80,
  output_tokens_details: { reasoning_tokens: 40 },
  total_tokens: 980,
};
const response = (output: ResponseOutputItem[], extra: Partial<Response> = {}): Response => ({
  id: 'resp_1',
  object: 'response',
  created_at: 1_700_000_000,
  model: 'gpt-5',
  output,
  output_text: '',
  error: null,
  incomplete_details: null,
  instructions: null,
  metadata: null,
  parallel_tool_calls: true,
  temperature: null,
  tool_choice: 'auto',
  tools: [],
  top_p: null,
  status: 'completed',
  ...extra,
});
const reasoningItem: ResponseReasoningItem = {
  id: 'rs_1',
  type: 'reasoning',
  summary: [
    { type: 'summary_text', text: 'First I look.' },
    { type: 'summary_text', text: 'Then I answer.' },
  ],
  encrypted_content: 'gAAAAB-opaque==',
};
const messageItem: ResponseOutputItem = {
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  status: 'completed',
  content: [
    { type: 'output_text', text: 'Part one.', annotations: [] },
    { type: 'output_text', text: 'Part two.', annotations: [] },
  ],
};
const callItem: ResponseOutputItem = { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' };
const origin = { provider: 'openai', model: 'gpt-5', api: 'openai-responses', responseId: 'resp_1' };

describe('fromResponse', () => {
  it('maps reasoning, text and function calls with their signatures, usage and origin', () => {
    const turn = right(fromResponse(response([reasoningItem, messageItem, callItem], { usage: usageWire })));
    const usage = { inputTokens: 900, outputTokens: 80, cacheReadTokens: 512 };
    expect(turn).toEqual({
      stopReason: 'tool_use',
      usage,
      message: {
        role: 'assistant',
        content: [
          { type: 'reasoning', text: 'First I look.\n\nThen I answer.', signature: JSON.stringify(reasoningItem) },
          { type: 'text', text: 'Part one.', signature: 'msg_1' },
          { type: 'text', text: 'Part two.', signature: 'msg_1' },
          { type: 'tool_use', id: 'call_1', name: 'get_weather', args: { city: 'Paris' }, signature: 'fc_1' },
        ],
        stopReason: 'tool_use',
        origin,
        usage,
      },
    } satisfies AssistantTurn);
    expect(E.isRight(Session.create().push(turn.message))).toBe(true);
  });

  it('prefers reasoning_text content, keeps encrypted-only reasoning with empty text, drops hosted tool items', () => {
    const withContent: ResponseReasoningItem = { ...reasoningItem, content: [{ type: 'reasoning_text', text: 'raw chain' }] };
    const encrypted: ResponseReasoningItem = { id: 'rs_2', type: 'reasoning', summary: [], encrypted_content: 'xyz' };
    const web: ResponseOutputItem = { id: 'ws_1', type: 'web_search_call', status: 'completed', action: { type: 'search', query: 'q' } };
    const turn = right(fromResponse(response([withContent, encrypted, web, { ...messageItem, content: [{ type: 'refusal', refusal: 'No.' }] }])));
    expect(turn.message.content).toEqual([
      { type: 'reasoning', text: 'raw chain', signature: JSON.stringify(withContent) },
      { type: 'reasoning', text: '', signature: JSON.stringify(encrypted) },
      { type: 'text', text: 'No.', signature: 'msg_1' },
    ]);
    expect(turn.stopReason).toBe('end_turn');
  });

  it('maps every status', () => {
    const cases: Array<[Partial<Response>, string, string?]> = [
      [{ status: 'completed' }, 'end_turn'],
      [{ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }, 'max_tokens'],
      [{ status: 'incomplete', incomplete_details: { reason: 'content_filter' } }, 'content_filter'],
      [{ status: 'incomplete', incomplete_details: {} }, 'end_turn'],
      [{ status: 'failed', error: { code: 'server_error', message: 'boom' } }, 'error', 'boom'],
      [{ status: 'failed' }, 'error', 'response failed'],
      [{ status: 'cancelled' }, 'cancelled'],
      [{ status: undefined }, 'end_turn'],
      [{ status: undefined, incomplete_details: { reason: 'max_output_tokens' } }, 'max_tokens'],
      [{ status: undefined, error: { code: 'server_error', message: 'x' } }, 'error', 'x'],
    ];
    for (const [extra, stop, errorMessage] of cases) {
      const turn = right(fromResponse(response([messageItem], extra)));
      expect(turn.stopReason, JSON.stringify(extra)).toBe(stop);
      expect(turn.message.errorMessage).toBe(errorMessage);
    }
    expect(right(fromResponse(response([callItem], { status: 'completed' }))).stopReason).toBe('tool_use');
    const custom: ResponseOutputItem = { type: 'custom_tool_call', call_id: 'ct', name: 'sql', input: 'SELECT 1' };
    const customTurn = right(fromResponse(response([custom])));
    expect(customTurn.stopReason).toBe('tool_use');
    expect(customTurn.message.content).toEqual([{ type: 'tool_use', id: 'ct', name: 'sql', args: 'SELECT 1' }]);
    expect(left(fromResponse(response([], { status: 'in_progress' })))).toMatchObject({ _tag: 'MalformedResponse', path: '$.status' });
    expect(left(fromResponse(response([], { status: 'queued' })))).toMatchObject({ _tag: 'MalformedResponse', path: '$.status' });
  });

  it('reports malformed responses with a path', () => {
    const base = response([messageItem, callItem], { usage: usageWire });
    const cases: Array<[unknown, string]> = [
      [undefined, '$'],
      [{ ...base, output: undefined }, '$.output'],
      [{ ...base, model: 3 }, '$.model'],
      [{ ...base, status: 'done' }, '$.status'],
      [{ ...base, output: [{ id: 'x' }] }, '$.output[0].type'],
      [{ ...base, output: [{ ...callItem, call_id: '' }] }, '$.output[0].call_id'],
      [{ ...base, output: [{ ...callItem, arguments: null }] }, '$.output[0].arguments'],
      [{ ...base, output: [{ ...messageItem, content: [{ type: 'output_text' }] }] }, '$.output[0].content[0].text'],
      [{ ...base, output: [{ ...reasoningItem, summary: 'x' }] }, '$.output[0].summary'],
      [{ ...base, usage: { ...usageWire, output_tokens: -2 } }, '$.usage.output_tokens'],
      [{ ...base, usage: { ...usageWire, input_tokens_details: { cached_tokens: 901 } } }, '$.usage.input_tokens_details.cached_tokens'],
    ];
    for (const [wire, path] of cases) expect(left(fromResponse(wire)), path).toMatchObject({ _tag: 'MalformedResponse', path });
  });
});

describe('toResponsesInput', () => {
  it('maps every role and block, honouring signatures on openai-responses turns', () => {
    const fromOpenAI = right(fromResponse(response([reasoningItem, messageItem, callItem]))).message;
    const transcript = stamp([
      systemMessage('Be brief.'),
      systemNotice('background_job', 'Job 7 finished.'),
      userText('Weather?'),
      userMessage([textBlock('and this'), imageInline('image/png', PNG), structuredBlock({ k: 1 })]),
      fromOpenAI,
      toolResults([toolResult('call_1', '18°C'), toolResult('call_1', [textBlock('chart'), imageInline('image/png', PNG)], { isError: true })]),
      assistantMessage([outputText('plain', 'anthropic-sig'), reasoning('secret', 'anthropic-thinking'), spoken('said aloud'), outputText(''), toolUse('t1', 'f', 'bad{', 'sig')], 'tool_use', {
        origin: { provider: 'anthropic', model: 'claude', api: 'anthropic-messages' },
      }),
      toolResults([toolResult('t1', [structuredBlock({ ok: true })])]),
    ]);
    const expected: ResponseInputItem[] = [
      { type: 'message', role: 'developer', content: 'Be brief.' },
      { type: 'message', role: 'developer', content: '[notice background_job] Job 7 finished.' },
      { type: 'message', role: 'user', content: 'Weather?' },
      {
        type: 'message',
        role: 'user',
        content: [
          { type: 'input_text', text: 'and this' },
          { type: 'input_image', detail: 'auto', image_url: `data:image/png;base64,${PNG}` },
          { type: 'input_text', text: '{"k":1}' },
        ],
      },
      reasoningItem,
      {
        type: 'message',
        role: 'assistant',
        id: 'msg_1',
        status: 'completed',
        content: [
          { type: 'output_text', text: 'Part one.', annotations: [] },
          { type: 'output_text', text: 'Part two.', annotations: [] },
        ],
      },
      { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}', id: 'fc_1' },
      { type: 'function_call_output', call_id: 'call_1', output: '18°C' },
      {
        type: 'function_call_output',
        call_id: 'call_1',
        output: [
          { type: 'input_text', text: '[tool error]' },
          { type: 'input_text', text: 'chart' },
          { type: 'input_image', detail: 'auto', image_url: `data:image/png;base64,${PNG}` },
        ],
      },
      { type: 'message', role: 'assistant', content: 'plain' },
      { type: 'message', role: 'assistant', content: 'said aloud' },
      { type: 'function_call', call_id: 't1', name: 'f', arguments: 'bad{' },
      { type: 'function_call_output', call_id: 't1', output: '{"ok":true}' },
    ];
    expect(right(toResponsesInput(transcript))).toEqual(expected);
  });

  it('with store: false, sends no server-side item ids: bare reasoning dropped, encrypted reasoning kept', () => {
    const bare: ResponseReasoningItem = { id: 'rs_2', type: 'reasoning', summary: [] };
    const turn = right(fromResponse(response([bare, reasoningItem, messageItem, callItem]))).message;
    const transcript = stamp([userText('Weather?'), turn, toolResults([toolResult('call_1', '18°C')])]);
    expect(right(toResponsesInput(transcript, { store: false }))).toEqual([
      { type: 'message', role: 'user', content: 'Weather?' },
      reasoningItem,
      { type: 'message', role: 'assistant', content: 'Part one.' },
      { type: 'message', role: 'assistant', content: 'Part two.' },
      { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call_output', call_id: 'call_1', output: '18°C' },
    ] satisfies ResponseInputItem[]);
    // the default (store: true) sends every item with its id
    expect(right(toResponsesInput(transcript)).slice(1, 3)).toEqual([bare, reasoningItem]);
  });

  it('sends the system role on request and splits text items at a signature change', () => {
    const a = assistantMessage([outputText('a', 'msg_a'), outputText('b', 'msg_b'), outputText('c', 'msg_b'), reasoning('not an item', 'rs-not-json')], 'end_turn', {
      origin: { provider: 'openai', model: 'gpt-5', api: 'openai-responses' },
    });
    const items = right(toResponsesInput(stamp([systemMessage('s'), a]), { systemRole: 'system' }));
    expect(items).toEqual([
      { type: 'message', role: 'system', content: 's' },
      { type: 'message', role: 'assistant', id: 'msg_a', status: 'completed', content: [{ type: 'output_text', text: 'a', annotations: [] }] },
      {
        type: 'message',
        role: 'assistant',
        id: 'msg_b',
        status: 'completed',
        content: [
          { type: 'output_text', text: 'b', annotations: [] },
          { type: 'output_text', text: 'c', annotations: [] },
        ],
      },
    ]);
  });

  it('needs a resolver for blob images, in user content and tool results', () => {
    expect(left(toResponsesInput(stamp([userMessage([imageBlob('image/png', BLOB)])])))).toMatchObject({ _tag: 'UnresolvedBlob', path: '$[0].content[0]' });
    const t = stamp([
      assistantMessage([toolUse('c', 'f', {})], 'tool_use'),
      toolResults([toolResult('c', [imageBlob('image/png', BLOB)])]),
    ]);
    expect(left(toResponsesInput(t))).toMatchObject({ _tag: 'UnresolvedBlob', blobId: BLOB, path: '$[1].results[0].content[0]' });
    const ok = right(toResponsesInput(t, { resolveBlob: () => 'https://x/y.png' }));
    expect(ok[1]).toEqual({ type: 'function_call_output', call_id: 'c', output: [{ type: 'input_image', detail: 'auto', image_url: 'https://x/y.png' }] });
  });

  it('round-trips a response through input items and back', () => {
    const turn = right(fromResponse(response([reasoningItem, messageItem, callItem])));
    const items = right(toResponsesInput(stamp([turn.message])));
    const again = right(fromResponse(response(items as ResponseOutputItem[])));
    expect(again.message.content).toEqual(turn.message.content);
  });
});

describe('accumulateResponseStream', () => {
  type Unsequenced = ResponseStreamEvent extends infer T ? (T extends unknown ? Omit<T, 'sequence_number'> : never) : never;
  const seq = (events: Unsequenced[]): ResponseStreamEvent[] =>
    events.map((e, i) => ({ ...e, sequence_number: i }) as ResponseStreamEvent);
  const final = response([reasoningItem, messageItem, callItem], { usage: usageWire });
  const stream = seq([
    { type: 'response.created', response: response([], { status: 'in_progress' }) },
    { type: 'response.output_item.added', output_index: 0, item: { id: 'rs_1', type: 'reasoning', summary: [] } },
    { type: 'response.reasoning_summary_text.delta', output_index: 0, summary_index: 0, item_id: 'rs_1', delta: 'First I look.' },
    { type: 'response.output_item.done', output_index: 0, item: reasoningItem },
    { type: 'response.output_item.added', output_index: 1, item: { ...messageItem, status: 'in_progress', content: [] } as ResponseOutputItem },
    { type: 'response.output_text.delta', output_index: 1, content_index: 0, item_id: 'msg_1', delta: 'Part ', logprobs: [] },
    { type: 'response.output_text.delta', output_index: 1, content_index: 0, item_id: 'msg_1', delta: 'one.', logprobs: [] },
    { type: 'response.output_text.delta', output_index: 1, content_index: 1, item_id: 'msg_1', delta: 'Part two.', logprobs: [] },
    { type: 'response.output_item.added', output_index: 2, item: { ...callItem, arguments: '' } as ResponseOutputItem },
    { type: 'response.function_call_arguments.delta', output_index: 2, item_id: 'fc_1', delta: '{"city":' },
    { type: 'response.function_call_arguments.delta', output_index: 2, item_id: 'fc_1', delta: '"Paris"}' },
    { type: 'response.completed', response: final },
  ]);

  it('takes the terminal response as authoritative', async () => {
    const turn = right(await accumulateResponseStream(stream));
    expect(turn).toEqual(right(fromResponse(final)));
  });

  it('assembles the output from deltas when the terminal response has none', async () => {
    const withoutOutput = [...stream.slice(0, -1), { type: 'response.completed', sequence_number: 99, response: { ...final, output: [] } }];
    const turn = right(await accumulateResponseStream(withoutOutput));
    expect(turn.message.content).toEqual([
      { type: 'reasoning', text: 'First I look.\n\nThen I answer.', signature: JSON.stringify(reasoningItem) },
      { type: 'text', text: 'Part one.', signature: 'msg_1' },
      { type: 'text', text: 'Part two.', signature: 'msg_1' },
      { type: 'tool_use', id: 'call_1', name: 'get_weather', args: { city: 'Paris' }, signature: 'fc_1' },
    ]);
    expect(turn.stopReason).toBe('tool_use');
  });

  it('maps incomplete and failed terminal events', async () => {
    const inc = right(await accumulateResponseStream([{ type: 'response.incomplete', sequence_number: 0, response: response([messageItem], { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }) }]));
    expect(inc.stopReason).toBe('max_tokens');
    const failed = right(await accumulateResponseStream([{ type: 'response.failed', sequence_number: 0, response: response([], { status: 'failed', error: { code: 'server_error', message: 'overloaded' } }) }]));
    expect(failed.message).toMatchObject({ stopReason: 'error', errorMessage: 'overloaded', content: [] });
  });

  it('reports errors as typed values', async () => {
    expect(left(await accumulateResponseStream(stream.slice(0, -1)))).toMatchObject({ _tag: 'IncompleteStream', events: 11 });
    expect(left(await accumulateResponseStream([stream[0], { type: 'error', sequence_number: 1, code: 'rate_limit_exceeded', message: 'slow down', param: null }]))).toEqual({
      _tag: 'StreamFailed',
      code: 'rate_limit_exceeded',
      message: 'the provider reported an error: slow down',
    });
    expect(left(await accumulateResponseStream([stream[0], { type: 'response.output_text.delta', output_index: 4, content_index: 0, delta: 'x' }]))).toMatchObject({
      _tag: 'MalformedStreamEvent',
      index: 1,
      path: '$.output_index',
    });
    expect(left(await accumulateResponseStream([{ type: 42 }]))).toMatchObject({ _tag: 'MalformedStreamEvent', index: 0, path: '$.type' });
    expect(left(await accumulateResponseStream([stream[1], { type: 'response.function_call_arguments.delta', output_index: 0, delta: 5 }]))).toMatchObject({
      _tag: 'MalformedStreamEvent',
      index: 1,
      path: '$.delta',
    });
    expect(left(await accumulateResponseStream([{ type: 'response.completed', sequence_number: 0, response: { ...final, model: '' } }]))).toMatchObject({
      _tag: 'MalformedStreamEvent',
      index: 0,
      path: '$.response.model',
    });
    function* boom(): Generator<unknown> {
      yield stream[0];
      throw new Error('ECONNRESET');
    }
    expect(left(await accumulateResponseStream(boom()))).toMatchObject({ _tag: 'StreamFailed' });
  });
});
