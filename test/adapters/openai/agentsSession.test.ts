/**
 * The OpenAI Agents SDK `Session` over palimpsest (`agentsSession.ts`), against
 * real LevelDB stores in temp directories: the interface's documented
 * behaviours (checked against the SDK's own `MemorySession`), rewrites that
 * keep earlier revisions readable, tool-call round trips, persistence, errors,
 * concurrency, and one real `run(agent, input, { session })` with a scripted
 * model.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Agent,
  MemorySession,
  run,
  setTracingDisabled,
  tool,
  Usage,
  type AgentInputItem,
  type Model,
  type ModelRequest,
  type ModelResponse,
  type Session,
} from '@openai/agents-core';
import { createPalimpsestAgentsSession, PalimpsestAgentsSession } from '../../../src/adapters/openai/agentsSession.ts';
import { normalizeAgentItem } from '../../../src/adapters/openai/agentsItems.ts';
import { validateTranscriptShape } from '../../../src/transcript/index.ts';
import { SessionStore } from '../../../src/store/index.ts';
import type { SessionStore as Store } from '../../../src/store/store.ts';

// ---------------------------------------------------------------------------
// Helpers

const dirs: string[] = [];
const stores: Store[] = [];
const tempDir = (): string => {
  const d = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'palimpsest-agents-'));
  dirs.push(d);
  return d;
};
const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected Right, got ${JSON.stringify(e.left)}`);
  return e.right;
};
const ticking = (start = 1_700_000_000_000): (() => number) => {
  let t = start;
  return () => t++;
};
const openStore = async (dir = tempDir()): Promise<Store> => {
  const s = right(await SessionStore.open(dir, { clock: ticking() }));
  stores.push(s);
  return s;
};
const closeStore = async (s: Store): Promise<void> => {
  right(await s.close());
  stores.splice(stores.indexOf(s), 1);
};

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const items = (xs: readonly unknown[]): AgentInputItem[] => xs as AgentInputItem[];
const user = (text: string): AgentInputItem => ({ type: 'message', role: 'user', content: text });
const assistant = (text: string, id = 'msg_1'): AgentInputItem => ({
  id,
  type: 'message',
  role: 'assistant',
  status: 'completed',
  content: [{ type: 'output_text', text, providerData: { annotations: [] } }],
});
const call = (callId: string, args = '{"city":"Paris"}', name = 'get_weather'): AgentInputItem => ({ type: 'function_call', callId, name, arguments: args, status: 'completed' });
const result = (callId: string, text: string, name = 'get_weather'): AgentInputItem => ({ type: 'function_call_result', name, callId, status: 'completed', output: { type: 'text', text } });
const reasoningItem: AgentInputItem = { type: 'reasoning', id: 'rs_1', content: [], providerData: { encryptedContent: 'gAAAAB-opaque' } };

/** A conversation as the SDK persists it: user turn, reasoning, two parallel calls, their results, the answer. */
const conversation: AgentInputItem[] = [
  user('Weather in Paris and time in Tokyo?'),
  reasoningItem,
  call('call_1'),
  call('call_2', 'tz=Asia/Tokyo (not JSON)', 'get_time'),
  result('call_2', '21:00', 'get_time'),
  result('call_1', 'sunny'),
  assistant('Sunny in Paris; 21:00 in Tokyo.'),
];

const fresh = async (store?: Store, opts: { sessionId?: string; actor?: string } = {}): Promise<PalimpsestAgentsSession> =>
  createPalimpsestAgentsSession(store ?? (await openStore()), { clock: ticking(), ...opts });

const recordCount = async (s: PalimpsestAgentsSession): Promise<number> => right(await s.store.log(s.sessionId)).length;
const expectVerified = async (s: PalimpsestAgentsSession): Promise<void> => {
  const reports = right(await s.store.verify(s.sessionId));
  expect(reports.map((r) => r.ok)).toEqual([true]);
};
const messagesOf = async (s: PalimpsestAgentsSession) => right(await s.store.load(s.sessionId)).messages;

// ---------------------------------------------------------------------------

describe('the Session interface', () => {
  it('is the SDK Session type; getSessionId is the palimpsest session id', async () => {
    const store = await openStore();
    const session: Session = await createPalimpsestAgentsSession(store, { sessionId: 'chat-1' });
    expect(await session.getSessionId()).toBe('chat-1');
    expect(right(await store.load('chat-1')).id).toBe('chat-1');
    const anonymous = await createPalimpsestAgentsSession(store);
    expect(await anonymous.getSessionId()).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('getItems() returns every item in order; getItems(limit) the most recent limit in order', async () => {
    const s = await fresh();
    expect(await s.getItems()).toEqual([]);
    await s.addItems(conversation);
    expect(await s.getItems()).toEqual(conversation);
    for (const limit of [1, 2, 3, 4, 5, 7, 100]) expect(await s.getItems(limit)).toEqual(conversation.slice(-limit));
    expect(await s.getItems(0)).toEqual([]);
    expect(await s.getItems(-3)).toEqual([]);
  });

  it('behaves like the SDK MemorySession for the same calls', async () => {
    const s = await fresh();
    const mem = new MemorySession();
    const both = async <A>(f: (x: Session) => Promise<A>): Promise<void> => {
      expect(await f(s)).toEqual(await f(mem));
      expect(await s.getItems()).toEqual(await mem.getItems());
    };
    await both((x) => x.addItems([user('a'), call('c1')]));
    await both((x) => x.addItems([]));
    await both((x) => x.addItems([call('c2'), result('c1', 'one')]));
    await both((x) => x.getItems(2));
    await both((x) => x.addItems([result('c2', 'two'), assistant('done')]));
    await both((x) => x.popItem());
    await both((x) => x.popItem());
    await both((x) => x.getItems(3));
    await both((x) => x.popItem());
    await both((x) => x.addItems([reasoningItem, user('b')]));
    await both((x) => x.clearSession());
    await both((x) => x.popItem());
    await both((x) => x.addItems([user('again')]));
  });

  it('popItem on an empty session returns undefined and records nothing', async () => {
    const s = await fresh();
    const before = await recordCount(s);
    expect(await s.popItem()).toBeUndefined();
    expect(await recordCount(s)).toBe(before);
  });

  it('popItem returns the last item, which is gone from getItems; the earlier revision stays readable', async () => {
    const s = await fresh(undefined, { actor: 'agents-test' });
    await s.addItems(conversation);
    const before = right(await s.store.load(s.sessionId));
    expect(await s.popItem()).toEqual(conversation[6]);
    expect(await s.getItems()).toEqual(conversation.slice(0, 6));

    const graph = right(await s.store.revisions(s.sessionId));
    expect(graph.commits).toHaveLength(1);
    const commit = graph.commits[0]!.commit;
    expect(commit).toMatchObject({ reason: { kind: 'agents_pop_item' }, actor: 'agents-test', parentRevision: before.transcriptRevision(), messagesBefore: 5, messagesAfter: 4 });
    expect(right(await s.store.revisionMessages(s.sessionId, commit.parentRevision))).toEqual(before.messages);
    expect(graph.head).toBe(commit.revision);
    await expectVerified(s);
  });

  it('popItem inside a tool-call group rewrites the group and keeps the transcript shape-valid', async () => {
    const s = await fresh();
    await s.addItems(conversation.slice(0, 6));
    expect(await s.popItem()).toEqual(conversation[5]);
    expect(await s.getItems()).toEqual(conversation.slice(0, 5));
    // call_1 has no result any more: the group is kept as agents_item notices.
    const ms = await messagesOf(s);
    expect(ms.slice(2).map((m) => (m.role === 'system_notice' ? m.kind : m.role))).toEqual(['agents_item', 'agents_item', 'agents_item']);
    expect(validateTranscriptShape(ms)).toEqual(E.right(undefined));
    // Adding the result back restores the native pair.
    await s.addItems([conversation[5]!]);
    expect((await messagesOf(s)).slice(2).map((m) => m.role)).toEqual(['assistant', 'tool_results']);
    expect(await s.getItems()).toEqual(conversation.slice(0, 6));
    const graph = right(await s.store.revisions(s.sessionId));
    expect(graph.commits.map((c) => c.commit.reason.kind)).toEqual(['agents_pop_item', 'agents_add_items']);
    for (const { revision } of graph.revisions) expect(E.isRight(await s.store.revisionMessages(s.sessionId, revision))).toBe(true);
    await expectVerified(s);
  });

  it('clearSession empties the session as one rewrite; earlier revisions stay readable; inert when empty', async () => {
    const s = await fresh();
    await s.clearSession();
    expect(await recordCount(s)).toBe(1); // genesis only
    await s.addItems(conversation);
    const before = right(await s.store.load(s.sessionId));
    await s.clearSession();
    expect(await s.getItems()).toEqual([]);
    const count = await recordCount(s);
    await s.clearSession();
    expect(await recordCount(s)).toBe(count);
    const graph = right(await s.store.revisions(s.sessionId));
    expect(graph.commits.map((c) => c.commit.reason.kind)).toEqual(['agents_clear_session']);
    expect(graph.commits[0]!.commit).toMatchObject({ selection: { type: 'message_range', start: 0, end: 5 }, messagesAfter: 0 });
    expect(right(await s.store.revisionMessages(s.sessionId, before.transcriptRevision()))).toEqual(before.messages);
    await expectVerified(s);
  });
});

describe('items in palimpsest', () => {
  it('round-trips a conversation with function calls: one assistant tool_use message, one tool_results message', async () => {
    const s = await fresh();
    await s.addItems(conversation);
    expect(await s.getItems()).toEqual(conversation);
    const ms = await messagesOf(s);
    expect(ms.map((m) => m.role)).toEqual(['user', 'assistant', 'assistant', 'tool_results', 'assistant']);
    const calls = ms[2]!;
    expect(calls.role === 'assistant' && calls.content).toEqual([
      { type: 'tool_use', id: 'call_1', name: 'get_weather', args: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_2', name: 'get_time', args: 'tz=Asia/Tokyo (not JSON)' },
    ]);
    expect(calls.role === 'assistant' && calls.stopReason).toBe('tool_use');
    const results = ms[3]!;
    expect(results.role === 'tool_results' && results.results.map((r) => [r.toolUseId, r.content])).toEqual([
      ['call_2', [{ type: 'text', text: '21:00' }]],
      ['call_1', [{ type: 'text', text: 'sunny' }]],
    ]);
    // The whole batch is one record.
    expect(await recordCount(s)).toBe(2);
  });

  it('returns fresh, mutable items: changing them changes nothing stored', async () => {
    const s = await fresh();
    const withDetails = items([call('c1'), { type: 'function_call_result', name: 'get_weather', callId: 'c1', status: 'incomplete', output: 'raw', providerData: { k: [1] } }]);
    await s.addItems([...withDetails, { type: 'unknown', providerData: { nested: { a: 1 } } }]);
    const got = await s.getItems();
    const frozen = (v: unknown): boolean => typeof v === 'object' && v !== null && (Object.isFrozen(v) || Object.values(v).some(frozen));
    expect(got.some(frozen)).toBe(false);
    (got[1] as unknown as { providerData: { k: number[] } }).providerData.k.push(2);
    (got[2] as unknown as { providerData: { nested: { a: number } } }).providerData.nested.a = 9;
    expect(await s.getItems()).toEqual([...withDetails, { type: 'unknown', providerData: { nested: { a: 1 } } }]);
  });

  it('normalizes only the documented spellings', async () => {
    const s = await fresh();
    const given = items([{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }, { role: 'system', content: 'be brief', extra: undefined }]);
    await s.addItems(given);
    expect(await s.getItems()).toEqual([
      { type: 'message', role: 'user', content: 'hi' },
      { type: 'message', role: 'system', content: 'be brief' },
    ]);
    expect(s.prepareHistoryItemsForPersistenceComparison(given)).toEqual(await s.getItems());
    expect(given.map(normalizeAgentItem)).toEqual(await s.getItems());
  });

  it('keeps items palimpsest cannot express as agents_item notices, verbatim', async () => {
    const s = await fresh();
    const odd = items([
      { type: 'hosted_tool_call', id: 'ws_1', name: 'web_search_call', status: 'completed', providerData: { action: { query: 'paris' } } },
      { type: 'message', role: 'user', content: [{ type: 'input_file', file: 'file-abc', filename: 'report.pdf' }, { type: 'input_text', text: 'summarize' }] },
      { type: 'compaction', encrypted_content: 'opaque' },
    ]);
    await s.addItems(odd);
    expect(await s.getItems()).toEqual(odd);
    const ms = await messagesOf(s);
    expect(ms.every((m) => m.role === 'system_notice' && m.kind === 'agents_item')).toBe(true);
    expect(ms[1]!.role === 'system_notice' && ms[1]!.text).toContain('summarize');
  });

  it('records pending calls as notices, then rewrites them into the native pair when the results arrive', async () => {
    const s = await fresh(undefined, { actor: 'runner' });
    await s.addItems([user('go'), call('c1'), call('c2')]);
    expect((await messagesOf(s)).map((m) => m.role)).toEqual(['user', 'system_notice', 'system_notice']);
    await s.addItems([result('c1', 'a')]);
    expect((await messagesOf(s)).map((m) => m.role)).toEqual(['user', 'system_notice', 'system_notice', 'system_notice']);
    await s.addItems([result('c2', 'b'), assistant('ok')]);
    expect((await messagesOf(s)).map((m) => m.role)).toEqual(['user', 'assistant', 'tool_results', 'assistant']);
    expect(await s.getItems()).toEqual([user('go'), call('c1'), call('c2'), result('c1', 'a'), result('c2', 'b'), assistant('ok')]);
    const graph = right(await s.store.revisions(s.sessionId));
    expect(graph.commits.map((c) => [c.commit.reason.kind, c.commit.actor, c.commit.selection])).toEqual([
      ['agents_add_items', 'runner', { type: 'message_range', start: 1, end: 4 }],
    ]);
    await expectVerified(s);
  });

  it('rejects an item that is not JSON with UnsupportedAgentItem and records nothing', async () => {
    const s = await fresh();
    await s.addItems([user('a')]);
    const before = await recordCount(s);
    const bad = items([user('b'), { type: 'function_call_result', name: 'f', callId: 'c', status: 'completed', output: { type: 'image', image: { data: new Uint8Array([1, 2]) } } }]);
    await expect(s.addItems(bad)).rejects.toMatchObject({ _tag: 'UnsupportedAgentItem', index: 1, reason: 'not_json', path: '$[1].output.image.data' });
    expect(await recordCount(s)).toBe(before);
    expect(await s.getItems()).toEqual([user('a')]);
  });
});

describe('persistence, errors, concurrency', () => {
  it('persists across store reopen', async () => {
    const dir = tempDir();
    const store = await openStore(dir);
    const s = await fresh(store, { sessionId: 'persist-1' });
    await s.addItems(conversation);
    await s.popItem();
    await closeStore(store);

    const reopened = await openStore(dir);
    const again = await fresh(reopened, { sessionId: 'persist-1' });
    expect(await again.getItems()).toEqual(conversation.slice(0, 6));
    await again.addItems([assistant('after reopen')]);
    expect(await again.getItems(1)).toEqual([assistant('after reopen')]);
    await expectVerified(again);
  });

  it('uses an existing palimpsest session as is', async () => {
    const store = await openStore();
    right(await store.create({ id: 'existing' }));
    const a = await fresh(store, { sessionId: 'existing' });
    await a.addItems([user('x')]);
    const b = await fresh(store, { sessionId: 'existing' });
    expect(await b.getItems()).toEqual([user('x')]);
  });

  it('surfaces store errors as the rejected typed error', async () => {
    const store = await openStore();
    await expect(createPalimpsestAgentsSession(store, { sessionId: 'bad/id' })).rejects.toMatchObject({ _tag: 'InvalidSessionId' });
    await expect(createPalimpsestAgentsSession(store, { actor: '' })).rejects.toMatchObject({ _tag: 'InvalidArgument', argument: 'actor' });
    const s = await fresh(store, { sessionId: 'to-archive' });
    await s.addItems([user('x')]);
    right(await store.archive('to-archive'));
    await expect(s.addItems([user('y')])).rejects.toMatchObject({ _tag: 'SessionArchived' });
    await expect(s.popItem()).rejects.toMatchObject({ _tag: 'SessionArchived' });
    expect(await s.getItems()).toEqual([user('x')]);
    await closeStore(store);
    await expect(s.getItems()).rejects.toMatchObject({ _tag: 'StoreClosed' });
  });

  it('serializes calls on one instance in call order', async () => {
    const s = await fresh();
    const writes = Array.from({ length: 12 }, (_, i) => s.addItems([user(`m${i}`)]));
    const popped = s.popItem();
    const read = s.getItems();
    await Promise.all(writes);
    expect(await popped).toEqual(user('m11'));
    expect(await read).toEqual(Array.from({ length: 11 }, (_, i) => user(`m${i}`)));
  });

  it('two instances on one session lose no update (expectedSeq, then plan again)', async () => {
    const real = await openStore();
    let conflicts = 0;
    // The same store, counting the SeqConflicts the instances run into.
    const store: Store = {
      ...real,
      append: async <const Cs extends readonly unknown[]>(...args: [string, Cs, { readonly expectedSeq: number }]) => {
        const r = await real.append(...args);
        if (E.isLeft(r) && r.left._tag === 'SeqConflict') conflicts++;
        return r;
      },
    };
    const a = await fresh(store, { sessionId: 'shared' });
    const b = await fresh(store, { sessionId: 'shared' });
    await Promise.all([a.addItems([user('a1')]), b.addItems([user('b1')]), a.addItems([user('a2')]), b.addItems([user('b2')])]);
    expect(conflicts).toBeGreaterThan(0);
    const got = (await a.getItems()).map((i) => (i as { content: string }).content);
    expect([...got].sort()).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect(got.indexOf('a1')).toBeLessThan(got.indexOf('a2'));
    expect(got.indexOf('b1')).toBeLessThan(got.indexOf('b2'));
    await expectVerified(a);
  });
});

// ---------------------------------------------------------------------------
// A real run through the Agents SDK

/** A scripted model: asks for `get_weather` once, then answers with the tool output. Records what it was sent. */
class ScriptedModel implements Model {
  readonly requests: ModelRequest[] = [];
  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(structuredClone(request));
    const input = typeof request.input === 'string' ? [] : request.input;
    const last = input[input.length - 1];
    const turn = this.requests.length;
    const output: ModelResponse['output'] =
      last?.type === 'function_call_result'
        ? [assistant(`It is ${JSON.stringify((last.output as { text?: string }).text)}.`, `msg_${turn}`) as ModelResponse['output'][number]]
        : [
            { type: 'reasoning', id: `rs_${turn}`, content: [{ type: 'input_text', text: 'need weather' }], providerData: { encryptedContent: `enc_${turn}` } },
            { type: 'function_call', id: `fc_${turn}`, callId: `call_${turn}`, name: 'get_weather', arguments: '{"city": "Paris"}', status: 'completed' },
          ];
    return { usage: new Usage(), output, responseId: `resp_${turn}` };
  }
  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error('not used');
  }
}

describe('run(agent, input, { session })', () => {
  beforeAll(() => setTracingDisabled(true));

  it('persists a run with a tool call and replays the history into the next run', async () => {
    const store = await openStore();
    const session = await createPalimpsestAgentsSession(store, { sessionId: 'sdk-run', actor: 'agents-sdk' });
    const model = new ScriptedModel();
    const getWeather = tool({
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
      strict: true,
      execute: async (args) => `sunny in ${(args as { city: string }).city}`,
    });
    const agent = new Agent({ name: 'weather', instructions: 'Answer briefly.', model, tools: [getWeather] });

    const first = await run(agent, 'Weather in Paris?', { session });
    expect(first.finalOutput).toBe('It is "sunny in Paris".');
    const stored = await session.getItems();
    expect(stored.map((i) => i.type)).toEqual(['message', 'reasoning', 'function_call', 'function_call_result', 'message']);
    const ms = await messagesOf(session);
    expect(ms.map((m) => m.role)).toEqual(['user', 'assistant', 'assistant', 'tool_results', 'assistant']);
    expect(validateTranscriptShape(ms)).toEqual(E.right(undefined));

    const second = await run(agent, 'And tomorrow?', { session });
    expect(second.finalOutput).toBe('It is "sunny in Paris".');
    // The second run's first request carried the stored history before the new input.
    const sent = model.requests[2]!.input as AgentInputItem[];
    expect(sent.slice(0, 5).map((i) => i.type)).toEqual(stored.map((i) => i.type));
    expect(sent[5]).toMatchObject({ role: 'user', content: 'And tomorrow?' });
    expect((await session.getItems()).length).toBe(10);
    await expectVerifiedStore(store, 'sdk-run');
  });
});

const expectVerifiedStore = async (store: Store, id: string): Promise<void> => {
  expect(right(await store.verify(id)).map((r) => r.ok)).toEqual([true]);
};
