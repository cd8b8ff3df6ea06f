/**
 * `Session.apply` (the path `store.append` takes) gives a message without
 * `createdAt` the record time, as `push` does; one with `createdAt` keeps it,
 * and a malformed message is still refused by the decoder.
 */
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { Session } from '../../src/session/session.ts';
import { stampCommandMessages } from '../../src/session/commands.ts';
import { assistantText, userText } from '../../src/model/index.ts';
import { left, right } from '../support/either.ts';

describe('messages_appended without createdAt', () => {
  it('are stamped with the record time; given times are kept', () => {
    const s = Session.create({ id: 's', clock: () => 5_000 });
    const a = right(s.apply({ type: 'messages_appended', messages: [userText('hi'), assistantText('hello', { createdAt: 1_234 })] }));
    expect(a.session.messages.map((m) => m.createdAt)).toEqual([5_000, 1_234]);
    const rec = a.session.log.at(-1)!;
    expect(rec.at).toBe(5_000);
    expect((rec.command as { messages: Array<{ createdAt: number }> }).messages.map((m) => m.createdAt)).toEqual([5_000, 1_234]);
    // The stamped record replays and verifies like any other.
    expect(E.isRight(a.session.verify())).toBe(true);
  });

  it('leaves other commands and malformed messages to the decoder', () => {
    const other = { type: 'session_touched' };
    expect(stampCommandMessages(other, 1)).toBe(other);
    expect(stampCommandMessages(null, 1)).toBe(null);
    const s = Session.create({ id: 's', clock: () => 5_000 });
    expect(left(s.apply({ type: 'messages_appended', messages: [{ role: 'user', content: 'not blocks' }] }))).toMatchObject({ _tag: 'InvalidCommand' });
    expect(left(s.apply({ type: 'messages_appended', messages: [{ role: 'user', content: [], transcriptRole: 'conversational', createdAt: 'yesterday' }] }))).toMatchObject({ _tag: 'InvalidCommand' });
  });
});
