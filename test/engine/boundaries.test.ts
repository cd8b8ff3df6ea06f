/**
 * The LLM boundaries through the engine, on real LevelDB: the tool boundary
 * (tool-visibility.md §8) with both records in one append, its failure paths
 * (including `CatalogUnavailable`), the system-context boundary, and the
 * realtime flush after tool results (realtime.md §4.5).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import type { SessionEngine } from '../../src/engine/index.ts';
import type { Session } from '../../src/session/session.ts';
import { assistantToolCalls, toolResult, toolResults, userText } from '../../src/model/index.ts';
import { cleanupDirs, left, openEngine, right, tempDir } from './helpers.ts';

const open: SessionEngine[] = [];
const engineIn = async (): Promise<SessionEngine> => {
  const e = await openEngine(tempDir());
  open.push(e);
  return e;
};
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});
afterAll(cleanupDirs);

const core = { kind: 'builtin', sourceId: 'core' };
const tool = (name: string) => ({ name, description: `the ${name} tool`, inputSchema: { type: 'object' }, provenance: core });
const catalog = { tools: ['read_file', 'grep', 'shell', 'find_tools'].map(tool), controlNames: ['find_tools'], deferredNames: [] as string[] };
const load = async (engine: SessionEngine, id = 's'): Promise<Session> => right(await engine.store.load(id));

describe('applyToolBoundary', () => {
  it('initial boundary: one record, no notice; a change: tool_boundary_applied and the tool_scope notice in one append', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    right(await engine.append('s', [{ type: 'messages_appended', messages: [userText('hi', { createdAt: 1 })] }]));
    const first = right(await engine.applyToolBoundary('s', () => catalog));
    expect(first.outcome).toMatchObject({ type: 'applied', report: { initial: true, visibleChanged: false } });
    expect(first.records.map((r) => r.command.type)).toEqual(['tool_boundary_applied']);
    expect(first.tools.map((t) => t.name)).toEqual(['read_file', 'grep', 'shell', 'find_tools']);
    expect(first.tools[0]).toBe(catalog.tools[0]); // the caller's objects

    // nothing new: inert, no record
    const quiet = right(await engine.applyToolBoundary('s', async () => catalog));
    expect(quiet.records).toEqual([]);

    right(await engine.execute('s', (s) => E.map((a: { session: Session }) => a.session)(s.stageToolFilter({ type: 'deny', names: ['shell'] }, catalog))));
    const seqBefore = (await load(engine)).seq;
    const second = right(await engine.applyToolBoundary('s', async () => catalog));
    expect(second.outcome).toMatchObject({ type: 'applied', report: { revision: 1, visibleChanged: true, removed: ['shell'], added: [] } });
    expect(second.tools.map((t) => t.name)).toEqual(['read_file', 'grep', 'find_tools']);
    expect(second.records.map((r) => r.seq)).toEqual([seqBefore + 1, seqBefore + 2]);

    const log = right(await engine.store.log('s', { fromSeq: seqBefore + 1 }));
    expect(log.map((r) => r.command.type)).toEqual(['tool_boundary_applied', 'messages_appended']);
    const notice = (log[1]!.command as { messages: Array<Record<string, unknown>> }).messages[0]!;
    expect(notice).toMatchObject({ role: 'system_notice', kind: 'tool_scope', text: 'Tool access changed (revision 1). No longer available: shell.' });
    expect(log[1]!.prev).toBe(log[0]!.hash);
  });

  it('a malformed catalog fails closed: tool_boundary_failed and a tool_scope_warning notice in one append, no tools; recovery announces them', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    right(await engine.applyToolBoundary('s', () => catalog));
    right(await engine.execute('s', (s) => E.map((a: { session: Session }) => a.session)(s.stageToolFilter({ type: 'deny', names: ['shell'] }, catalog))));
    const bad = { ...catalog, tools: [...catalog.tools, tool('grep')] };
    const r = right(await engine.applyToolBoundary('s', () => bad));
    expect(r.outcome).toMatchObject({ type: 'failed_closed', errorTag: 'InvalidCatalog' });
    expect(r.tools).toEqual([]);
    expect(r.records.map((x) => x.command.type)).toEqual(['tool_boundary_failed', 'messages_appended']);
    const notice = (r.records[1]!.command as { messages: Array<Record<string, unknown>> }).messages[0]!;
    expect(notice).toMatchObject({ role: 'system_notice', kind: 'tool_scope_warning' });
    expect(String(notice['text'])).toMatch(/^Tool access is closed until the next successful tool update \(InvalidCatalog: /);
    const s = await load(engine);
    expect(s.toolVisibility.failedClosed).toBe(true);
    expect(s.toolVisibility.stagedRevision).toBeGreaterThan(s.toolVisibility.activeRevision); // staged stays staged
    expect(right(s.visibleTools(catalog))).toEqual([]);

    const ok = right(await engine.applyToolBoundary('s', () => catalog));
    expect(ok.outcome).toMatchObject({ type: 'applied', report: { visibleChanged: true, added: ['find_tools', 'grep', 'read_file'] } });
    expect((await load(engine)).toolVisibility.failedClosed).toBe(false);
  });

  it('a catalog that cannot be obtained (throw, rejection, garbage) takes the CatalogUnavailable failure path', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    const sources = [
      () => {
        throw new Error('tool server down');
      },
      () => Promise.reject(new Error('timeout listing tools')),
      () => ({ tools: 'nope' }) as never,
    ];
    for (const src of sources) {
      const r = right(await engine.applyToolBoundary('s', src));
      expect(r.outcome).toMatchObject({ type: 'failed_closed', errorTag: 'CatalogUnavailable' });
      expect(r.tools).toEqual([]);
      expect(r.records.map((x) => x.command.type).at(-1)).toBe('messages_appended');
    }
    const log = right(await engine.store.log('s'));
    const failed = log.filter((x) => x.command.type === 'tool_boundary_failed');
    expect(failed[0]!.command).toMatchObject({ errorTag: 'CatalogUnavailable' });
    expect((failed[0]!.command as { message: string }).message).toContain('tool server down');
    expect((await load(engine)).toolVisibility.failedClosed).toBe(true);
  });

  it('returns a lifecycle error as is and writes nothing', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    right(await engine.append('s', [{ type: 'session_archived' }]));
    expect(left(await engine.applyToolBoundary('s', () => catalog))._tag).toBe('SessionArchived');
    expect(left(await engine.applyToolBoundary('s', () => Promise.reject(new Error('x'))))._tag).toBe('SessionArchived');
    expect((await load(engine)).seq).toBe(2);
  });
});

describe('applySystemContextBoundary', () => {
  it('renders pending context into the system prompt and marks it applied in one record', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    right(await engine.execute('s', (s) => E.map((a: { session: Session }) => a.session)(s.stageSystemContext([{ content: { type: 'text', text: 'disk is 91% full' }, source: 'monitor/disk' }]))));
    const r = right(await engine.applySystemContextBoundary('s'));
    expect(r.dispositions).toEqual(['rendered']);
    expect(r.appends).toHaveLength(1);
    expect(r.records.map((x) => x.command.type)).toEqual(['system_context_boundary']);
    const s = await load(engine);
    expect(s.messages[0]).toMatchObject({ role: 'system', text: '[Session Context]\nsource: monitor/disk\n\ndisk is 91% full' });
    expect(s.systemContext.pending).toEqual([]);
    const again = right(await engine.applySystemContextBoundary('s'));
    expect(again.records).toEqual([]);
  });
});

describe('appendToolResults', () => {
  const ev = (e: Record<string, unknown>) => e;
  it('flushes realtime items that waited for the results, in the same append', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    right(await engine.append('s', [{ type: 'messages_appended', messages: [userText('call a tool', { createdAt: 1 }), assistantToolCalls([{ id: 't1', name: 'clock', args: {} }], { createdAt: 2 })] }]));
    const waited = right(
      await engine.execute('s', (s) => E.map((a: { session: Session }) => a.session)(s.appendRealtimeTranscriptEvent(ev({ type: 'user_transcript_final', itemId: 'u-1', contentIndex: 0, text: 'are you there?' })))),
    );
    expect(waited.session.messageCount).toBe(2);
    const r = right(await engine.appendToolResults('s', toolResults([toolResult('t1', '12:00')])));
    expect(r.records.map((x) => x.command.type)).toEqual(['messages_appended', 'realtime_transcript_flush']);
    expect(r.flushed?.materializedMessages.length).toBe(1);
    const s = await load(engine);
    expect(s.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool_results', 'user']);
  });

  it('appends only the results when nothing waits, and refuses a message that is not tool results', async () => {
    const engine = await engineIn();
    right(await engine.create({ id: 's' }));
    right(await engine.append('s', [{ type: 'messages_appended', messages: [userText('call', { createdAt: 1 }), assistantToolCalls([{ id: 't1', name: 'clock', args: {} }], { createdAt: 2 })] }]));
    const r = right(await engine.appendToolResults('s', toolResults([toolResult('t1', '12:00')])));
    expect(r.records.map((x) => x.command.type)).toEqual(['messages_appended']);
    expect(r.flushed).toBeUndefined();
    expect(left(await engine.appendToolResults('s', userText('hi')))._tag).toBe('InvalidArgument');
  });
});
