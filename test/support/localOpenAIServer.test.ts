import { afterEach, describe, expect, it, vi } from 'vitest';
import OpenAI, { APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import {
  startLocalOpenAIServer,
  splitArgumentDeltas,
  splitTextDeltas,
  type LocalOpenAIServer,
  type LocalOpenAIServerOptions,
} from './localOpenAIServer.ts';

const servers: LocalOpenAIServer[] = [];

async function start(opts?: LocalOpenAIServerOptions): Promise<LocalOpenAIServer> {
  const s = await startLocalOpenAIServer(opts);
  servers.push(s);
  return s;
}

function clientFor(server: LocalOpenAIServer): OpenAI {
  return new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0, logLevel: 'off' });
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const user = [{ role: 'user' as const, content: 'What is the weather in Paris?' }];
const weatherCall = { id: 'call_weather_1', name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' };
const timeCall = { id: 'call_time_2', name: 'get_time', arguments: '{"tz":"Europe/Paris"}' };

describe('delta splitting', () => {
  it('text and argument deltas concatenate back exactly', () => {
    for (const t of ['', ' lead', 'Hello big  world\n', 'naïve 😀 emoji  ']) {
      expect(splitTextDeltas(t).join('')).toBe(t);
    }
    expect(splitTextDeltas('Hello big world')).toEqual(['Hello ', 'big ', 'world']);
    const args = '{"emoji":"😀😀😀😀😀😀😀😀😀"}';
    const pieces = splitArgumentDeltas(args);
    expect(pieces.join('')).toBe(args);
    expect(pieces.length).toBeGreaterThan(1);
    for (const p of pieces) expect(p.isWellFormed()).toBe(true);
  });
});

describe('startLocalOpenAIServer — chat completions', () => {
  it('answers a text reply as a ChatCompletion', async () => {
    const server = await start({ replies: [{ kind: 'text', text: 'Sunny, 21°C.', usage: { inputTokens: 12, outputTokens: 5, cachedTokens: 4 } }] });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/v1`);
    const completion = await clientFor(server).chat.completions.create({ model: 'gpt-4o-mini', messages: user });
    expect(completion.id).toMatch(/^chatcmpl-[A-Za-z0-9]{29}$/);
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-4o-mini');
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'Sunny, 21°C.' });
    expect(completion.choices[0]?.message.tool_calls).toBeUndefined();
    expect(completion.usage).toMatchObject({
      prompt_tokens: 12,
      completion_tokens: 5,
      total_tokens: 17,
      prompt_tokens_details: { cached_tokens: 4 },
    });
    expect(completion._request_id).toMatch(/^req_/);
  });

  it('answers a tool-call reply with tool_calls and finish_reason tool_calls', async () => {
    const server = await start({ replies: [{ kind: 'tool_calls', calls: [weatherCall, timeCall] }], model: 'scripted-model' });
    const completion = await clientFor(server).chat.completions.create({ model: 'gpt-4o-mini', messages: user });
    const choice = completion.choices[0];
    expect(completion.model).toBe('scripted-model');
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    expect(choice?.message.tool_calls).toEqual([
      { id: 'call_weather_1', type: 'function', function: { name: 'get_weather', arguments: weatherCall.arguments } },
      { id: 'call_time_2', type: 'function', function: { name: 'get_time', arguments: timeCall.arguments } },
    ]);
    // Default usage is an estimate: positive and consistent.
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    expect(completion.usage?.total_tokens).toBe((completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0));
  });

  it('streams text as content deltas, a finish chunk and a usage chunk', async () => {
    const server = await start({ replies: [{ kind: 'text', text: 'It is sunny in Paris today.', usage: { inputTokens: 9, outputTokens: 7 } }] });
    const stream = await clientFor(server).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: user,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const ids = new Set(chunks.map((c) => c.id));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^chatcmpl-/);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('It is sunny in Paris today.');
    expect(chunks.filter((c) => (c.choices[0]?.delta.content ?? '') !== '').length).toBeGreaterThan(1);
    const finish = chunks.at(-2);
    expect(finish?.choices[0]?.finish_reason).toBe('stop');
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 7, total_tokens: 16 });
    for (const c of chunks.slice(0, -1)) expect(c.usage).toBeNull();
  });

  it('streams tool calls by index; the SDK stream helper reassembles them', async () => {
    const server = await start({
      replies: [{ kind: 'tool_calls', text: 'Checking.', calls: [weatherCall, timeCall] }],
    });
    const client = clientFor(server);
    const raw = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: user, stream: true });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of raw) chunks.push(chunk);
    expect(chunks.every((c) => c.usage === undefined)).toBe(true);
    const byIndex = new Map<number, { id?: string; name?: string; args: string }>();
    for (const c of chunks) {
      for (const tc of c.choices[0]?.delta.tool_calls ?? []) {
        const acc = byIndex.get(tc.index) ?? { args: '' };
        if (tc.id !== undefined) acc.id = tc.id;
        if (tc.function?.name !== undefined) acc.name = tc.function.name;
        acc.args += tc.function?.arguments ?? '';
        byIndex.set(tc.index, acc);
      }
    }
    expect(byIndex.get(0)).toEqual({ id: 'call_weather_1', name: 'get_weather', args: weatherCall.arguments });
    expect(byIndex.get(1)).toEqual({ id: 'call_time_2', name: 'get_time', args: timeCall.arguments });
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');

    server.push({ kind: 'tool_calls', text: 'Checking.', calls: [weatherCall, timeCall] });
    const helper = client.chat.completions.stream({ model: 'gpt-4o-mini', messages: user });
    const final = await helper.finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(final.choices[0]?.message.content).toBe('Checking.');
    expect(final.choices[0]?.message.tool_calls).toEqual([
      { id: 'call_weather_1', type: 'function', function: { name: 'get_weather', arguments: weatherCall.arguments } },
      { id: 'call_time_2', type: 'function', function: { name: 'get_time', arguments: timeCall.arguments } },
    ]);
  });
});

describe('startLocalOpenAIServer — responses', () => {
  it('answers a text reply as a completed Response', async () => {
    const server = await start({ replies: [{ kind: 'text', text: 'Bonjour!', usage: { inputTokens: 3, outputTokens: 2, cachedTokens: 1 } }] });
    const response = await clientFor(server).responses.create({ model: 'gpt-4.1', input: 'Say hi in French', instructions: 'Be brief.' });
    expect(response.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(response.object).toBe('response');
    expect(response.status).toBe('completed');
    expect(response.model).toBe('gpt-4.1');
    expect(response.instructions).toBe('Be brief.');
    expect(response.output_text).toBe('Bonjour!');
    expect(response.output).toHaveLength(1);
    const msg = response.output[0];
    expect(msg?.type).toBe('message');
    if (msg?.type !== 'message') throw new Error('unreachable');
    expect(msg.id).toMatch(/^msg_/);
    expect(msg.status).toBe('completed');
    expect(msg.content).toEqual([{ type: 'output_text', text: 'Bonjour!', annotations: [], logprobs: [] }]);
    expect(response.usage).toEqual({
      input_tokens: 3,
      input_tokens_details: { cached_tokens: 1, cache_write_tokens: 0 },
      output_tokens: 2,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 5,
    });
  });

  it('answers a function call as a function_call output item', async () => {
    const server = await start({ replies: [{ kind: 'tool_calls', calls: [weatherCall] }] });
    const response = await clientFor(server).responses.create({ model: 'gpt-4.1', input: 'weather?' });
    expect(response.status).toBe('completed');
    expect(response.output).toHaveLength(1);
    expect(response.output[0]).toMatchObject({
      type: 'function_call',
      status: 'completed',
      call_id: 'call_weather_1',
      name: 'get_weather',
      arguments: weatherCall.arguments,
    });
    expect((response.output[0] as { id?: string }).id).toMatch(/^fc_/);
    expect(response.output_text).toBe('');
  });

  it('streams text and a function call as the typed event sequence', async () => {
    const server = await start({
      replies: [{ kind: 'tool_calls', text: 'Let me check the weather.', calls: [weatherCall], usage: { inputTokens: 20, outputTokens: 10 } }],
    });
    const client = clientFor(server);
    const stream = await client.responses.create({ model: 'gpt-4.1', input: 'weather?', stream: true });
    const events: ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);

    const types = events.map((e) => e.type);
    const compact = types.filter((t, i) => t !== types[i - 1]);
    expect(compact).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const text = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('');
    expect(text).toBe('Let me check the weather.');
    const args = events.flatMap((e) => (e.type === 'response.function_call_arguments.delta' ? [e.delta] : [])).join('');
    expect(args).toBe(weatherCall.arguments);
    expect(types.filter((t) => t === 'response.function_call_arguments.delta').length).toBeGreaterThan(1);
    const created = events[0];
    const completed = events.at(-1);
    if (created?.type !== 'response.created' || completed?.type !== 'response.completed') throw new Error('bad order');
    expect(created.response.status).toBe('in_progress');
    expect(completed.response.id).toBe(created.response.id);
    expect(completed.response.status).toBe('completed');
    expect(completed.response.output.map((o) => o.type)).toEqual(['message', 'function_call']);
    expect(completed.response.usage?.total_tokens).toBe(30);

    // The SDK's accumulating helper rebuilds the same final Response.
    server.push({ kind: 'tool_calls', text: 'Let me check the weather.', calls: [weatherCall] });
    const helper = client.responses.stream({ model: 'gpt-4.1', input: 'weather?' });
    const final = await helper.finalResponse();
    expect(final.status).toBe('completed');
    expect(final.output_text).toBe('Let me check the weather.');
    expect(final.output[1]).toMatchObject({ type: 'function_call', call_id: 'call_weather_1', arguments: weatherCall.arguments });
  });

  it('streams a plain text reply through the Responses helper', async () => {
    const server = await start({ replies: [{ kind: 'text', text: 'Hello there, friend.' }] });
    const helper = clientFor(server).responses.stream({ model: 'gpt-4.1', input: 'hi' });
    const deltas: string[] = [];
    helper.on('response.output_text.delta', (e) => deltas.push(e.delta));
    const final = await helper.finalResponse();
    expect(deltas.join('')).toBe('Hello there, friend.');
    expect(final.output_text).toBe('Hello there, friend.');
    expect(final.usage?.output_tokens).toBeGreaterThan(0);
  });
});

describe('startLocalOpenAIServer — errors', () => {
  it('an error reply surfaces as an APIError with its status, type and message', async () => {
    const server = await start({
      replies: [
        { kind: 'error', status: 429, message: 'Rate limit reached', type: 'rate_limit_error' },
        { kind: 'error', status: 400, message: 'Bad input' },
      ],
    });
    const client = clientFor(server);
    const err = await client.chat.completions.create({ model: 'm', messages: user }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(429);
    expect((err as APIError).type).toBe('rate_limit_error');
    expect((err as APIError).message).toContain('Rate limit reached');
    const err2 = await client.responses.create({ model: 'm', input: 'x', stream: true }).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(APIError);
    expect((err2 as APIError).status).toBe(400);
    expect((err2 as APIError).type).toBe('invalid_request_error');
  });

  it('answers 500 when the script is exhausted', async () => {
    const server = await start({ replies: [] });
    const err = await clientFor(server).chat.completions.create({ model: 'm', messages: user }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(500);
    expect((err as APIError).message).toMatch(/script exhausted/);
    expect(server.requests).toHaveLength(1);
  });

  it('a malformed body makes the client throw, streaming or not', async () => {
    const server = await start({
      replies: [
        { kind: 'malformed', body: '{"id": "chatcmpl-x", "choices": [' },
        { kind: 'malformed', body: '{"id": "chatcmpl-x",\n "choices": [' },
        { kind: 'malformed', body: '<html>502 Bad Gateway</html>' },
      ],
    });
    const client = clientFor(server);
    await expect(client.chat.completions.create({ model: 'm', messages: user })).rejects.toThrow(SyntaxError);
    // Streaming: `create` resolves (200 SSE), the first iteration step throws.
    const stream = await client.chat.completions.create({ model: 'm', messages: user, stream: true });
    await expect((async () => { for await (const _ of stream) void _; })()).rejects.toThrow(SyntaxError);
    const rstream = await client.responses.create({ model: 'm', input: 'x', stream: true });
    await expect((async () => { for await (const _ of rstream) void _; })()).rejects.toThrow(SyntaxError);
  });

  it('a malformed stream makes the client throw while iterating', async () => {
    const server = await start({
      replies: [
        { kind: 'malformed_stream', chunks: ['{"id":"chatcmpl-x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}', '{"broken": '] },
        { kind: 'malformed_stream', chunks: ['not json at all'] },
      ],
    });
    const client = clientFor(server);
    const stream = await client.chat.completions.create({ model: 'm', messages: user, stream: true });
    const seen: string[] = [];
    const consume = async (): Promise<void> => {
      for await (const c of stream) seen.push(c.choices[0]?.delta.content ?? '');
    };
    await expect(consume()).rejects.toThrow(SyntaxError);
    expect(seen).toEqual(['Hi']);
    const stream2 = await client.responses.create({ model: 'm', input: 'x', stream: true });
    await expect((async () => { for await (const _ of stream2) void _; })()).rejects.toThrow(SyntaxError);
  });

  it('answers 404 for unknown routes and 400 for a non-JSON body', async () => {
    const server = await start({ replies: [{ kind: 'text', text: 'unused' }] });
    const notFound = await fetch(`${server.url}/embeddings`, { method: 'POST', body: '{}' });
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    const wrongMethod = await fetch(`${server.url}/chat/completions`);
    expect(wrongMethod.status).toBe(404);
    const bad = await fetch(`${server.url}/chat/completions`, { method: 'POST', body: 'not json', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringContaining('JSON') } });
    const notObject = await fetch(`${server.url}/responses`, { method: 'POST', body: '[1,2]' });
    expect(notObject.status).toBe(400);
    expect(server.requests.map((r) => [r.api, r.body])).toEqual([
      ['chat', 'not json'],
      ['responses', '[1,2]'],
    ]);
    // The 400s consumed no reply.
    const ok = await clientFor(server).chat.completions.create({ model: 'm', messages: user });
    expect(ok.choices[0]?.message.content).toBe('unused');
  });
});

describe('startLocalOpenAIServer — recording, scripting, lifecycle', () => {
  it('records every request with its parsed body, in order', async () => {
    const before = Date.now();
    const server = await start({ replies: [{ kind: 'text', text: 'a' }, { kind: 'text', text: 'b' }] });
    const client = clientFor(server);
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: user, temperature: 0.2 });
    const s = await client.responses.create({ model: 'gpt-4.1', input: [{ role: 'user', content: 'hi' }], stream: true });
    for await (const _ of s) void _;
    expect(server.requests).toHaveLength(2);
    const [chat, resp] = server.requests;
    expect(chat).toMatchObject({ api: 'chat', path: '/v1/chat/completions', stream: false, body: { model: 'gpt-4o-mini', messages: user, temperature: 0.2 } });
    expect(resp).toMatchObject({ api: 'responses', path: '/v1/responses', stream: true, body: { model: 'gpt-4.1', stream: true, input: [{ role: 'user', content: 'hi' }] } });
    expect(chat?.receivedAt).toBeGreaterThanOrEqual(before);
    expect(resp?.receivedAt).toBeGreaterThanOrEqual(chat?.receivedAt ?? Infinity);
  });

  it('falls back to the reply function once the queue is empty', async () => {
    const server = await start({
      replies: [{ kind: 'text', text: 'queued' }],
      reply: (req) => ({ kind: 'text', text: `fn:${req.api}:${String((req.body as { model?: unknown }).model)}` }),
    });
    const client = clientFor(server);
    const a = await client.chat.completions.create({ model: 'x', messages: user });
    const b = await client.chat.completions.create({ model: 'y', messages: user });
    const c = await client.responses.create({ model: 'z', input: 'hi' });
    expect([a.choices[0]?.message.content, b.choices[0]?.message.content, c.output_text]).toEqual(['queued', 'fn:chat:y', 'fn:responses:z']);
  });

  it('answers 500 when the reply function throws, and keeps serving', async () => {
    let calls = 0;
    const server = await start({
      reply: () => {
        calls += 1;
        if (calls === 1) throw new Error('boom');
        return { kind: 'text', text: 'recovered' };
      },
    });
    const client = clientFor(server);
    const err = await client.chat.completions.create({ model: 'm', messages: user }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(500);
    expect((err as APIError).message).toContain('boom');
    const ok = await client.chat.completions.create({ model: 'm', messages: user });
    expect(ok.choices[0]?.message.content).toBe('recovered');
  });

  it('survives a request aborted during the delay; the next request works', async () => {
    const server = await start({ delayMs: 150, replies: [{ kind: 'text', text: 'never seen' }, { kind: 'text', text: 'second' }] });
    const client = clientFor(server);
    const controller = new AbortController();
    const pending = client.chat.completions.create({ model: 'm', messages: user }, { signal: controller.signal });
    // Abort only once the server holds the request (inside its delay): a fixed
    // timer could fire before the request arrived on a loaded machine, and the
    // first scripted reply would then answer the next request.
    await vi.waitFor(() => expect(server.requests).toHaveLength(1), { timeout: 5_000, interval: 2 });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(APIUserAbortError);
    await new Promise((r) => setTimeout(r, 200)); // let the server's delay elapse on the dead connection
    const next = await client.chat.completions.create({ model: 'm', messages: user });
    expect(next.choices[0]?.message.content).toBe('second');
    expect(server.requests).toHaveLength(2);
  });

  it('survives a stream aborted mid-way; the next request works', async () => {
    const server = await start({
      chunkDelayMs: 30,
      replies: [{ kind: 'text', text: 'one two three four five six seven eight nine ten' }, { kind: 'text', text: 'after' }],
    });
    const client = clientFor(server);
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ model: 'm', messages: user, stream: true }, { signal: controller.signal });
    const got: string[] = [];
    for await (const c of stream) {
      got.push(c.choices[0]?.delta.content ?? '');
      if (got.length === 3) controller.abort();
    }
    expect(got.length).toBeLessThan(6);
    await new Promise((r) => setTimeout(r, 100));
    const next = await client.chat.completions.create({ model: 'm', messages: user });
    expect(next.choices[0]?.message.content).toBe('after');
  });

  it('runs independent servers on different ports', async () => {
    const a = await start({ replies: [{ kind: 'text', text: 'from a' }] });
    const b = await start({ replies: [{ kind: 'text', text: 'from b' }] });
    expect(a.port).not.toBe(b.port);
    const [ra, rb] = await Promise.all([
      clientFor(a).chat.completions.create({ model: 'm', messages: user }),
      clientFor(b).chat.completions.create({ model: 'm', messages: user }),
    ]);
    expect(ra.choices[0]?.message.content).toBe('from a');
    expect(rb.choices[0]?.message.content).toBe('from b');
    expect(a.requests).toHaveLength(1);
    expect(b.requests).toHaveLength(1);
  });

  it('close() resolves with a request in flight, is idempotent, and frees the port', async () => {
    const server = await startLocalOpenAIServer({ delayMs: 5_000, replies: [{ kind: 'text', text: 'late' }] });
    const client = clientFor(server);
    const pending = client.chat.completions.create({ model: 'm', messages: user }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 30));
    const t0 = Date.now();
    await Promise.all([server.close(), server.close()]);
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(await pending).toBeInstanceOf(Error);
    await expect(fetch(`${server.url}/chat/completions`, { method: 'POST', body: '{}' })).rejects.toThrow();
  });
});
