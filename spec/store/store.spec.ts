/**
 * Property specs of the LevelDB store (README §4, §5), on real LevelDB in temp
 * directories (modest run counts: every run hits the disk):
 * - snapshot + tail equals full replay: for random command sequences and random
 *   snapshot intervals, a cold `load` (newest snapshot plus the records after
 *   it) and a cold `load({ atSeq })` equal `Session.replay` of the stored log,
 *   and `verify` is clean;
 * - fork isolation: after any fork (full, at an index, at an older seq), later
 *   parent appends never show in the child and child appends never show in the
 *   parent, cold and warm; the child equals the replay of its own log onto the
 *   parent's replayed state at the fork point.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { assistantText, assistantToolCalls, compactionSummary, systemNotice, toolResult, toolResults, userText } from '../../src/model/index.ts';
import { Session } from '../../src/session/session.ts';
import type { SessionState } from '../../src/session/state.ts';
import { SessionStore } from '../../src/store/index.ts';
import { emptyMemos, encodeSnapshot } from '../../src/store/snapshot.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tempDir = (): string => {
  const d = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'palimpsest-spec-store-'));
  dirs.push(d);
  return d;
};

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected Right, got ${JSON.stringify(e.left)}`);
  return e.right;
};

/** The whole reduced state as canonical JSON (the snapshot encoding, chunk ids by content). */
const canonicalState = (s: SessionState): string => encodeSnapshot(s, emptyMemos).value;

type Op =
  | { op: 'user'; text: string }
  | { op: 'assistant'; text: string }
  | { op: 'batch'; texts: string[] }
  | { op: 'toolTurn'; ids: string[] }
  | { op: 'system'; text: string }
  | { op: 'notice'; text: string }
  | { op: 'meta'; key: string; value: number }
  | { op: 'unmeta'; key: string }
  | { op: 'usage'; input: number; output: number }
  | { op: 'rewrite'; a: number; b: number; text: string }
  | { op: 'stageResults'; id: string }
  | { op: 'context'; text: string }
  | { op: 'archiveRevive' };

const text = fc.string({ maxLength: 12 });
const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('user' as const), text }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('assistant' as const), text }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('batch' as const), texts: fc.array(text, { minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('toolTurn' as const), ids: fc.uniqueArray(fc.stringMatching(/^[a-z]{1,4}$/), { minLength: 1, maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('system' as const), text }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('notice' as const), text }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('meta' as const), key: fc.constantFrom('a', 'b', '__proto__'), value: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unmeta' as const), key: fc.constantFrom('a', 'b') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('usage' as const), input: fc.nat(1000), output: fc.nat(1000) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('rewrite' as const), a: fc.nat(), b: fc.nat(), text }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('stageResults' as const), id: fc.stringMatching(/^[a-z]{1,4}$/) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('context' as const), text: fc.stringMatching(/^[a-z ]{1,10}$/) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'archiveRevive' as const }) },
);

/**
 * The commands `o` records on `s` (built with the Session methods, read back from
 * the records they add); `[]` when `s` refuses it or it is inert.
 */
const commandsFor = (s: Session, o: Op, tag: string): unknown[] => {
  const after = (r: E.Either<unknown, Session | { readonly session: Session }>): unknown[] => {
    if (E.isLeft(r)) return [];
    const next = r.right instanceof Session ? r.right : r.right.session;
    return next.log.slice(s.log.length).map((rec) => rec.command);
  };
  switch (o.op) {
    case 'user':
      return after(s.push(userText(`${tag}${o.text}`)));
    case 'assistant':
      return after(s.push(assistantText(`${tag}${o.text}`)));
    case 'batch':
      return after(s.pushBatch(o.texts.map((t) => userText(`${tag}${t}`))));
    case 'toolTurn': {
      const a = s.push(assistantToolCalls(o.ids.map((id) => ({ id, name: 'tool', args: { id } }))));
      if (E.isLeft(a)) return [];
      return after(a.right.push(toolResults(o.ids.map((id) => toolResult(id, `${tag}result`)))));
    }
    case 'system':
      return after(s.setSystemPrompt(`${tag}${o.text}`));
    case 'notice':
      return after(s.replaceSyntheticNotices('external_event', [systemNotice('external_event', `${tag}${o.text}`)]));
    case 'meta':
      return after(s.setMetadata(o.key, o.value));
    case 'unmeta':
      return after(s.removeMetadata(o.key));
    case 'usage':
      return after(s.recordUsage({ inputTokens: o.input, outputTokens: o.output }));
    case 'rewrite': {
      const n = s.messageCount;
      const start = n === 0 ? 0 : o.a % (n + 1);
      const end = start + (n - start === 0 ? 0 : o.b % (n - start + 1));
      return after(s.commitTranscriptRewrite({ selection: { type: 'message_range', start, end }, replacement: [compactionSummary(`${tag}${o.text}`)], reason: { kind: 'compaction' } }));
    }
    case 'stageResults':
      return after(s.stageToolResults([toolResult(o.id, 'staged')]));
    case 'context':
      return after(s.stageSystemContext([{ content: { type: 'text', text: o.text }, source: 'spec' }]));
    case 'archiveRevive': {
      const a = s.archive('spec');
      if (E.isLeft(a)) return [];
      return after(a.right.session.revive());
    }
  }
};

/** Applies `ops` to session `sid` through the store, in calls of 1–3 ops (refused or inert ops are dropped). */
const run = async (store: SessionStore, sid: string, ops: readonly Op[], tag: string): Promise<void> => {
  let i = 0;
  while (i < ops.length) {
    const cur = right(await store.load(sid));
    const take = 1 + (i % 3);
    let scratch = cur;
    const commands: unknown[] = [];
    for (const o of ops.slice(i, i + take)) {
      const cs = commandsFor(scratch, o, tag);
      for (const c of cs) {
        const r = scratch.apply(c);
        if (E.isRight(r)) {
          scratch = r.right.session;
          commands.push(c);
        }
      }
    }
    i += take;
    if (commands.length === 0) continue;
    right(await store.append(sid, commands, { expectedSeq: cur.seq }));
  }
};

let clockT = 1_000;
const clock = () => clockT++;

describe('store properties', () => {
  it('a cold load (snapshot + tail) equals a full replay of the stored log, at the end and at any seq', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbOp, { minLength: 10, maxLength: 60 }), fc.integer({ min: 1, max: 7 }), fc.nat(), async (ops, every, pick) => {
        const dir = tempDir();
        const store = right(await SessionStore.open(dir, { snapshotEvery: every, clock }));
        right(await store.create({ id: 's', metadata: { origin: 'spec' } }));
        await run(store, 's', ops, '«p»');
        const warm = right(await store.load('s'));
        right(await store.close());

        const cold = right(await SessionStore.open(dir, { snapshotEvery: every, clock }));
        const log = right(await cold.log('s'));
        if (process.env.SPEC_STATS) console.log('records', log.length, 'types', [...new Set(log.map((r) => r.command.type))].join(','));
        const replayed = right(Session.replay(log));
        const loaded = right(await cold.load('s'));
        expect(canonicalState(loaded.state)).toBe(canonicalState(replayed.state));
        expect(canonicalState(warm.state)).toBe(canonicalState(replayed.state));
        const atSeq = 1 + (pick % log.length);
        const at = right(await cold.load('s', { atSeq }));
        expect(canonicalState(at.state)).toBe(canonicalState(right(Session.replay(log.slice(0, atSeq))).state));
        const reports = right(await cold.verify());
        expect(reports.map((r) => r.problems)).toEqual([[]]);
        right(await cold.close());
      }),
      { numRuns: 20 },
    );
  });

  it('fork isolation: later parent appends never show in the child, child appends never in the parent', async () => {
    type Mode = { mode: 'full' } | { mode: 'at'; index: number } | { mode: 'atSeq'; pick: number };
    const arbMode: fc.Arbitrary<Mode> = fc.oneof(
      fc.constant({ mode: 'full' as const }),
      fc.record({ mode: fc.constant('at' as const), index: fc.nat(30) }),
      fc.record({ mode: fc.constant('atSeq' as const), pick: fc.nat() }),
    );
    const ops = (max: number) => fc.array(arbOp, { maxLength: max, size: 'max' });
    await fc.assert(
      fc.asyncProperty(ops(20), arbMode, ops(15), ops(15), fc.integer({ min: 1, max: 6 }), async (before, mode, parentAfter, childOps, every) => {
        const dir = tempDir();
        const store = right(await SessionStore.open(dir, { snapshotEvery: every, clock }));
        right(await store.create({ id: 'p' }));
        await run(store, 'p', before, '«p»');
        const parentLast = right(await store.load('p')).seq;
        const forkSeq = mode.mode === 'atSeq' ? 1 + (mode.pick % parentLast) : parentLast;
        const child =
          mode.mode === 'at'
            ? right(await store.forkAt('p', mode.index, { id: 'c' }))
            : right(await store.fork('p', { id: 'c', ...(mode.mode === 'atSeq' ? { atSeq: forkSeq } : {}) }));
        const atFork = right(await store.load('p', { atSeq: forkSeq }));
        const prefix = mode.mode === 'at' ? atFork.messages.slice(0, mode.index) : atFork.messages;
        expect(child.messages).toEqual(prefix);
        await run(store, 'p', parentAfter, '«P»');
        await run(store, 'c', childOps, '«C»');
        const warmChild = right(await store.load('c'));
        right(await store.close());

        const cold = right(await SessionStore.open(dir, { snapshotEvery: every, clock }));
        const c = right(await cold.load('c'));
        const p = right(await cold.load('p'));
        expect(canonicalState(c.state)).toBe(canonicalState(warmChild.state));
        const json = (m: unknown) => JSON.stringify(m);
        expect(c.messages.some((m) => json(m).includes('«P»'))).toBe(false);
        expect(p.messages.some((m) => json(m).includes('«C»'))).toBe(false);
        // The child is its own log replayed onto the parent's replayed state at the fork point.
        const parentLog = right(await cold.log('p'));
        const parentState = right(Session.replay(parentLog.slice(0, forkSeq))).state;
        const childLog = right(await cold.log('c'));
        expect(canonicalState(right(Session.replay(childLog, { parent: parentState })).state)).toBe(canonicalState(c.state));
        expect(right(await cold.lineage('c')).map((l) => l.sessionId)).toEqual(['c', 'p']);
        const reports = right(await cold.verify());
        expect(reports.map((r) => [r.sessionId, r.problems])).toEqual([
          ['p', []],
          ['c', []],
        ]);
        right(await cold.close());
      }),
      { numRuns: 20 },
    );
  });
});
