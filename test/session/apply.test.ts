/**
 * `apply(state, command, ctx)`, the one write primitive: pure (the same input
 * gives the same record), an inert outcome returns the input state and no
 * record, a real one seals a record that links to the state's head and replays;
 * typed builders give typed results (`ResultOf`), and a value of unknown shape
 * is decoded all the same.
 */
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { apply } from '../../src/session/apply.ts';
import * as commands from '../../src/session/builders.ts';
import { Session } from '../../src/session/session.ts';
import { reduce } from '../../src/session/replay.ts';
import { userText } from '../../src/model/index.ts';
import { left, right } from '../support/either.ts';

const base = (): Session => Session.create({ id: 's', clock: () => 1_000 });

describe('apply', () => {
  it('is pure: the same state, command and time give the same record and state', () => {
    const s = base().state;
    const a = right(apply(s, commands.messagesAppended([userText('hi')]), { at: 2_000 }));
    const b = right(apply(s, commands.messagesAppended([userText('hi')]), { at: 2_000 }));
    expect(a.record).toEqual(b.record);
    expect(a.record!.hash).toBe(b.record!.hash);
    expect(a.state.head).toBe(a.record!.hash);
    expect(a.record!.prev).toBe(s.head);
    expect(a.record!.seq).toBe(s.seq + 1);
    // the message without createdAt got the record time
    expect(a.state.transcript.messages).not.toBe(s.transcript.messages);
    expect(right(reduce(s, a.record!)).head).toBe(a.record!.hash);
    // a later time gives another record
    expect(right(apply(s, commands.messagesAppended([userText('hi')]), { at: 2_001 })).record!.hash).not.toBe(a.record!.hash);
  });

  it('an inert outcome returns the input state, no record, and still the result', () => {
    const s = right(base().setMetadata('k', 1)).state;
    const r = right(apply(s, commands.metadataSet('k', 1), { at: 3_000 }));
    expect(r.state).toBe(s);
    expect(r.record).toBeUndefined();
    const backfill = right(apply(s, commands.metadataBackfilled('k', 2), { at: 3_000 }));
    expect(backfill.state).toBe(s);
    const written: boolean = backfill.result; // typed by ResultOf, no cast
    expect(written).toBe(false);
  });

  it('typed results: usage_recorded returns the cumulative usage, turn_started the consumed inputs', () => {
    const s = base().state;
    const u = right(apply(s, commands.usageRecorded({ inputTokens: 3, outputTokens: 4 }), { at: 2_000 }));
    expect(u.result.inputTokens + u.result.outputTokens).toBe(7);
    const t = right(apply(u.state, commands.turnStarted(), { at: 2_001 }));
    expect(t.result.startSeq).toBe(u.state.seq + 1);
  });

  it('a value of unknown shape is decoded: InvalidCommand names the path', () => {
    const s = base().state;
    const bad: unknown = { type: 'metadata_set', key: '', value: 1 };
    expect(left(apply(s, bad, { at: 2_000 }))._tag).toBe('InvalidCommand');
    expect(left(apply(s, { type: 'nope' }, { at: 2_000 }))._tag).toBe('InvalidCommand');
  });

  it('Session methods, applyAll and apply write the same record for the same command and time', () => {
    const s = base();
    const viaMethod = right(s.push(userText('hi'))).log.at(-1)!;
    const viaAll = right(s.applyAll([commands.messagesAppended([userText('hi')])])).session.log.at(-1)!;
    const viaApply = right(apply(s.state, commands.messagesAppended([userText('hi')]), { at: 1_000 })).record!;
    expect(viaAll.hash).toBe(viaMethod.hash);
    expect(viaApply.hash).toBe(viaMethod.hash);
  });

  it('recordsSince: the records added by applying commands, undefined for a session not built from it', () => {
    const s = base();
    const a = right(s.push(userText('a')));
    const b = right(a.push(userText('b')));
    expect(b.recordsSince(s)?.map((r) => r.seq)).toEqual([2, 3]);
    expect(b.recordsSince(a)?.map((r) => r.seq)).toEqual([3]);
    expect(b.recordsSince(b)).toEqual([]);
    expect(a.recordsSince(b)).toBeUndefined(); // older than the one given
    const other = right(Session.create({ id: 's', clock: () => 1_000 }).push(userText('a')));
    expect(other.recordsSince(s)).toBeUndefined(); // same id and content, another history value
    const sibling = right(s.push(userText('c')));
    expect(b.recordsSince(sibling)).toBeUndefined();
    expect(E.isRight(b.verify())).toBe(true);
  });
});
