/**
 * `runAgentTurn` end to end: temp directories with real LevelDB, the real local
 * OpenAI-compatible HTTP server, and the real `openai` client (`maxRetries: 0`).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import OpenAI from 'openai';
import { startLocalOpenAIServer, type LocalOpenAIServer, type ScriptedReply } from '../../support/localOpenAIServer.ts';
import type { SessionEngine } from '../../../src/engine/index.ts';
import { runAgentTurn, type AgentTurnOptions, type ToolHandler } from '../../../src/adapters/openai/turnRunner.ts';
import { assistantToolCalls, textBlock, toolResult, userText, type Json, type Message } from '../../../src/model/index.ts';
import type { ToolCatalog } from '../../../src/machines/toolVisibility.ts';
import type { Session } from '../../../src/session/session.ts';
import { cleanupDirs, left, openEngine, right, sleep, tempDir } from '../../engine/helpers.ts';

const engines: SessionEngine[] = [];
const servers: LocalOpenAIServer[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  for (const s of servers.splice(0)) await s.close();
});
afterAll(cleanupDirs);

const setup = async (replies: ScriptedReply[], serverOpts: { delayMs?: number; chunkDelayMs?: number } = {}) => {
  const server = await startLocalOpenAIServer({ replies, ...serverOpts });
  servers.push(server);
  const engine = await openEngine(tempDir('turn-runner'));
  engines.push(engine);
  right(await engine.create({ id: 's' }));
  const client = new OpenAI({ baseURL: server.url, apiKey: 'test-key', maxRetries: 0, logLevel: 'off' });
  return { server, engine, client };
};

const schema = (props: Record<string, Json>): Json => ({ type: 'object', properties: props, additionalProperties: false });
const core = { kind: 'builtin', sourceId: 'core' };
const catalog: ToolCatalog = {
  tools: [
    { name: 'get_time', description: 'The current time in a time zone', inputSchema: schema({ tz: { type: 'string' } }), provenance: core },
    { name: 'read_file', description: 'Read a file', inputSchema: schema({ path: { type: 'string' } }), provenance: core },
    { name: 'shell', description: 'Run a shell command', inputSchema: schema({ cmd: { type: 'string' } }), provenance: core },
  ],
  controlNames: [],
  deferredNames: [],
};

const calls: Array<{ name: string; args: Json }> = [];
const handlers: Record<string, ToolHandler> = {
  get_time: async (args) => {
    calls.push({ name: 'get_time', args });
    return `12:00 in ${(args as { tz: string }).tz}`;
  },
  read_file: async (args) => {
    calls.push({ name: 'read_file', args });
    return [textBlock(`contents of ${(args as { path: string }).path}`)];
  },
  shell: async (args) => {
    calls.push({ name: 'shell', args });
    return 'ran';
  },
};
afterEach(() => {
  calls.length = 0;
});

const opts = (client: OpenAI, extra: Partial<AgentTurnOptions> = {}): AgentTurnOptions => ({ client, model: 'gpt-test', tools: catalog, handlers, ...extra });
const load = async (engine: SessionEngine): Promise<Session> => right(await engine.store.load('s'));
const strip = (ms: readonly Message[]) =>
  ms.map((m) => {
    const { createdAt: _c, origin: _o, usage: _u, ...rest } = m as Message & { origin?: unknown; usage?: unknown };
    return rest;
  });
const commandTypes = async (engine: SessionEngine): Promise<string[]> => right(await engine.store.log('s')).map((r) => r.command.type);
const body = (server: LocalOpenAIServer, i: number) => server.requests[i]!.body as Record<string, unknown>;

const timeCall: ScriptedReply = { kind: 'tool_calls', calls: [{ id: 'call_1', name: 'get_time', arguments: '{"tz":"UTC"}' }], usage: { inputTokens: 40, outputTokens: 7 } };
const noon: ScriptedReply = { kind: 'text', text: 'It is noon in UTC.', usage: { inputTokens: 60, outputTokens: 6 } };

const toolUseMsg = { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'get_time', args: { tz: 'UTC' } }], stopReason: 'tool_use' };
const twoStepTranscript = [
  { role: 'user', content: [{ type: 'text', text: 'What time is it?' }], transcriptRole: 'conversational' },
  toolUseMsg,
  { role: 'tool_results', results: [{ toolUseId: 'call_1', content: [{ type: 'text', text: '12:00 in UTC' }], isError: false }] },
  { role: 'assistant', content: [{ type: 'text', text: 'It is noon in UTC.' }], stopReason: 'end_turn' },
];

describe('runAgentTurn: a two-step turn with one tool call', () => {
  it('chat, JSON: exact transcript, usage recorded, tool definition and tool result sent', async () => {
    const { server, engine, client } = await setup([timeCall, noon]);
    const report = right(await runAgentTurn(engine, 's', opts(client, { input: 'What time is it?' })));

    const s = await load(engine);
    expect(strip(s.messages)).toEqual(twoStepTranscript);
    expect(s.usage).toEqual({ inputTokens: 100, outputTokens: 13, cacheReadTokens: 0 });
    expect(report).toMatchObject({ steps: 2, finalText: 'It is noon in UTC.', stopReason: 'end_turn', usage: { inputTokens: 100, outputTokens: 13 } });
    expect(report.assistantMessages).toHaveLength(2);
    expect(report.toolCalls).toEqual([{ step: 1, toolUseId: 'call_1', name: 'get_time', args: { tz: 'UTC' }, isError: false, content: [textBlock('12:00 in UTC')] }]);
    expect(calls).toEqual([{ name: 'get_time', args: { tz: 'UTC' } }]);
    expect((s.messages[1] as { origin?: unknown }).origin).toMatchObject({ provider: 'openai', model: 'gpt-test', api: 'openai-chat-completions' });

    // The log: boundary, start, opening + reply and usage, results, reply and usage; quiet boundaries and cleanup are inert.
    expect(await commandTypes(engine)).toEqual([
      'session_created',
      'tool_boundary_applied',
      'turn_started',
      'messages_appended',
      'usage_recorded',
      'messages_appended',
      'messages_appended',
      'usage_recorded',
    ]);

    expect(server.requests).toHaveLength(2);
    const first = body(server, 0);
    expect(first['model']).toBe('gpt-test');
    expect(first['messages']).toEqual([{ role: 'user', content: 'What time is it?' }]);
    expect(first['tools']).toContainEqual({
      type: 'function',
      function: { name: 'get_time', description: 'The current time in a time zone', parameters: schema({ tz: { type: 'string' } }) },
    });
    expect(first['tools']).toHaveLength(3);
    const second = body(server, 1);
    expect(second['messages']).toEqual([
      { role: 'user', content: 'What time is it?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_time', arguments: '{"tz":"UTC"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '12:00 in UTC' },
    ]);
    expect(engine.activeTurn('s')).toBeUndefined();
  });

  it('chat, streamed: the same transcript; the request asks for SSE with usage', async () => {
    const { server, engine, client } = await setup([timeCall, noon]);
    const report = right(await runAgentTurn(engine, 's', opts(client, { input: 'What time is it?', stream: true })));
    expect(strip((await load(engine)).messages)).toEqual(twoStepTranscript);
    expect(report.usage).toEqual({ inputTokens: 100, outputTokens: 13, cacheReadTokens: 0 });
    expect(server.requests.every((r) => r.stream)).toBe(true);
    expect(body(server, 0)['stream_options']).toEqual({ include_usage: true });
  });

  it.each([false, true])('responses (stream %s): the same transcript; function tools and function_call_output sent', async (stream) => {
    const { server, engine, client } = await setup([timeCall, noon]);
    const report = right(await runAgentTurn(engine, 's', opts(client, { input: 'What time is it?', api: 'responses', stream })));
    const s = await load(engine);
    expect(strip(s.messages).map((m) => ({ ...m, content: (m as { content?: Array<Record<string, unknown>> }).content?.map(({ signature: _s, ...b }) => b) }))).toEqual(
      twoStepTranscript.map((m) => ({ ...m, content: (m as { content?: unknown }).content })),
    );
    expect(report.finalText).toBe('It is noon in UTC.');
    expect(s.usage).toMatchObject({ inputTokens: 100, outputTokens: 13 });
    expect(server.requests.map((r) => [r.api, r.stream])).toEqual([
      ['responses', stream],
      ['responses', stream],
    ]);
    expect(body(server, 0)['tools']).toContainEqual({
      type: 'function',
      name: 'get_time',
      description: 'The current time in a time zone',
      parameters: schema({ tz: { type: 'string' } }),
      strict: false,
    });
    expect(body(server, 1)['input']).toContainEqual({ type: 'function_call_output', call_id: 'call_1', output: '12:00 in UTC' });
  });
});

describe('runAgentTurn: model errors and malformed replies', () => {
  const deferred = async (engine: SessionEngine) =>
    right(
      await engine.append('s', [
        { type: 'first_turn_deferred' },
        { type: 'initial_prompt_staged', prompt: [textBlock('Say hello.')] },
        { type: 'tool_results_staged', results: [toolResult('call_x', 'late callback')] },
      ]),
    );

  it('HTTP 500 on the first call: typed error, inputs restored, slot released, the next turn uses the prompt', async () => {
    const { server, engine, client } = await setup([{ kind: 'error', status: 500, message: 'upstream exploded' }, { kind: 'text', text: 'Hello!' }]);
    await deferred(engine);
    const before = (await load(engine)).deferredTurn;

    const err = left(await runAgentTurn(engine, 's', opts(client, { input: 'and be brief' })));
    expect(err).toMatchObject({ _tag: 'ModelCallFailed', status: 500, type: 'server_error' });
    expect(err.message).toContain('upstream exploded');
    expect(engine.activeTurn('s')).toBeUndefined();
    const s = await load(engine);
    expect(s.messages).toEqual([]); // neither the prompt nor the input was written
    expect(s.deferredTurn.phase).toBe('pending');
    expect(s.deferredTurn.initialPrompt?.prompt).toEqual(before.initialPrompt?.prompt);
    expect(s.deferredTurn.toolResults).toEqual(before.toolResults);
    expect(s.deferredTurn.lastStart).toBeUndefined();
    expect((await commandTypes(engine)).slice(-2)).toEqual(['turn_started', 'turn_start_reverted']);
    // The request did carry the staged prompt and the input.
    expect(body(server, 0)['messages']).toEqual([
      { role: 'user', content: 'Say hello.' },
      { role: 'user', content: 'and be brief' },
    ]);

    const report = right(await runAgentTurn(engine, 's', opts(client)));
    expect(report.finalText).toBe('Hello!');
    expect(report.unmatchedToolResults).toEqual([toolResult('call_x', 'late callback')]);
    const after = await load(engine);
    expect(strip(after.messages)).toEqual([
      { role: 'user', content: [textBlock('Say hello.')], transcriptRole: 'conversational' },
      { role: 'assistant', content: [{ type: 'text', text: 'Hello!' }], stopReason: 'end_turn' },
    ]);
    expect(after.deferredTurn).toMatchObject({ phase: 'consumed', toolResults: [] });
    expect(after.deferredTurn.lastStart).toBeUndefined();
  });

  it('a tool_scope notice at the first boundary does not stop the revert (the start is recorded after the boundary)', async () => {
    const { server, engine, client } = await setup([{ kind: 'error', status: 500, message: 'down' }, { kind: 'text', text: 'ok' }]);
    await deferred(engine);
    right(await engine.applyToolBoundary('s', () => catalog)); // an earlier boundary, so the next one announces changes
    right(await engine.execute('s', (s) => E.map((a: { session: Session }) => a.session)(s.stageToolFilter({ type: 'deny', names: ['shell'] }, catalog))));

    expect(left(await runAgentTurn(engine, 's', opts(client)))._tag).toBe('ModelCallFailed');
    const s = await load(engine);
    expect(s.messages).toMatchObject([{ role: 'system_notice', kind: 'tool_scope', text: 'Tool access changed (revision 1). No longer available: shell.' }]);
    expect(s.deferredTurn).toMatchObject({ phase: 'pending', initialPrompt: { prompt: [textBlock('Say hello.')] } });
    expect(body(server, 0)['messages']).toEqual([
      { role: 'system', content: '[notice tool_scope] Tool access changed (revision 1). No longer available: shell.' },
      { role: 'user', content: 'Say hello.' },
    ]);

    right(await runAgentTurn(engine, 's', opts(client)));
    expect((await load(engine)).messages.map((m) => m.role)).toEqual(['system_notice', 'user', 'assistant']);
  });

  it('HTTP 500 on a later call: typed error, what happened stays recorded, the slot is free', async () => {
    const { engine, client } = await setup([timeCall, { kind: 'error', status: 503, message: 'overloaded' }, noon]);
    const err = left(await runAgentTurn(engine, 's', opts(client, { input: 'What time is it?' })));
    expect(err).toMatchObject({ _tag: 'ModelCallFailed', status: 503 });
    expect(strip((await load(engine)).messages)).toEqual(twoStepTranscript.slice(0, 3));
    expect(await commandTypes(engine)).not.toContain('turn_start_reverted');
    // A second turn continues from the recorded tool results.
    const report = right(await runAgentTurn(engine, 's', opts(client)));
    expect(report.finalText).toBe('It is noon in UTC.');
    expect(strip((await load(engine)).messages)).toEqual(twoStepTranscript);
  });

  it.each([
    ['not JSON', false, 'not json at all'],
    ['not a completion', false, '{"id":"x","object":"chat.completion","choices":[]}'],
    ['not JSON, streamed', true, 'not json at all'],
  ])('a malformed response (%s) is a typed error and writes no assistant message', async (_label, stream, bodyText) => {
    const { engine, client } = await setup([{ kind: 'malformed', body: bodyText }]);
    const err = left(await runAgentTurn(engine, 's', opts(client, { input: 'hi', stream })));
    expect(err._tag).toBe(stream ? 'MalformedStreamEvent' : 'MalformedResponse');
    const s = await load(engine);
    expect(s.messages).toEqual([]);
    expect(s.deferredTurn.lastStart).toBeUndefined();
    expect((await commandTypes(engine)).slice(-2)).toEqual(['turn_started', 'turn_start_reverted']);
    expect(engine.activeTurn('s')).toBeUndefined();
  });

  it('a malformed stream mid-turn keeps the first step and adds no partial assistant message', async () => {
    const { engine, client } = await setup([
      timeCall,
      { kind: 'malformed_stream', chunks: ['{"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"It is"}}]}', '[DONE]'] },
    ]);
    const err = left(await runAgentTurn(engine, 's', opts(client, { input: 'What time is it?', stream: true })));
    expect(err._tag).toBe('IncompleteStream');
    expect(strip((await load(engine)).messages)).toEqual(twoStepTranscript.slice(0, 3));
  });
});

describe('runAgentTurn: tool calls the runtime refuses', () => {
  it('an unknown tool name gets an isError result and the turn continues', async () => {
    const { server, engine, client } = await setup([
      { kind: 'tool_calls', calls: [{ id: 'call_u', name: 'launch_rockets', arguments: '{}' }, { id: 'call_t', name: 'get_time', arguments: '{"tz":"CET"}' }] },
      { kind: 'text', text: 'Rockets are not available; it is 12:00 CET.' },
    ]);
    const report = right(await runAgentTurn(engine, 's', opts(client, { input: 'launch and tell time' })));
    expect(report.toolCalls.map((c) => [c.name, c.isError])).toEqual([
      ['launch_rockets', true],
      ['get_time', false],
    ]);
    const results = (await load(engine)).messages[2]!;
    expect(results).toMatchObject({
      role: 'tool_results',
      results: [
        { toolUseId: 'call_u', isError: true, content: [{ type: 'text', text: 'tool "launch_rockets" is not available: it was not offered for this call' }] },
        { toolUseId: 'call_t', isError: false, content: [{ type: 'text', text: '12:00 in CET' }] },
      ],
    });
    expect(body(server, 1)['messages']).toContainEqual({
      role: 'tool',
      tool_call_id: 'call_u',
      content: '[tool error] tool "launch_rockets" is not available: it was not offered for this call',
    });
    expect(report.finalText).toContain('Rockets are not available');
  });

  it('non-JSON arguments, a missing handler and a throwing handler each get an isError result', async () => {
    const { engine, client } = await setup([
      {
        kind: 'tool_calls',
        calls: [
          { id: 'call_a', name: 'get_time', arguments: '{"tz": UTC' },
          { id: 'call_b', name: 'read_file', arguments: '{"path":"/etc/hosts"}' },
          { id: 'call_c', name: 'shell', arguments: '["ls"]' },
        ],
      },
      { kind: 'text', text: 'done' },
    ]);
    const report = right(
      await runAgentTurn(
        engine,
        's',
        opts(client, {
          input: 'go',
          handlers: {
            get_time: handlers['get_time']!,
            read_file: () => {
              throw new Error('permission denied');
            },
          },
        }),
      ),
    );
    expect(report.toolCalls.map((c) => [c.toolUseId, c.isError, c.content])).toEqual([
      ['call_a', true, [textBlock('the arguments of tool "get_time" are not valid JSON: "{\\"tz\\": UTC"')]],
      ['call_b', true, [textBlock('tool "read_file" failed: permission denied')]],
      ['call_c', true, [textBlock('tool "shell" has no handler in this runtime')]],
    ]);
    expect(calls).toEqual([]);
    expect(report.finalText).toBe('done');
  });

  it('a tool hidden by a staged deny filter is not offered, and a call to it gets an isError result', async () => {
    const { server, engine, client } = await setup([
      { kind: 'tool_calls', calls: [{ id: 'call_s', name: 'shell', arguments: '{"cmd":"rm -rf /"}' }] },
      { kind: 'text', text: 'I cannot run shell commands.' },
    ]);
    right(await engine.execute('s', (s) => E.map((a: { session: Session }) => a.session)(s.stageToolFilter({ type: 'deny', names: ['shell'] }, catalog))));
    const report = right(await runAgentTurn(engine, 's', opts(client, { input: 'clean up' })));
    const offered = (body(server, 0)['tools'] as Array<{ function: { name: string } }>).map((t) => t.function.name);
    expect(offered).toEqual(['get_time', 'read_file']);
    expect(report.toolCalls).toMatchObject([{ name: 'shell', isError: true, content: [{ text: 'tool "shell" is not available: it was not offered for this call' }] }]);
    expect(calls).toEqual([]); // the shell handler never ran
    const s = await load(engine);
    expect(s.toolVisibility.lastBoundary?.visibleNames).toEqual(['get_time', 'read_file']);
  });

  it('a catalog that cannot be listed fails the boundary closed: no tools are offered', async () => {
    const { server, engine, client } = await setup([{ kind: 'text', text: 'no tools today' }]);
    const report = right(
      await runAgentTurn(
        engine,
        's',
        opts(client, {
          input: 'hi',
          tools: async () => {
            throw new Error('registry offline');
          },
        }),
      ),
    );
    expect(report.finalText).toBe('no tools today');
    expect(body(server, 0)['tools']).toBeUndefined();
    const s = await load(engine);
    expect(s.toolVisibility.failedClosed).toBe(true);
    expect(s.messages.map((m) => (m.role === 'system_notice' ? m.kind : m.role))).toEqual(['tool_scope_warning', 'user', 'assistant']);
  });

  it('maxSteps: a typed error after the last step and its tool results are recorded', async () => {
    const { engine, client } = await setup([timeCall]);
    const err = left(await runAgentTurn(engine, 's', opts(client, { input: 'What time is it?', maxSteps: 1 })));
    expect(err._tag).toBe('MaxStepsExceeded');
    if (err._tag !== 'MaxStepsExceeded') return;
    expect(err.report.steps).toBe(1);
    expect(err.report.toolCalls).toHaveLength(1);
    expect(strip((await load(engine)).messages)).toEqual(twoStepTranscript.slice(0, 3));
    expect(engine.activeTurn('s')).toBeUndefined();
  });
});

describe('runAgentTurn: pending tool calls and staged results', () => {
  it('staged results answer the pending call; a call without one is marked interrupted', async () => {
    const { server, engine, client } = await setup([{ kind: 'text', text: 'Got both.' }]);
    right(
      await engine.append('s', [
        { type: 'messages_appended', messages: [{ ...userText('two things'), createdAt: 1 }] },
        { type: 'messages_appended', messages: [{ ...assistantToolCalls([{ id: 'call_1', name: 'get_time', args: { tz: 'UTC' } }, { id: 'call_2', name: 'read_file', args: { path: 'a' } }]), createdAt: 2 }] },
        { type: 'tool_results_staged', results: [toolResult('call_1', '12:00'), toolResult('call_zzz', 'stray')] },
      ]),
    );
    const report = right(await runAgentTurn(engine, 's', opts(client, { input: 'continue' })));
    expect(report.unmatchedToolResults).toEqual([toolResult('call_zzz', 'stray')]);
    const s = await load(engine);
    expect(strip(s.messages.slice(2))).toEqual([
      {
        role: 'tool_results',
        results: [
          { toolUseId: 'call_1', content: [textBlock('12:00')], isError: false },
          { toolUseId: 'call_2', content: [textBlock('the tool call was interrupted before its result was recorded (the turn that made it ended early)')], isError: true },
        ],
      },
      { role: 'user', content: [textBlock('continue')], transcriptRole: 'conversational' },
      { role: 'assistant', content: [{ type: 'text', text: 'Got both.' }], stopReason: 'end_turn' },
    ]);
    expect((body(server, 0)['messages'] as unknown[]).length).toBe(5);
  });

  it('a turn start left uncommitted by a crashed run is reverted first, so its prompt is used', async () => {
    const { engine, client } = await setup([{ kind: 'text', text: 'Hello again.' }]);
    right(await engine.append('s', [{ type: 'first_turn_deferred' }, { type: 'initial_prompt_staged', prompt: [textBlock('Greet me.')] }, { type: 'turn_started' }]));
    const report = right(await runAgentTurn(engine, 's', opts(client)));
    expect(report.revertedStaleStart).toBe(4);
    expect(strip((await load(engine)).messages)[0]).toEqual({ role: 'user', content: [textBlock('Greet me.')], transcriptRole: 'conversational' });
  });
});

describe('runAgentTurn: the turn slot', () => {
  const waitForRequest = async (server: LocalOpenAIServer, n = 1): Promise<void> => {
    for (let i = 0; i < 500 && server.requests.length < n; i++) await sleep(5);
    expect(server.requests.length).toBeGreaterThanOrEqual(n);
  };

  it('cancel mid-turn (server delay): TurnCancelled, inputs restored, the slot is free', async () => {
    // The answer would come after 10 minutes: a cancel that waited for it would fail on the test timeout.
    const { server, engine, client } = await setup([{ kind: 'text', text: 'too late' }], { delayMs: 600_000 });
    right(await engine.append('s', [{ type: 'first_turn_deferred' }, { type: 'initial_prompt_staged', prompt: [textBlock('Slow one.')] }]));
    const running = runAgentTurn(engine, 's', opts(client, { input: 'hurry' }));
    await waitForRequest(server);
    expect(engine.activeTurn('s')).toBeDefined();
    // A second turn meanwhile is refused.
    expect(left(await runAgentTurn(engine, 's', opts(client, { input: 'me too' })))._tag).toBe('TurnInProgress');
    expect(right(await engine.cancelTurn('s'))).toBe(true);
    const err = left(await running);
    expect(err._tag).toBe('TurnCancelled');
    expect(engine.activeTurn('s')).toBeUndefined();
    const s = await load(engine);
    expect(s.messages).toEqual([]);
    expect(s.deferredTurn).toMatchObject({ phase: 'pending', initialPrompt: { prompt: [textBlock('Slow one.')] } });
    expect(s.deferredTurn.lastStart).toBeUndefined();
    const next = right(await engine.startTurn('s'));
    right(await next.release('completed'));
  });

  it('the outer signal cancels a streamed turn mid-stream', async () => {
    const { server, engine, client } = await setup([{ kind: 'text', text: 'a long answer that streams slowly word by word' }], { chunkDelayMs: 200 });
    const ac = new AbortController();
    const running = runAgentTurn(engine, 's', opts(client, { input: 'talk', stream: true, signal: ac.signal }));
    await waitForRequest(server);
    await sleep(250);
    ac.abort(new Error('user pressed stop'));
    const err = left(await running);
    expect(err).toMatchObject({ _tag: 'TurnCancelled', message: 'user pressed stop' });
    expect(engine.activeTurn('s')).toBeUndefined();
    expect((await load(engine)).messages).toEqual([]);
  });

  it('bad options are refused before the slot is taken', async () => {
    const { engine, client } = await setup([]);
    expect(left(await runAgentTurn(engine, 's', opts(client, { maxSteps: 0 })))).toMatchObject({ _tag: 'InvalidArgument', argument: 'maxSteps' });
    expect(left(await runAgentTurn(engine, 's', opts(client, { input: { role: 'system', text: 'x' } }))))
      .toMatchObject({ _tag: 'InvalidArgument', argument: 'input' });
    expect(engine.activeTurn('s')).toBeUndefined();
  });
});
