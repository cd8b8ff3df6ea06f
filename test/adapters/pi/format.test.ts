/**
 * The pi codecs accept every field pi's own types define (the installed
 * `@mariozechner/pi-coding-agent`, the oracle): each sample below is typed
 * `Required<pi's type>`, so when a newer pi adds a field the typecheck fails
 * here and names the codec to extend. A file written by the current pi with
 * those fields (an Anthropic or OpenAI Responses reply carries `responseId`)
 * imports and comes back entry for entry.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionManager } from '@mariozechner/pi-coding-agent';
import type { SessionEntry, SessionHeader, SessionMessageEntry } from '@mariozechner/pi-coding-agent';
import { PiEntryCodec, PiHeaderCodec, PiMessageCodec } from '../../../src/adapters/pi/format.ts';
import { importPiFile } from '../../../src/adapters/pi/store.ts';
import { exportPi } from '../../../src/adapters/pi/sourceExport.ts';
import { cleanupDirs, openStore, right, tempDir } from '../../store/helpers.ts';
import { entryLines, piAssistantMsg, piUsage, piView } from './piOracle.ts';

afterAll(cleanupDirs);

type AgentMessage = SessionMessageEntry['message'];
type Role<R extends string> = Extract<AgentMessage, { role: R }>;
type AssistantMessage = Role<'assistant'>;
type ContentBlock<M extends { content: unknown }> = Exclude<M['content'], string> extends ReadonlyArray<infer B> ? B : never;
type Block<T extends string> = Extract<ContentBlock<AssistantMessage> | ContentBlock<Role<'user'>>, { type: T }>;

const T = 1_764_806_400_000;
const ISO = '2025-12-04T00:00:00.000Z';

const text: Required<Block<'text'>> = { type: 'text', text: 'hi', textSignature: 'sig' };
const image: Required<Block<'image'>> = { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' };
const thinking: Required<Block<'thinking'>> = { type: 'thinking', thinking: 'hmm', thinkingSignature: 'sig', redacted: false };
const toolCall: Required<Block<'toolCall'>> = { type: 'toolCall', id: 'call_1', name: 'bash', arguments: { command: 'ls' }, thoughtSignature: 'ts' };

/** Every message role pi defines, every optional field present. */
const messages: { readonly [R in AgentMessage['role']]: Required<Role<R>> } = {
  user: { role: 'user', content: [text, image], timestamp: T },
  assistant: {
    role: 'assistant',
    content: [thinking, text, toolCall],
    api: 'openai-completions',
    provider: 'openai',
    model: 'gpt-5',
    responseModel: 'gpt-5-2025-08-07',
    responseId: 'chatcmpl-1',
    diagnostics: [{ type: 'stream_error', timestamp: T, error: { name: 'Error', message: 'reset', stack: 'at x', code: 'ECONNRESET' }, details: { attempt: 1 } }],
    usage: piUsage(10, 5),
    stopReason: 'toolUse',
    errorMessage: 'none',
    timestamp: T,
  },
  toolResult: { role: 'toolResult', toolCallId: 'call_1', toolName: 'bash', content: [text], details: { exit: 0 }, isError: false, timestamp: T },
  bashExecution: { role: 'bashExecution', command: 'ls', output: 'a', exitCode: 0, cancelled: false, truncated: false, fullOutputPath: '/tmp/o', excludeFromContext: false, timestamp: T },
  custom: { role: 'custom', customType: 'note', content: [text], display: true, details: { a: 1 }, timestamp: T },
  branchSummary: { role: 'branchSummary', summary: 's', fromId: 'e1', timestamp: T },
  compactionSummary: { role: 'compactionSummary', summary: 's', tokensBefore: 10, timestamp: T },
};

const links = { id: 'e2', parentId: 'e1', timestamp: ISO };
/** Every entry type pi defines, every optional field present. */
const entries: { readonly [K in SessionEntry['type']]: Required<Extract<SessionEntry, { type: K }>> } = {
  message: { type: 'message', ...links, message: messages.assistant },
  thinking_level_change: { type: 'thinking_level_change', ...links, thinkingLevel: 'high' },
  model_change: { type: 'model_change', ...links, provider: 'anthropic', modelId: 'claude' },
  compaction: { type: 'compaction', ...links, summary: 's', firstKeptEntryId: 'e1', tokensBefore: 5, details: { a: 1 }, fromHook: false },
  branch_summary: { type: 'branch_summary', ...links, fromId: 'e1', summary: 's', details: { a: 1 }, fromHook: true },
  custom: { type: 'custom', ...links, customType: 'ext', data: { a: 1 } },
  custom_message: { type: 'custom_message', ...links, customType: 'ext', content: 'c', details: { a: 1 }, display: false },
  label: { type: 'label', ...links, targetId: 'e1', label: 'x' },
  session_info: { type: 'session_info', ...links, name: 'n' },
};

describe('the pi codecs against pi’s own types', () => {
  it('decode every message role with every field pi defines', () => {
    for (const m of Object.values(messages)) expect(PiMessageCodec.decode(m)).toEqual(E.right(m));
  });

  it('decode every entry type and the header with every field pi defines', () => {
    for (const e of Object.values(entries)) expect(PiEntryCodec.decode(e)).toEqual(E.right({ known: true, entry: e }));
    const header: Required<SessionHeader> = { type: 'session', version: 3, id: 's', timestamp: ISO, cwd: '/w', parentSession: '/p.jsonl' };
    expect(PiHeaderCodec.decode(header)).toEqual(E.right(header));
  });
});

describe('a session the current pi writes', () => {
  it('with responseId, responseModel and diagnostics on its replies imports and comes back entry for entry', async () => {
    const sm = SessionManager.create('/w', tempDir('pi-fields'));
    sm.appendMessage({ role: 'user', content: 'List the files.', timestamp: T });
    // What pi-ai's Anthropic provider writes (`responseId` is the Anthropic message id) …
    sm.appendMessage(piAssistantMsg([{ type: 'text', text: 'a.txt' }], 'stop', { responseId: 'msg_01XyZ' }));
    sm.appendMessage({ role: 'user', content: 'Again.', timestamp: T });
    // … and its OpenAI Completions provider after a stream error it recovered from.
    sm.appendMessage(piAssistantMsg([{ type: 'text', text: 'b.txt' }], 'stop', { responseId: 'chatcmpl-1', responseModel: 'gpt-5-2025-08-07', diagnostics: messages.assistant.diagnostics }));
    const file = sm.getSessionFile()!;

    const store = await openStore(tempDir('pi-fields-store'));
    try {
      const imported = right(await importPiFile(store, file));
      const out = right(await exportPi(store, imported.sessions[0]!.sessionId, { tree: true }));
      const exported = nodePath.join(tempDir('pi-fields-out'), 'export.jsonl');
      fs.writeFileSync(exported, out.jsonl);
      expect(entryLines(exported)).toEqual(entryLines(file));
      expect(piView(exported).contexts).toEqual(piView(file).contexts);
      const reloaded = right(await store.load(imported.sessions[0]!.sessionId));
      expect(reloaded.messageCount).toBe(4);
    } finally {
      await store.close();
    }
  });
});
