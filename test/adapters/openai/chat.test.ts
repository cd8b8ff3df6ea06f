/**
 * Chat Completions conversions: messages → wire (every role and block), wire →
 * message (text, refusal, tool calls, finish reasons, usage, origin), streaming
 * accumulation, and typed errors for malformed responses and chunks.
 */
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import {
  accumulateChatStream,
  fromChatCompletion,
  toChatMessages,
  type AssistantTurn,
  type OpenAIAdapterError,
} from '../../../src/adapters/openai/index.ts';
import {
  assistantMessage,
  assistantToolCalls,
  imageBlob,
  imageInline,
  reasoning,
  spoken,
  outputText,
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

const completion = (message: Partial<ChatCompletion.Choice['message']>, extra: Partial<ChatCompletion> = {}, finish: ChatCompletion.Choice['finish_reason'] = 'stop') =>
  ({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o-2024-08-06',
    choices: [{ index: 0, finish_reason: finish, logprobs: null, message: { role: 'assistant', content: null, refusal: null, ...message } }],
    ...extra,
  }) satisfies ChatCompletion;

describe('toChatMessages', () => {
  it('maps every role and block as documented', () => {
    const transcript = stamp([
      systemMessage('You are terse.'),
      systemNotice('tool_scope', 'The tool set changed.', { data: { added: ['grep'] } }),
      userText('What is in this picture?'),
      userMessage([textBlock('Look:'), imageInline('image/png', PNG), structuredBlock({ b: 1, a: [true, null] })], { transcriptRole: 'injected_context' }),
      assistantMessage(
        [reasoning('thinking…', 'sig-r'), outputText('Let me check.', 'sig-t'), spoken('(spoken aside)'), toolUse('call_1', 'lookup', { q: 'png', n: 2 }, 'sig-u'), toolUse('call_2', 'raw', '{not json'), toolUse('call_3', 'str', '42')],
        'tool_use',
      ),
      toolResults([
        toolResult('call_1', [textBlock('found'), structuredBlock({ z: 1, y: 'x' }), imageInline('image/png', PNG)]),
        toolResult('call_2', 'bad input', { isError: true, details: { hidden: true } }),
        toolResult('call_3', [], { isError: true }),
      ]),
      assistantMessage([], 'cancelled', { errorMessage: 'aborted' }),
      assistantMessage([reasoning('only thoughts')], 'end_turn'),
    ]);
    const expected: ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are terse.' },
      { role: 'system', content: '[notice tool_scope] The tool set changed.' },
      { role: 'user', content: 'What is in this picture?' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look:' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
          { type: 'text', text: '{"a":[true,null],"b":1}' },
        ],
      },
      {
        role: 'assistant',
        content: 'Let me check.\n(spoken aside)',
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"png","n":2}' } },
          { id: 'call_2', type: 'function', function: { name: 'raw', arguments: '{not json' } },
          { id: 'call_3', type: 'function', function: { name: 'str', arguments: '"42"' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'found\n{"y":"x","z":1}\n[image: image/png]' },
      { role: 'tool', tool_call_id: 'call_2', content: '[tool error] bad input' },
      { role: 'tool', tool_call_id: 'call_3', content: '[tool error]' },
      { role: 'assistant', content: '' },
      { role: 'assistant', content: '' },
    ];
    expect(right(toChatMessages(transcript))).toEqual(expected);
  });

  it('sends null content beside tool calls, and the developer role on request', () => {
    const transcript = stamp([systemMessage('rules'), assistantToolCalls([{ id: 'c', name: 'f', args: {} }])]);
    expect(right(toChatMessages(transcript, { systemRole: 'developer' }))).toEqual([
      { role: 'developer', content: 'rules' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    ]);
  });

  it('needs a resolver for blob images', () => {
    const transcript = stamp([userText('hi'), userMessage([textBlock('see'), imageBlob('image/png', BLOB)])]);
    const err = left(toChatMessages(transcript));
    expect(err).toMatchObject({ _tag: 'UnresolvedBlob', blobId: BLOB, path: '$[1].content[1]' });
    const resolved = right(toChatMessages(transcript, { resolveBlob: (id, mt) => (id === BLOB ? `https://blobs.example/${mt}` : undefined) }));
    expect(resolved[1]).toEqual({ role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'image_url', image_url: { url: 'https://blobs.example/image/png' } }] });
    expect(left(toChatMessages(transcript, { resolveBlob: () => undefined }))._tag).toBe('UnresolvedBlob');
  });
});

describe('fromChatCompletion', () => {
  it('maps text, tool calls, usage and origin', () => {
    const wire = completion(
      {
        content: 'Checking.',
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'lookup', arguments: '{"q":"x","deep":{"k":[1,2]}}' } },
          { id: 'call_b', type: 'function', function: { name: 'echo', arguments: 'not json at all' } },
        ],
      },
      { usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150, prompt_tokens_details: { cached_tokens: 100, cache_write_tokens: 7 } } },
      'tool_calls',
    );
    const turn = right(fromChatCompletion(wire));
    const usage = { inputTokens: 120, outputTokens: 30, cacheReadTokens: 100 };
    expect(turn).toEqual({
      stopReason: 'tool_use',
      usage,
      message: {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'call_a', name: 'lookup', args: { q: 'x', deep: { k: [1, 2] } } },
          { type: 'tool_use', id: 'call_b', name: 'echo', args: 'not json at all' },
        ],
        stopReason: 'tool_use',
        origin: { provider: 'openai', model: 'gpt-4o-2024-08-06', api: 'openai-chat-completions', responseId: 'chatcmpl-1' },
        usage,
      },
    } satisfies AssistantTurn);
    // the session accepts it as is
    expect(E.isRight(Session.create().push(turn.message))).toBe(true);
  });

  it('keeps JSON null, numbers and quoted strings as arguments, and round-trips them', () => {
    const calls = [
      { id: 'c1', name: 'f', args: null },
      { id: 'c2', name: 'f', args: 42 },
      { id: 'c3', name: 'f', args: '{"looks":"like json"}' },
      { id: 'c4', name: 'f', args: '' },
      { id: 'c5', name: 'f', args: [1, 'two', { three: 3 }] },
    ];
    const wire = right(toChatMessages(stamp([assistantToolCalls(calls)])));
    expect(wire[0]).toMatchObject({ tool_calls: [{ function: { arguments: 'null' } }, { function: { arguments: '42' } }, { function: { arguments: '"{\\"looks\\":\\"like json\\"}"' } }, { function: { arguments: '' } }, { function: { arguments: '[1,"two",{"three":3}]' } }] });
    const back = right(fromChatCompletion(completion({ tool_calls: (wire[0] as { tool_calls: ChatCompletion.Choice['message']['tool_calls'] }).tool_calls }, {}, 'tool_calls')));
    expect(back.message.content).toEqual(calls.map((c) => ({ type: 'tool_use', ...c })));
  });

  it('maps every finish_reason', () => {
    const cases: Array<[ChatCompletion.Choice['finish_reason'], string]> = [
      ['stop', 'end_turn'],
      ['length', 'max_tokens'],
      ['tool_calls', 'tool_use'],
      ['function_call', 'tool_use'],
      ['content_filter', 'content_filter'],
    ];
    for (const [finish, stop] of cases) {
      const turn = right(fromChatCompletion(completion({ content: 'x' }, {}, finish)));
      expect(turn.stopReason).toBe(stop);
      expect(turn.message.stopReason).toBe(stop);
      expect(turn.usage).toBeUndefined();
    }
  });

  it('keeps a refusal as text, maps custom and legacy function calls, honours the provider option', () => {
    const turn = right(
      fromChatCompletion(
        completion({
          content: '',
          refusal: 'I cannot help with that.',
          tool_calls: [{ id: 'ct_1', type: 'custom', custom: { name: 'grammar', input: 'SELECT 1' } }],
          function_call: { name: 'legacy', arguments: '{"a":1}' },
        }),
        { provider: 'azure' },
      ),
    );
    expect(turn.message.content).toEqual([
      { type: 'text', text: 'I cannot help with that.' },
      { type: 'tool_use', id: 'ct_1', name: 'grammar', args: 'SELECT 1' },
      { type: 'tool_use', id: 'chatcmpl-1:function_call', name: 'legacy', args: { a: 1 } },
    ]);
    expect(turn.message.origin?.provider).toBe('azure');
  });

  it('omits responseId for an empty id and accepts a tool call without type', () => {
    const wire = { ...completion({}), id: '', choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: null, tool_calls: [{ id: 'c1', function: { name: 'f', arguments: '' } }] } }] };
    const turn = right(fromChatCompletion(wire));
    expect(turn.message.origin).toEqual({ provider: 'openai', model: 'gpt-4o-2024-08-06', api: 'openai-chat-completions' });
    expect(turn.message.content).toEqual([{ type: 'tool_use', id: 'c1', name: 'f', args: '' }]);
  });

  it('reports malformed responses with a path, never throwing', () => {
    const base = completion({ content: 'hi' });
    const cases: Array<[unknown, string]> = [
      [null, '$'],
      ['text', '$'],
      [{ ...base, choices: undefined }, '$.choices'],
      [{ ...base, choices: [] }, '$.choices'],
      [{ ...base, model: '' }, '$.model'],
      [{ ...base, id: 7 }, '$.id'],
      [{ ...base, choices: [{ ...base.choices[0], finish_reason: 'eos' }] }, '$.choices[0].finish_reason'],
      [{ ...base, choices: [{ ...base.choices[0], finish_reason: null }] }, '$.choices[0].finish_reason'],
      [{ ...base, choices: [{ ...base.choices[0], message: { content: 5 } }] }, '$.choices[0].message.content'],
      [{ ...base, choices: [{ ...base.choices[0], message: { content: 'a\ud800' } }] }, '$.choices[0].message.content'],
      [{ ...base, choices: [{ ...base.choices[0], message: { tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{}' } }] } }] }, '$.choices[0].message.tool_calls[0].id'],
      [{ ...base, choices: [{ ...base.choices[0], message: { tool_calls: [{ id: 'x', type: 'function', function: { name: 'f', arguments: {} } }] } }] }, '$.choices[0].message.tool_calls[0].function.arguments'],
      [{ ...base, choices: [{ ...base.choices[0], message: { tool_calls: [{ id: 'x', type: 'function', function: { name: '', arguments: '' } }] } }] }, '$.choices[0].message.tool_calls[0].function.name'],
      [{ ...base, usage: { prompt_tokens: -1, completion_tokens: 0, total_tokens: 0 } }, '$.usage.prompt_tokens'],
      [{ ...base, usage: { prompt_tokens: 1.5, completion_tokens: 0, total_tokens: 0 } }, '$.usage.prompt_tokens'],
      [{ ...base, usage: { prompt_tokens: 10, completion_tokens: 0, total_tokens: 10, prompt_tokens_details: { cached_tokens: 11 } } }, '$.usage.prompt_tokens_details.cached_tokens'],
    ];
    for (const [wire, path] of cases) {
      const err = left(fromChatCompletion(wire));
      expect(err, JSON.stringify(wire)).toMatchObject({ _tag: 'MalformedResponse', path });
      expect(typeof err.message).toBe('string');
    }
  });
});

describe('accumulateChatStream', () => {
  const chunk = (delta: ChatCompletionChunk.Choice['delta'], finish: ChatCompletionChunk.Choice['finish_reason'] = null): ChatCompletionChunk => ({
    id: 'chatcmpl-9',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  const chunks: ChatCompletionChunk[] = [
    chunk({ role: 'assistant', content: '' }),
    chunk({ content: 'Hel' }),
    chunk({ content: 'lo.' }),
    chunk({ tool_calls: [{ index: 0, id: 'call_x', type: 'function', function: { name: 'search', arguments: '' } }] }),
    chunk({ tool_calls: [{ index: 1, id: 'call_y', type: 'function', function: { name: 'fetch', arguments: '{"u' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"q":' } }] }),
    chunk({ tool_calls: [{ index: 1, function: { arguments: 'rl":"a"}' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"cats"}' } }] }),
    chunk({}, 'tool_calls'),
    { ...chunk({}), choices: [], usage: { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70, prompt_tokens_details: { cached_tokens: 0 } } },
  ];
  async function* gen<T>(xs: readonly T[]): AsyncGenerator<T> {
    for (const x of xs) yield x;
  }

  it('assembles content, tool calls by index, finish reason and usage', async () => {
    const turn = right(await accumulateChatStream(gen(chunks)));
    const usage = { inputTokens: 50, outputTokens: 20, cacheReadTokens: 0 };
    expect(turn).toEqual({
      stopReason: 'tool_use',
      usage,
      message: {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Hello.' },
          { type: 'tool_use', id: 'call_x', name: 'search', args: { q: 'cats' } },
          { type: 'tool_use', id: 'call_y', name: 'fetch', args: { url: 'a' } },
        ],
        stopReason: 'tool_use',
        origin: { provider: 'openai', model: 'gpt-4o-mini', api: 'openai-chat-completions', responseId: 'chatcmpl-9' },
        usage,
      },
    });
    // a sync iterable gives the same
    expect(await accumulateChatStream(chunks)).toEqual(E.right(turn));
  });

  it('equals fromChatCompletion of the equivalent completion', async () => {
    const streamed = right(await accumulateChatStream([chunk({ content: 'a' }), chunk({ content: 'b' }, 'stop')]));
    const whole = right(fromChatCompletion({ ...completion({ content: 'ab' }), id: 'chatcmpl-9', model: 'gpt-4o-mini' }));
    expect(streamed).toEqual(whole);
  });

  it('reports a malformed chunk with its index and path', async () => {
    const bad = [chunk({ content: 'a' }), { ...chunk({}), choices: [{ index: 0, delta: { content: 3 }, finish_reason: null }] }];
    const err = left(await accumulateChatStream(bad));
    expect(err).toMatchObject({ _tag: 'MalformedStreamEvent', index: 1, path: '$.choices[0].delta.content' });
    const err2 = left(await accumulateChatStream([chunk({ content: 'a' }), 'data: [DONE]']));
    expect(err2).toMatchObject({ _tag: 'MalformedStreamEvent', index: 1, path: '$' });
    const err3 = left(await accumulateChatStream([{ ...chunk({}), choices: [{ index: 0, delta: { tool_calls: [{ index: -1 }] }, finish_reason: null }] }]));
    expect(err3).toMatchObject({ _tag: 'MalformedStreamEvent', index: 0, path: '$.choices[0].delta.tool_calls[0].index' });
  });

  it('reports a stream without finish_reason, a failing iterable, and a tool call that never got an id', async () => {
    expect(left(await accumulateChatStream([chunk({ content: 'a' })]))).toMatchObject({ _tag: 'IncompleteStream', events: 1 });
    expect(left(await accumulateChatStream([]))).toMatchObject({ _tag: 'IncompleteStream', events: 0 });
    async function* boom(): AsyncGenerator<unknown> {
      yield chunk({ content: 'a' });
      throw new Error('socket hang up');
    }
    const failed = left<OpenAIAdapterError>(await accumulateChatStream(boom()));
    expect(failed._tag).toBe('StreamFailed');
    expect(failed.message).toContain('socket hang up');
    const noId = left(await accumulateChatStream([chunk({ tool_calls: [{ index: 0, function: { name: 'f', arguments: '{}' } }] }, 'tool_calls')]));
    expect(noId).toMatchObject({ _tag: 'MalformedResponse', path: '$.choices[0].message.tool_calls[0].id' });
  });

  it('joins a surrogate pair split across chunks; a lone surrogate in the assembled text is malformed', async () => {
    const turn = right(await accumulateChatStream([chunk({ content: 'a\ud83d' }), chunk({ content: '\ude00b' }, 'stop')]));
    expect(turn.message.content).toEqual([{ type: 'text', text: 'a😀b' }]);
    expect(left(await accumulateChatStream([chunk({ content: 'a\ud83d' }, 'stop')]))).toMatchObject({ _tag: 'MalformedResponse', path: '$.choices[0].message.content' });
  });

  it('ignores other choices and keeps the first id and model', async () => {
    const other = { ...chunk({ content: 'ignored' }), choices: [{ index: 1, delta: { content: 'ignored' }, finish_reason: 'stop' as const }] };
    const turn = right(await accumulateChatStream([other, chunk({ content: 'kept' }, 'length')]));
    expect(turn.message.content).toEqual([{ type: 'text', text: 'kept' }]);
    expect(turn.stopReason).toBe('max_tokens');
  });
});
