/**
 * `palimpsest/ai-sdk` on real LevelDB stores: the persistence-guide flow
 * (create, save, load), appends versus audited rewrites keyed by
 * `UIMessage.id`, lossless round trips of every part type, the AI SDK's own
 * `validateUIMessages` and `convertToModelMessages` on what `loadChat`
 * returns, and refusals that write nothing.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { convertToModelMessages, validateUIMessages, type UIMessage } from 'ai';
import { createChatStore, type ChatStore } from '../../../src/adapters/aiSdk/index.ts';
import type { SessionStore } from '../../../src/store/store.ts';
import { right, ticking } from '../../support/either.ts';
import { logLines, useStores } from '../../support/stores.ts';

const openStore = useStores();
let n = 0;
const setup = async (): Promise<{ store: SessionStore; chats: ChatStore }> => {
  const store = await openStore();
  return { store, chats: createChatStore(store, { clock: ticking(), actor: 'chat-ui', newId: () => `chat-${++n}` }) };
};
const rejection = async (p: Promise<unknown>): Promise<Record<string, unknown>> => {
  try {
    await p;
  } catch (e) {
    return e as Record<string, unknown>;
  }
  throw new Error('expected a rejection');
};

const userMsg = (id: string, text: string): UIMessage => ({ id, role: 'user', parts: [{ type: 'text', text }] });
const PNG = 'data:image/png;base64,iVBORw0KGgo=';
/** An assistant reply with reasoning, a finished tool call, a failed one, one awaiting approval, a source, and the answer. */
const reply = (id: string, text: string): UIMessage =>
  ({
    id,
    role: 'assistant',
    metadata: { model: 'test-model', tokens: 42 },
    parts: [
      { type: 'step-start' },
      { type: 'reasoning', text: 'look it up', state: 'done', providerMetadata: { openai: { itemId: 'rs_1' } } },
      { type: 'tool-weather', toolCallId: 'call_1', state: 'output-available', input: { city: 'Paris' }, output: { tempC: 21 } },
      { type: 'dynamic-tool', toolName: 'clock', toolCallId: 'call_2', state: 'output-error', input: { tz: 'X' }, errorText: 'unknown zone' },
      { type: 'step-start' },
      { type: 'source-url', sourceId: 'src_1', url: 'https://example.com/paris', title: 'Paris' },
      { type: 'text', text, state: 'done' },
      { type: 'data-weather', id: 'w1', data: { city: 'Paris', status: 'done' } },
    ],
  }) as UIMessage;

describe('createChatStore', () => {
  it('saves an extended array as appends and loads it back unchanged', async () => {
    const { store, chats } = await setup();
    const id = await chats.createChat();
    expect(await chats.loadChat(id)).toEqual([]);
    const first = [userMsg('u1', 'Weather in Paris?'), ];
    await chats.saveChat({ chatId: id, messages: first });
    const second = [...first, reply('a1', 'Sunny, 21 °C.')];
    await chats.saveChat({ chatId: id, messages: second });
    await chats.saveChat({ chatId: id, messages: second }); // unchanged: nothing recorded
    expect(await chats.loadChat(id)).toEqual(second);
    expect(await logLines(store, id)).toEqual([
      'session_created',
      'append notice:ai_sdk_message,user',
      'append notice:ai_sdk_message,assistant,tool_results,assistant',
    ]);
    // the projection: a finished call and a failed call pair with their results; the text is a native block
    const ms = right(await store.load(id)).messages;
    expect(ms[3]).toMatchObject({ role: 'assistant', stopReason: 'tool_use', content: [{ type: 'reasoning', text: 'look it up' }, { type: 'tool_use', id: 'call_1', name: 'weather', args: { city: 'Paris' } }, { type: 'tool_use', id: 'call_2', name: 'clock' }] });
    expect(ms[4]).toMatchObject({ role: 'tool_results', results: [{ toolUseId: 'call_1', isError: false }, { toolUseId: 'call_2', isError: true, content: [{ type: 'text', text: 'unknown zone' }] }] });
    expect(ms[5]).toMatchObject({ role: 'assistant', content: [{ type: 'text', text: 'Sunny, 21 °C.' }] });
  });

  it('records an edit of an earlier message and a regenerated reply as audited rewrites; earlier revisions stay readable', async () => {
    const { store, chats } = await setup();
    const id = await chats.createChat();
    const v1 = [userMsg('u1', 'Weather in Paris?'), reply('a1', 'Sunny.')];
    await chats.saveChat({ chatId: id, messages: v1 });
    const before = right(await store.load(id));
    // regenerate: the reply gets a new id
    await chats.saveChat({ chatId: id, messages: [v1[0]!, reply('a2', 'Sunny and warm.')] });
    // edit the user message (same id, new text), dropping the reply
    await chats.saveChat({ chatId: id, messages: [userMsg('u1', 'Weather in Lyon?')] });
    expect(await chats.loadChat(id)).toEqual([userMsg('u1', 'Weather in Lyon?')]);
    expect(await logLines(store, id)).toEqual([
      'session_created',
      'append notice:ai_sdk_message,user,notice:ai_sdk_message,assistant,tool_results,assistant',
      'rewrite [2,6) -> notice:ai_sdk_message,assistant,tool_results,assistant (ai_sdk_replace)',
      'rewrite [0,6) -> notice:ai_sdk_message,user (ai_sdk_edit)',
    ]);
    const log = right(await store.log(id));
    expect(log[3]!.command).toMatchObject({ type: 'transcript_rewritten', actor: 'chat-ui' });
    expect(right(await store.revisionMessages(id, before.transcriptRevision()))).toEqual(before.messages);
    expect(right(await store.verify(id)).map((r) => r.ok)).toEqual([true]);
  });

  it('hands the AI SDK messages it validates and converts for the model', async () => {
    const { chats } = await setup();
    const id = await chats.createChat();
    const messages: UIMessage[] = [
      { id: 's1', role: 'system', parts: [{ type: 'text', text: 'Be brief.' }] },
      { id: 'u1', role: 'user', parts: [{ type: 'text', text: 'What is this?' }, { type: 'file', mediaType: 'image/png', filename: 'a.png', url: PNG }] },
      { id: 'a1', role: 'assistant', parts: [{ type: 'step-start' }, { type: 'text', text: 'A PNG header.' }] },
    ];
    await chats.saveChat({ chatId: id, messages });
    const loaded = await chats.loadChat(id);
    expect(await validateUIMessages({ messages: loaded })).toEqual(loaded);
    const model = await convertToModelMessages(loaded);
    expect(model.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
  });

  it('round-trips generated messages of every part type losslessly', async () => {
    const { chats } = await setup();
    const text = fc.string({ maxLength: 8 });
    const json = fc.jsonValue({ maxDepth: 2 });
    const part = fc.oneof(
      fc.record({ type: fc.constant('text'), text }),
      fc.record({ type: fc.constant('reasoning'), text, providerMetadata: fc.constant({ p: { q: 1 } }) }),
      fc.record({ type: fc.constant('file'), mediaType: fc.constantFrom('image/png', 'application/pdf'), url: fc.constantFrom(PNG, 'https://x.test/f') }),
      fc.record({ type: fc.constant('tool-search'), toolCallId: fc.constantFrom('c1', 'c2'), state: fc.constantFrom('input-available', 'output-available', 'output-error'), input: json, output: json, errorText: text }),
      fc.record({ type: fc.constant('dynamic-tool'), toolName: fc.constant('mcp'), toolCallId: fc.constant('d1'), state: fc.constant('output-available'), input: json, output: json }),
      fc.record({ type: fc.constant('data-note'), data: json }),
      fc.record({ type: fc.constant('source-document'), sourceId: text, mediaType: fc.constant('text/plain'), title: text }),
      fc.constant({ type: 'step-start' }),
    );
    const message = fc.record({ role: fc.constantFrom('system', 'user', 'assistant'), parts: fc.array(part, { maxLength: 5 }), metadata: fc.option(json, { nil: undefined }) });
    await fc.assert(
      fc.asyncProperty(fc.array(message, { maxLength: 5 }), async (drawn) => {
        const messages = drawn.map((m, i) => JSON.parse(JSON.stringify({ id: `m${i}`, ...m })) as UIMessage);
        const id = await chats.createChat();
        await chats.saveChat({ chatId: id, messages });
        expect(await chats.loadChat(id)).toEqual(messages);
      }),
      { numRuns: 40 },
    );
  });

  it('refuses an unknown part type, a non-JSON part and a malformed message before writing anything', async () => {
    const { store, chats } = await setup();
    const id = await chats.createChat();
    await chats.saveChat({ chatId: id, messages: [userMsg('u1', 'hi')] });
    const before = await logLines(store, id);
    const bad = (parts: unknown[]): UIMessage[] => [userMsg('u1', 'hi'), { id: 'a1', role: 'assistant', parts } as UIMessage];
    expect(await rejection(chats.saveChat({ chatId: id, messages: bad([{ type: 'text', text: 'ok' }, { type: 'hologram', beam: 1 }]) }))).toMatchObject({
      _tag: 'UnsupportedUIMessage',
      reason: 'unknown_part',
      messageIndex: 1,
      partIndex: 1,
      message: 'UIMessage 1 part 1 cannot be stored: unknown part type "hologram"',
    });
    expect(await rejection(chats.saveChat({ chatId: id, messages: bad([{ type: 'data-x', data: 10n }]) }))).toMatchObject({ reason: 'not_json', partIndex: 0 });
    expect(await rejection(chats.saveChat({ chatId: id, messages: [{ role: 'user', parts: [] } as unknown as UIMessage] }))).toMatchObject({ reason: 'malformed', messageIndex: 0 });
    expect(await rejection(chats.saveChat({ chatId: id, messages: [{ id: 'x', role: 'tool', parts: [] } as unknown as UIMessage] }))).toMatchObject({ reason: 'malformed' });
    expect(await logLines(store, id)).toEqual(before);
    expect(await rejection(chats.loadChat('no-such-chat'))).toMatchObject({ _tag: 'SessionNotFound' });
  });

  it('fails closed when the stored transcript is not what the chat store wrote', async () => {
    const { store, chats } = await setup();
    const id = await chats.createChat();
    await chats.saveChat({ chatId: id, messages: [userMsg('u1', 'hi')] });
    const s = right(await store.load(id));
    // another writer edits the native user message only: its header no longer matches
    right(
      await store.append(
        id,
        [{ type: 'transcript_rewritten', selection: { type: 'message_range', start: 1, end: 2 }, replacement: [{ role: 'user', content: [{ type: 'text', text: 'bye' }], transcriptRole: 'conversational', createdAt: 5 }], reason: { kind: 'manual' } }],
        { expectedSeq: s.seq },
      ),
    );
    expect(await rejection(chats.loadChat(id))).toMatchObject({ _tag: 'ChatTranscriptMismatch', reason: 'projection_mismatch', index: 0 });
    expect(await rejection(chats.saveChat({ chatId: id, messages: [userMsg('u1', 'again')] }))).toMatchObject({ _tag: 'ChatTranscriptMismatch' });
  });
});
