import { describe, expect, it } from 'vitest';
import { assistantText, stampMessage, transcriptDigest, userText, type Message } from '../../src/model/index.ts';
import {
  CHECKPOINT_INTERVAL,
  appendToTranscript,
  emptyTranscript,
  lastMessage,
  prefixRevision,
  replaceSpan,
  spanDigest,
  takeTranscript,
  transcriptFromMessages,
  transcriptLength,
  transcriptMessageAt,
  transcriptMessages,
  transcriptRevision,
  transcriptSlice,
  transcriptFromParts,
  vecFrom,
  vecFromLazy,
  vecSize,
  vecTake,
  vecUnloadedLeaves,
  type Transcript,
} from '../../src/transcript/index.ts';
import * as E from 'fp-ts/lib/Either.js';
import { cheapMessage } from '../../spec/arbitraries/messages.ts';

const K = CHECKPOINT_INTERVAL;
const msgs = (n: number, salt = 0): Message[] => Array.from({ length: n }, (_, i) => cheapMessage(i, salt));

const checkInvariants = (t: Transcript): void => {
  const all = transcriptMessages(t);
  expect(transcriptRevision(t)).toBe(transcriptDigest(all));
  expect(t.head.count).toBe(all.length);
  expect(vecSize(t.checkpoints)).toBe(Math.floor(all.length / K) + 1);
};

describe('transcript', () => {
  it('digest vectors of model.md §7.3', () => {
    expect(transcriptRevision(emptyTranscript())).toBe('sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945');
    const t1 = transcriptFromMessages([stampMessage(userText('hello'), 5)]);
    expect(transcriptRevision(t1)).toBe('sha256:272c6f9c335d47d833189ef60d38a182e598b4b3a0ea73e7f7080f23a1ee2f1f');
    const t2 = appendToTranscript(t1, [stampMessage(assistantText('hi'), 6)]);
    expect(transcriptRevision(t2)).toBe('sha256:da2222c402f476a7db9ac4a9b90155a3307e41aa4dfad5482ba5f2b3f1fd993a');
    expect(transcriptRevision(t1)).toBe('sha256:272c6f9c335d47d833189ef60d38a182e598b4b3a0ea73e7f7080f23a1ee2f1f');
  });

  it('appends deep-freeze messages and keep the source transcript unchanged', () => {
    const m = stampMessage(userText('x'), 1);
    const t0 = transcriptFromMessages(msgs(3));
    const t1 = appendToTranscript(t0, [m]);
    expect(Object.isFrozen(m)).toBe(true);
    expect(m.role === 'user' && Object.isFrozen(m.content) && Object.isFrozen(m.content[0])).toBe(true);
    expect(transcriptLength(t0)).toBe(3);
    expect(transcriptLength(t1)).toBe(4);
    expect(transcriptMessageAt(t1, 3)).toBe(m);
    expect(lastMessage(t1)).toBe(m);
    expect(transcriptMessageAt(t0, 3)).toBeUndefined();
    expect(appendToTranscript(t1, [])).toBe(t1);
  });

  it('a fork of a transcript appends independently on both sides', () => {
    const base = transcriptFromMessages(msgs(300));
    const a = appendToTranscript(base, msgs(20, 1));
    const b = appendToTranscript(base, msgs(5, 2));
    checkInvariants(base);
    checkInvariants(a);
    checkInvariants(b);
    expect(transcriptLength(base)).toBe(300);
    expect(transcriptSlice(a, 300, 320)).toEqual(msgs(20, 1));
    expect(transcriptSlice(b, 300, 305)).toEqual(msgs(5, 2));
  });

  it('checkpoints hold the accumulator after every K messages, however the transcript was built', () => {
    const all = msgs(3 * K + 7);
    const oneByOne = all.reduce((t, m) => appendToTranscript(t, [m]), emptyTranscript());
    const chunks = [1, K - 1, 2, K, 3 * K].reduce(
      (acc, size) => ({ t: appendToTranscript(acc.t, all.slice(acc.at, acc.at + size)), at: acc.at + size }),
      { t: emptyTranscript(), at: 0 },
    ).t;
    const bulk = transcriptFromMessages(all);
    for (const t of [oneByOne, chunks, bulk]) {
      checkInvariants(t);
      for (let i = 0; i <= 3; i++) {
        const cp = t.checkpoints;
        expect(prefixRevision(t, i * K)).toBe(transcriptDigest(all.slice(0, i * K)));
        expect(vecSize(cp)).toBe(4);
      }
    }
  });

  it('prefixRevision and takeTranscript equal full recomputation around multiples of 256', () => {
    const all = msgs(3 * K + 10);
    const t = transcriptFromMessages(all);
    const points = [0, 1, K - 1, K, K + 1, 2 * K - 1, 2 * K, 2 * K + 1, 3 * K - 1, 3 * K, 3 * K + 1, all.length - 1, all.length];
    for (const n of points) {
      const want = transcriptDigest(all.slice(0, n));
      expect(prefixRevision(t, n)).toBe(want);
      const p = takeTranscript(t, n);
      checkInvariants(p);
      expect(transcriptRevision(p)).toBe(want);
      expect(transcriptMessages(p)).toEqual(all.slice(0, n));
      // appending to a prefix continues the digest correctly, across checkpoints
      const q = appendToTranscript(p, msgs(K + 3, 9));
      checkInvariants(q);
    }
    expect(prefixRevision(t, 10_000)).toBe(transcriptRevision(t));
    expect(prefixRevision(t, -4)).toBe(transcriptRevision(emptyTranscript()));
    expect(takeTranscript(t, 10_000)).toBe(t);
    expect(transcriptLength(takeTranscript(t, -1))).toBe(0);
  });

  it('replaceSpan equals full recomputation around multiples of 256', () => {
    const all = msgs(3 * K + 10);
    const t = transcriptFromMessages(all);
    const points = [0, 1, K - 1, K, K + 1, 2 * K, 2 * K + 1, 3 * K, all.length - 1, all.length];
    const replacements = [[], msgs(1, 7), msgs(K + 2, 8)];
    for (const start of points) {
      for (const len of [0, 1, K]) {
        const end = Math.min(all.length, start + len);
        for (const r of replacements) {
          const u = replaceSpan(t, start, end, r);
          const want = [...all.slice(0, start), ...r, ...all.slice(end)];
          checkInvariants(u);
          expect(transcriptRevision(u)).toBe(transcriptDigest(want));
          expect(transcriptLength(u)).toBe(want.length);
          expect(transcriptMessageAt(u, start)).toBe(want[start]);
          expect(prefixRevision(u, start + 1)).toBe(transcriptDigest(want.slice(0, start + 1)));
        }
      }
    }
    // the source is unchanged
    checkInvariants(t);
    expect(transcriptMessages(t)).toEqual(all);
  });

  it('replaceSpan refuses a bad range by throwing (callers check first)', () => {
    const t = transcriptFromMessages(msgs(3));
    expect(() => replaceSpan(t, 2, 1, [])).toThrow(RangeError);
    expect(() => replaceSpan(t, 0, 4, [])).toThrow(RangeError);
    expect(() => replaceSpan(t, -1, 1, [])).toThrow(RangeError);
  });

  it('spanDigest is transcriptDigest of the span', () => {
    const all = msgs(600);
    const t = transcriptFromMessages(all);
    for (const [s, e] of [[0, 0], [0, 600], [3, 4], [255, 513], [599, 600], [10, 5]] as const) {
      expect(spanDigest(t, s, e)).toBe(transcriptDigest(all.slice(s, Math.max(s, e))));
    }
  });

  it('replaceSpan, takeTranscript and prefixRevision never read the prefix below the checkpoint', () => {
    const all = msgs(4 * K);
    const t = transcriptFromMessages(all);
    // The same transcript whose messages below checkpoint 3 are poisoned: any read throws.
    const poison = (): Message =>
      new Proxy({} as Message, {
        get: () => {
          throw new Error('read a prefix message');
        },
        ownKeys: () => {
          throw new Error('read a prefix message');
        },
      });
    const poisoned: Transcript = { ...t, messages: vecFrom([...Array.from({ length: 3 * K }, poison), ...all.slice(3 * K)]) };
    const start = 3 * K + 5;
    const u = replaceSpan(poisoned, start, start + 1, msgs(1, 3));
    expect(transcriptRevision(u)).toBe(transcriptDigest([...all.slice(0, start), ...msgs(1, 3), ...all.slice(start + 1)]));
    expect(transcriptRevision(takeTranscript(poisoned, 3 * K + 9))).toBe(transcriptDigest(all.slice(0, 3 * K + 9)));
    expect(prefixRevision(poisoned, 3 * K + 1)).toBe(transcriptDigest(all.slice(0, 3 * K + 1)));
    // the poison works: reading below the checkpoint throws
    expect(() => prefixRevision(poisoned, 3 * K - 1)).toThrow('read a prefix message');
    expect(spanDigest(poisoned, 3 * K, 3 * K + 2)).toBe(transcriptDigest(all.slice(3 * K, 3 * K + 2)));
  });

  describe('lazily loaded messages (transcriptFromParts)', () => {
    /** `eager` rebuilt with its full chunks of K messages as lazy segments (as the store loads it); loads are counted per chunk. */
    const lazyOf = (eager: Transcript): { t: Transcript; loads: number[] } => {
      const all = transcriptMessages(eager);
      const full = Math.floor(all.length / K);
      const loads = Array.from({ length: full }, () => 0);
      const messages = vecFromLazy([{ segments: full, size: K, load: (i) => (loads[i]!++, all.slice(i * K, (i + 1) * K)) }], all.slice(full * K));
      const t = transcriptFromParts(messages, eager.head, eager.checkpoints);
      if (E.isLeft(t)) throw new Error(t.left);
      return { t: t.right, loads };
    };
    const n = 5 * K + 40;
    const all = msgs(n);
    const eager = transcriptFromMessages(all);

    it('appending reads nothing below the tail, and gives the eager revision', () => {
      const { t, loads } = lazyOf(eager);
      expect(transcriptLength(t)).toBe(n);
      expect(lastMessage(t)).toBe(all[n - 1]);
      expect(transcriptRevision(t)).toBe(transcriptRevision(eager));
      let u = t;
      for (let i = 0; i < 3 * K; i++) u = appendToTranscript(u, msgs(1, 100 + i));
      expect(loads.every((x) => x === 0)).toBe(true);
      expect(transcriptRevision(u)).toBe(transcriptDigest([...all, ...Array.from({ length: 3 * K }, (_, i) => msgs(1, 100 + i)[0]!)]));
      expect(vecUnloadedLeaves(u.messages)).toBe(5 * (K / 32));
    });

    it('take, prefixRevision, replaceSpan and reads agree with the eager transcript, loading only what they need', () => {
      const { t, loads } = lazyOf(eager);
      const taken = takeTranscript(t, 2 * K + 7);
      expect(loads).toEqual([0, 0, 1, 0, 0]); // the checkpoint at 2K, then messages 2K..2K+7 of chunk 2
      expect(transcriptRevision(taken)).toBe(transcriptRevision(takeTranscript(eager, 2 * K + 7)));
      expect(prefixRevision(t, 4 * K + 1)).toBe(prefixRevision(eager, 4 * K + 1));
      expect(loads).toEqual([0, 0, 1, 0, 1]);
      const u = replaceSpan(t, 3 * K + 2, 3 * K + 5, msgs(2, 7));
      expect(loads).toEqual([0, 0, 1, 1, 1]); // from the checkpoint at 3K to the end
      const v = replaceSpan(eager, 3 * K + 2, 3 * K + 5, msgs(2, 7));
      expect(transcriptRevision(u)).toBe(transcriptRevision(v));
      expect(transcriptMessageAt(t, 0)).toBe(all[0]);
      expect(transcriptSlice(t, 10, 20)).toEqual(all.slice(10, 20));
      expect(transcriptMessages(u)).toEqual(transcriptMessages(v));
      expect(loads).toEqual([1, 1, 1, 1, 1]);
      checkInvariants(u);
    });

    it('transcriptFromParts checks the head count and the number of checkpoints', () => {
      const short = transcriptFromMessages(all.slice(0, K + 3));
      expect(E.isLeft(transcriptFromParts(eager.messages, short.head, eager.checkpoints))).toBe(true);
      expect(E.isLeft(transcriptFromParts(eager.messages, eager.head, vecTake(eager.checkpoints, 2)))).toBe(true);
      expect(E.isRight(transcriptFromParts(eager.messages, eager.head, eager.checkpoints))).toBe(true);
    });
  });
});
