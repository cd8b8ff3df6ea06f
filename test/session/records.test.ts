/**
 * Log record hashing on the hot path: the hash and the stored text come from one
 * canonical serialization, and replay still checks the hash before anything else.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import canonicalize from 'canonicalize';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { assistantText, stampMessage, toolResult, toolResults, userText, type Message } from '../../src/model/index.ts';
import { decodeRecord, recordHash, recordJson, sealRecord, type LogRecord } from '../../src/session/record.ts';
import { reduce } from '../../src/session/replay.ts';
import { Session } from '../../src/session/session.ts';
import { arbMessage } from '../../spec/model/arbitraries.ts';
import { fresh, left, right } from './helpers.ts';

const sha = (s: string): string => `sha256:${bytesToHex(sha256(Buffer.from(s, 'utf8')))}`;

const bodyOf = (r: LogRecord): Record<string, unknown> => {
  const { hash: _h, ...body } = r;
  return body;
};

describe('record hash and stored text', () => {
  it('hash = SHA-256 of the canonical body; recordJson = canonical record, decoding to the same record', () => {
    fc.assert(
      fc.property(fc.array(arbMessage, { minLength: 1, maxLength: 4 }), (ms) => {
        let s = fresh('rec');
        for (const m of ms) {
          if (m.role === 'tool_results') continue; // the shape rule needs a tool use first
          const r = s.apply({ type: 'messages_appended', messages: [m] });
          if (E.isRight(r)) s = r.right.session;
        }
        for (const rec of s.log) {
          expect(rec.hash).toBe(sha(canonicalize(bodyOf(rec)) as string));
          expect(recordHash(rec)).toBe(rec.hash);
          const text = recordJson(rec);
          expect(text).toBe(canonicalize(rec));
          const back = right(decodeRecord(JSON.parse(text)));
          expect(back).toEqual(JSON.parse(JSON.stringify(rec)));
          expect(recordHash(back)).toBe(rec.hash);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('recordJson of a record just sealed is the text its hash came from, taken once; later calls serialize the same text', () => {
    let s = fresh('taken');
    for (let i = 0; i < 5; i++) s = right(s.push(i % 2 === 0 ? userText(`q ${i} é😀`) : assistantText(`a ${i}`)));
    for (const rec of s.log) {
      const first = recordJson(rec);
      expect(first).toBe(canonicalize(rec));
      expect(sha(first.replace(`,"hash":"${rec.hash}"`, ''))).toBe(rec.hash);
      expect(recordJson(rec)).toBe(first);
    }
  });

  it('the memo of sealed texts is bounded: records sealed long ago (never written) serialize the same text', () => {
    let s = fresh('bounded');
    for (let i = 0; i < 5000; i++) s = right(s.push(i % 2 === 0 ? userText(`q${i}`) : assistantText(`a${i}`)));
    const log = s.log;
    for (const rec of [log[0]!, log[1]!, log[2_500]!, log[log.length - 1]!]) expect(recordJson(rec)).toBe(canonicalize(rec));
  });

  it('a record not sealed here (or with unexpected members) takes the general path', () => {
    const s = right(fresh('gen').push(userText('hi')));
    const rec = s.log[1]!;
    const copy = JSON.parse(JSON.stringify(rec)) as LogRecord;
    expect(recordJson(copy)).toBe(canonicalize(copy));
    const extra = { ...bodyOf(rec), note: 'x' } as unknown as LogRecord;
    expect(recordHash(extra)).toBe(sha(canonicalize({ ...bodyOf(rec), note: 'x' }) as string));
    const undef = { ...bodyOf(rec), note: undefined } as unknown as LogRecord;
    expect(recordHash(undef)).toBe(rec.hash);
  });

  it('a messages_appended command is written around its message list whatever its member order; one with another member takes the general path', () => {
    const m = stampMessage(userText('hé 😀 "q"'), 7);
    const base = { v: 2 as const, sessionId: 's', seq: 2, at: 7, revision: `sha256:${'1'.repeat(64)}`, state: `sha256:${'2'.repeat(64)}`, prev: `sha256:${'3'.repeat(64)}` };
    const commands: unknown[] = [
      { type: 'messages_appended', messages: [m] },
      { messages: [m, m], type: 'messages_appended' },
      { type: 'messages_appended', messages: [m], note: 'x' },
      { type: 'messages_appended', messages: [m], note: undefined },
      { type: 'messages_appended', messages: [] },
    ];
    for (const command of commands) {
      const body = { ...base, command } as unknown as Parameters<typeof sealRecord>[0];
      const sealed = sealRecord(body);
      expect(sealed.hash).toBe(sha(canonicalize(body) as string));
      expect(recordJson(sealed)).toBe(canonicalize(sealed));
    }
  });

  it('sealRecord of a record whose members are not all present hashes what is there', () => {
    const partial = { v: 1, sessionId: 'x', seq: 1, at: 1, command: { type: 'session_touched' }, revision: `sha256:${'1'.repeat(64)}` } as unknown as Parameters<typeof sealRecord>[0];
    const sealed = sealRecord(partial);
    expect(sealed.hash).toBe(sha(canonicalize(partial) as string));
    expect(recordJson(sealed)).toBe(canonicalize(sealed));
  });
});

describe('replay checks the hash first', () => {
  it('a record with a bad hash whose command would also be refused reports the hash', () => {
    const s = fresh('h');
    const genesis = s.log[0]!;
    // tool results after nothing: the reducer refuses them (InvalidTranscriptShape).
    const results: Message = stampMessage(toolResults([toolResult('call-1', 'x')]), 5);
    const body = { v: 1 as const, sessionId: 'h', seq: 2, at: genesis.at, command: { type: 'messages_appended' as const, messages: [results] }, revision: genesis.revision, prev: genesis.hash };
    const honest = sealRecord(body);
    const state = right(Session.replay([genesis])).state;
    expect(left(reduce(state, honest))._tag).toBe('InvalidTranscriptShape');
    const tampered = { ...honest, hash: `sha256:${'0'.repeat(64)}` } as LogRecord;
    const e = left(reduce(state, tampered));
    expect(e._tag).toBe('BrokenLog');
    expect(e.message).toContain('does not match');
  });

  it('replays a log whose messages are fresh parsed objects (memoized serializations do not leak between records)', () => {
    let s = fresh('p');
    for (let i = 0; i < 30; i++) s = right(s.push(i % 2 === 0 ? userText(`q${i}`) : assistantText(`a${i}`)));
    const parsed = s.log.map((r) => right(decodeRecord(JSON.parse(recordJson(r)))));
    const replayed = right(Session.replay(parsed));
    expect(replayed.transcriptRevision()).toBe(s.transcriptRevision());
    expect(replayed.head).toBe(s.head);
  });
});
