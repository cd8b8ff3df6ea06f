/**
 * The optional history capabilities of the Agents SDK session
 * (`applyHistoryTransaction`, `replaceHistoryWithCompaction`,
 * `applyHistoryMutations`) on real LevelDB stores: the behaviours the SDK's own
 * `MemorySession` tests check (idempotency per operationId, suffix
 * preconditions, reset on clear, invalid input refused before anything is
 * written), and the exact records each call leaves in the log.
 */
import { describe, expect, it } from 'vitest';
import { isSessionHistoryRewriteAwareSession, isSessionHistoryTransactionAwareSession, MemorySession, type AgentInputItem, type SessionHistoryTransactionArgs } from '@openai/agents-core';
import { createPalimpsestAgentsSession, type PalimpsestAgentsSession } from '../../../src/adapters/openai/agentsSession.ts';
import { operationRecord } from '../../../src/adapters/openai/agentsHistory.ts';
import * as E from 'fp-ts/lib/Either.js';
import { storeIoError } from '../../../src/store/errors.ts';
import { right, ticking } from '../../support/either.ts';
import { logLines, useStores } from '../../support/stores.ts';

const openStore = useStores();
const fresh = async (id = 's'): Promise<PalimpsestAgentsSession> => createPalimpsestAgentsSession(await openStore(), { sessionId: id, clock: ticking(), actor: 'agents-sdk' });
const lines = (s: PalimpsestAgentsSession) => logLines(s.store, s.sessionId);
const withItems = async (items: AgentInputItem[]): Promise<PalimpsestAgentsSession> => {
  const s = await fresh();
  await s.addItems(items);
  return s;
};

const user = (text: string): AgentInputItem => ({ type: 'message', role: 'user', content: text });
const call = (callId: string, args = '{"ok":false}'): AgentInputItem => ({ type: 'function_call', callId, name: 'lookup', arguments: args, status: 'completed' });
const result = (callId: string, text: string): AgentInputItem => ({ type: 'function_call_result', name: 'lookup', callId, status: 'completed', output: { type: 'text', text } });
const append = (operationId: string, items: AgentInputItem[]): SessionHistoryTransactionArgs => ({ operationId, transaction: { type: 'append_items', items } });
const replace = (operationId: string, expectedSuffix: AgentInputItem[], replacement: AgentInputItem[]): SessionHistoryTransactionArgs => ({
  operationId,
  transaction: { type: 'replace_suffix', expectedSuffix, replacement },
});
const rejection = async (p: Promise<unknown>): Promise<{ _tag: string; message: string; reason?: string }> => {
  try {
    await p;
  } catch (e) {
    return e as { _tag: string; message: string };
  }
  throw new Error('expected a rejection');
};

describe('applyHistoryTransaction', () => {
  it('is recognised by the SDK as transaction-aware and rewrite-aware', async () => {
    const s = await fresh();
    expect(isSessionHistoryTransactionAwareSession(s)).toBe(true);
    expect(isSessionHistoryRewriteAwareSession(s)).toBe(true);
  });

  it('applies an append once per operationId, even after later items (append and operation record in one batch)', async () => {
    const s = await withItems([user('start')]);
    const appended = user('committed');
    await s.applyHistoryTransaction(append('op-append-1', [appended]));
    (appended as { content: string }).content = 'mutated';
    await s.addItems([user('later')]);
    await s.applyHistoryTransaction(append('op-append-1', [user('committed')]));
    expect(await s.getItems()).toEqual([user('start'), user('committed'), user('later')]);
    expect(await lines(s)).toEqual(['session_created', 'append user', 'append user', 'metadata_set agents.operation:op-append-1', 'append user']);
    expect(right(await s.store.load(s.sessionId)).metadata['agents.operation:op-append-1']).toEqual(operationRecord({ type: 'append_items', items: [user('committed')] }));
  });

  it('replaces an exact suffix once per operationId (a rewrite, reason agents_replace_suffix)', async () => {
    const s = await withItems([user('start'), user('blocked')]);
    const tx = replace('op-replace-1', [user('blocked')], [user('accepted')]);
    await s.applyHistoryTransaction(tx);
    await s.addItems([user('later')]);
    await s.applyHistoryTransaction(tx);
    expect(await s.getItems()).toEqual([user('start'), user('accepted'), user('later')]);
    expect(await lines(s)).toEqual([
      'session_created',
      'append user,user',
      'rewrite [1,2) -> user (agents_replace_suffix)',
      'metadata_set agents.operation:op-replace-1',
      'append user',
    ]);
    const rewrite = right(await s.store.log(s.sessionId))[2]!.command;
    expect(rewrite).toMatchObject({ type: 'transcript_rewritten', actor: 'agents-sdk' });
  });

  it('refuses a suffix mismatch with HistorySuffixMismatch, recording neither the change nor the operation', async () => {
    const s = await withItems([user('start')]);
    const before = await lines(s);
    expect(await rejection(s.applyHistoryTransaction(replace('op-conflict', [user('different')], [user('accepted')])))).toMatchObject({
      _tag: 'HistorySuffixMismatch',
      expected: 1,
      message: expect.stringContaining('suffix no longer matches'),
    });
    expect(await rejection(s.applyHistoryTransaction(replace('op-conflict', [user('a'), user('start')], [])))).toMatchObject({ _tag: 'HistorySuffixMismatch', expected: 2, stored: 1 });
    expect(await lines(s)).toEqual(before);
    await s.applyHistoryTransaction(replace('op-conflict', [user('start')], [user('accepted')]));
    expect(await s.getItems()).toEqual([user('accepted')]);
  });

  it('refuses an operationId reused with another transaction (HistoryOperationReused), nothing written', async () => {
    const s = await fresh();
    await s.applyHistoryTransaction(append('op-1', [user('first')]));
    const before = await lines(s);
    expect(await rejection(s.applyHistoryTransaction(append('op-1', [user('second')])))).toMatchObject({
      _tag: 'HistoryOperationReused',
      operationId: 'op-1',
      message: expect.stringContaining('already applied with a different transaction'),
    });
    expect(await s.getItems()).toEqual([user('first')]);
    expect(await lines(s)).toEqual(before);
  });

  it('records an empty append (only the operation record), so a different retry is refused', async () => {
    const s = await fresh();
    await s.applyHistoryTransaction(append('op-empty', []));
    expect(await lines(s)).toEqual(['session_created', 'metadata_set agents.operation:op-empty']);
    expect(await rejection(s.applyHistoryTransaction(append('op-empty', [user('unexpected')])))).toMatchObject({ _tag: 'HistoryOperationReused' });
    expect(await s.getItems()).toEqual([]);
  });

  it('forgets operation ids when the session is cleared (in the same batch as the clear)', async () => {
    const s = await fresh();
    const tx = append('op-after-reset', [user('committed')]);
    await s.applyHistoryTransaction(tx);
    await s.clearSession();
    await s.applyHistoryTransaction(tx);
    expect(await s.getItems()).toEqual([user('committed')]);
    expect(await lines(s)).toEqual([
      'session_created',
      'append user',
      'metadata_set agents.operation:op-after-reset',
      'rewrite [0,1) ->  (agents_clear_session)',
      'metadata_removed agents.operation:op-after-reset',
      'append user',
      'metadata_set agents.operation:op-after-reset',
    ]);
  });

  it('refuses invalid input before writing anything (InvalidHistoryTransaction), and the operationId stays free', async () => {
    const s = await withItems([user('start')]);
    const before = await lines(s);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const withData = (providerData: unknown): AgentInputItem => ({ ...user('x'), providerData }) as AgentInputItem;
    const cases: Array<[unknown, string]> = [
      [{ operationId: '   ', transaction: { type: 'append_items', items: [] } }, 'operation_id'],
      [{ operationId: 'op', transaction: { type: 'unknown' } }, 'type'],
      [{ operationId: 'op', transaction: null }, 'transaction'],
      [{ operationId: 'op', transaction: { type: 'append_items', items: [42] } }, 'items'],
      [{ operationId: 'op', transaction: { type: 'append_items', items: [withData({ at: new Date(0) })] } }, 'items'],
      [{ operationId: 'op', transaction: { type: 'append_items', items: [withData(cyclic)] } }, 'items'],
      [{ operationId: 'op', transaction: { type: 'append_items', items: [withData({ n: 42n })] } }, 'items'],
      [{ operationId: 'op', transaction: { type: 'append_items', items: [withData({ b: new Uint16Array([300]) })] } }, 'items'],
      [{ operationId: 'op', transaction: { type: 'append_items', items: new Array(1) } }, 'items'],
      [{ operationId: 'op', transaction: { type: 'append_items', items: [user('x')], metadata: { attempt: 1 } } }, 'fields'],
      [{ operationId: 'op', transaction: { type: 'replace_suffix', expectedSuffix: [], replacement: [], metadata: 1 } }, 'fields'],
      [null, 'arguments'],
    ];
    for (const [args, reason] of cases) {
      expect(await rejection(s.applyHistoryTransaction(args as SessionHistoryTransactionArgs))).toMatchObject({ _tag: 'InvalidHistoryTransaction', reason });
    }
    const secret = Object.defineProperty({}, 'operationId', {
      enumerable: true,
      get: () => {
        throw new Error('api-key-secret');
      },
    });
    const e = await rejection(s.applyHistoryTransaction(secret as SessionHistoryTransactionArgs));
    expect(e).toEqual({ _tag: 'InvalidHistoryTransaction', reason: 'arguments', message: 'Session history transaction arguments are invalid.' });
    expect(await lines(s)).toEqual(before);
    await s.applyHistoryTransaction(append('op', [user('retry')]));
    expect(await s.getItems()).toEqual([user('start'), user('retry')]);
  });

  it('two writers applying the same operation at once record it once (SeqConflict, then the retry finds it applied)', async () => {
    const store = await openStore();
    const a = await createPalimpsestAgentsSession(store, { sessionId: 'shared', clock: ticking() });
    const b = await createPalimpsestAgentsSession(store, { sessionId: 'shared', clock: ticking() });
    const tx = append('op-race', [user('once')]);
    await Promise.all([a.applyHistoryTransaction(tx), b.applyHistoryTransaction(tx), a.applyHistoryTransaction(tx)]);
    expect(await a.getItems()).toEqual([user('once')]);
    expect(await logLines(store, 'shared')).toEqual(['session_created', 'append user', 'metadata_set agents.operation:op-race']);
  });

  it('replaces a suffix inside a tool-call group: pending call notices become the native pair', async () => {
    const s = await withItems([user('go'), call('c1')]);
    await s.applyHistoryTransaction(replace('op-accept', [call('c1')], [call('c1'), result('c1', 'found'), { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'done' }] } as AgentInputItem]));
    expect(await lines(s)).toEqual([
      'session_created',
      'append user,notice:function_call',
      'rewrite [1,2) -> assistant,tool_results,assistant (agents_replace_suffix)',
      'metadata_set agents.operation:op-accept',
    ]);
    expect((await s.getItems()).map((i) => i.type)).toEqual(['message', 'function_call', 'function_call_result', 'message']);
    expect(right(await s.store.verify(s.sessionId)).map((r) => r.ok)).toEqual([true]);
  });

  it('ends with the same items as the SDK MemorySession for the same calls', async () => {
    const ours = await fresh();
    const theirs = new MemorySession({ sessionId: 'm' });
    const steps: Array<(x: PalimpsestAgentsSession | MemorySession) => Promise<unknown>> = [
      (x) => x.addItems([user('a'), call('c1')]),
      (x) => x.applyHistoryTransaction(replace('t1', [call('c1')], [call('c1'), result('c1', 'r1')])),
      (x) => x.applyHistoryTransaction(append('t2', [user('b'), call('c2'), call('c3')])),
      (x) => x.applyHistoryTransaction(append('t2', [user('b'), call('c2'), call('c3')])),
      (x) => x.applyHistoryTransaction(replace('t3', [call('c3')], [call('c3'), result('c2', 'r2'), result('c3', 'r3')])),
      (x) => x.popItem(),
      (x) => x.applyHistoryTransaction(append('t4', [user('c')])),
    ];
    for (const step of steps) {
      await step(ours);
      await step(theirs);
    }
    expect(await ours.getItems()).toEqual(await theirs.getItems());
    expect(right(await ours.store.verify(ours.sessionId)).map((r) => r.ok)).toEqual([true]);
  });
});

describe('replaceHistoryWithCompaction', () => {
  const compaction = { type: 'compaction', encrypted_content: 'enc', id: 'cmp_1' } as AgentInputItem;

  it('is one rewrite with reason compaction from the first changed message; the earlier revision stays readable', async () => {
    const s = await withItems([user('a'), user('b'), user('c')]);
    const before = right(await s.store.load(s.sessionId));
    await s.replaceHistoryWithCompaction([compaction, user('c')]);
    expect(await s.getItems()).toEqual([compaction, user('c')]);
    expect(await lines(s)).toEqual(['session_created', 'append user,user,user', 'rewrite [0,3) -> notice:compaction,user (compaction)']);
    expect(right(await s.store.revisionMessages(s.sessionId, before.transcriptRevision()))).toEqual(before.messages);
    // the same items again record nothing
    await s.replaceHistoryWithCompaction([compaction, user('c')]);
    expect(await lines(s)).toHaveLength(3);
  });

  it('a failed store write leaves the history as it was (the runner needs no rollback)', async () => {
    const real = await openStore();
    const failing = { ...real, append: async () => E.left(storeIoError('(test)', 'disk full')) } as typeof real;
    const s = await createPalimpsestAgentsSession(real, { sessionId: 'c', clock: ticking() });
    await s.addItems([user('a'), user('b')]);
    const same = await createPalimpsestAgentsSession(failing, { sessionId: 'c', clock: ticking() });
    expect(await rejection(same.replaceHistoryWithCompaction([compaction]))).toMatchObject({ _tag: 'StoreIoError' });
    expect(await s.getItems()).toEqual([user('a'), user('b')]);
    expect(await logLines(real, 'c')).toEqual(['session_created', 'append user,user']);
  });

  it('keeps a common prefix out of the rewrite and refuses a non-JSON item before writing', async () => {
    const s = await withItems([compaction, user('b')]);
    await s.replaceHistoryWithCompaction([compaction, user('summary of b')]);
    expect((await lines(s)).at(-1)).toBe('rewrite [1,2) -> user (compaction)');
    const n = (await lines(s)).length;
    expect(await rejection(s.replaceHistoryWithCompaction([compaction, 7 as unknown as AgentInputItem]))).toMatchObject({ _tag: 'UnsupportedAgentItem', index: 1 });
    expect(await lines(s)).toHaveLength(n);
  });
});

describe('applyHistoryMutations', () => {
  it('replace_function_call replaces the first call with the id and drops later duplicates (one validated rewrite)', async () => {
    const first = { ...call('call-1'), id: 'call-old-1' } as AgentInputItem;
    const dup = { ...call('call-1', '{"duplicate":true}'), id: 'call-old-2' } as AgentInputItem;
    const s = await withItems([user('start'), first, dup]);
    const replacement = { ...call('call-1', '{"ok":true}'), id: 'call-new' } as Extract<AgentInputItem, { type: 'function_call' }>;
    const theirs = new MemorySession({ initialItems: [user('start'), first, dup] });
    await s.applyHistoryMutations({ mutations: [{ type: 'replace_function_call', callId: 'call-1', replacement }] });
    await theirs.applyHistoryMutations({ mutations: [{ type: 'replace_function_call', callId: 'call-1', replacement }] });
    expect(await s.getItems()).toEqual([user('start'), replacement]);
    expect(await s.getItems()).toEqual(await theirs.getItems());
    expect((await lines(s)).slice(2)).toEqual(['rewrite [1,3) -> notice:function_call (agents_history_mutation)']);
  });

  it('refuses an unknown call id, another mutation type, or a replacement that is not a function call; nothing written', async () => {
    const s = await withItems([user('start'), call('c1'), result('c1', 'r')]);
    const before = await lines(s);
    const replacement = call('c1', '{"ok":true}') as Extract<AgentInputItem, { type: 'function_call' }>;
    expect(await rejection(s.applyHistoryMutations({ mutations: [{ type: 'replace_function_call', callId: 'c1', replacement }, { type: 'replace_function_call', callId: 'nope', replacement }] }))).toMatchObject({
      _tag: 'InvalidHistoryMutation',
      index: 1,
      reason: 'unknown_call_id',
    });
    expect(await rejection(s.applyHistoryMutations({ mutations: [{ type: 'drop', callId: 'c1' }] } as never))).toMatchObject({ reason: 'unknown_type' });
    expect(await rejection(s.applyHistoryMutations({ mutations: [{ type: 'replace_function_call', callId: 'c1', replacement: user('x') }] } as never))).toMatchObject({ reason: 'not_a_function_call' });
    expect(await lines(s)).toEqual(before);
    await s.applyHistoryMutations({ mutations: [] });
    expect(await lines(s)).toEqual(before);
    await s.applyHistoryMutations({ mutations: [{ type: 'replace_function_call', callId: 'c1', replacement }] });
    expect((await lines(s)).at(-1)).toBe('rewrite [1,3) -> assistant,tool_results (agents_history_mutation)');
    expect((await s.getItems())[1]).toEqual(replacement);
  });
});
