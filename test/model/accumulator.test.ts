/**
 * The incremental transcript digest (model.md §7.4): immutability, memoization,
 * snapshots (export / import) and their validation, the exportable SHA-256
 * state they depend on, and agreement of the two hashing ports.
 *
 * The property tests (incremental equals full, around 64-byte boundaries,
 * checkpoint rewrites) are in spec/model/digest.spec.ts.
 */
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import * as crypto from 'node:crypto';
import { nobleSha256, nodeSha256 } from '../../src/model/hashing.ts';
import { ResumableSha256 } from '../../src/model/sha256State.ts';
import {
  accumulatorDigest,
  appendMessage,
  appendMessages,
  assistantText,
  canonicalMessageBytes,
  emptyAccumulator,
  exportAccumulator,
  ExportedAccumulatorCodec,
  decodeWith,
  importAccumulator,
  settleAccumulator,
  systemMessage,
  transcriptDigest,
  userText,
  type DigestAccumulator,
  type ExportedAccumulator,
  type MessageInput,
} from '../../src/model/index.ts';
import { IV, midstate, sha256Reference, wordsHex } from './sha256-reference.ts';

const EMPTY = 'sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945';
const HELLO = 'sha256:272c6f9c335d47d833189ef60d38a182e598b4b3a0ea73e7f7080f23a1ee2f1f';
const HELLO_HI = 'sha256:da2222c402f476a7db9ac4a9b90155a3307e41aa4dfad5482ba5f2b3f1fd993a';
const IV_HEX = '6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19';

const encoder = new TextEncoder();
const nodeSha256Port = nodeSha256(crypto);
const nodeSha = (b: Uint8Array): string => crypto.createHash('sha256').update(b).digest('hex');

/** The bytes of T(ms) without the closing "]". */
const openBytes = (ms: readonly MessageInput[]): Uint8Array => {
  const parts: Uint8Array[] = [encoder.encode('[')];
  ms.forEach((m, i) => {
    if (i > 0) parts.push(encoder.encode(','));
    parts.push(canonicalMessageBytes(m));
  });
  return Buffer.concat(parts);
};

const fold = (ms: readonly MessageInput[]): DigestAccumulator => ms.reduce(appendMessage, emptyAccumulator());

const hello = userText('hello');
const hi = assistantText('hi');

describe('the reference SHA-256 used below', () => {
  it('agrees with node:crypto, so its constants and compression are right', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 200]) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 0xff);
      expect(sha256Reference(bytes), `length ${n}`).toBe(nodeSha(bytes));
    }
    expect(wordsHex(IV)).toBe(IV_HEX);
  });
});

describe('DigestAccumulator', () => {
  it('emptyAccumulator has absorbed "[" and digests to the empty vector', () => {
    const acc = emptyAccumulator();
    expect(acc.count).toBe(0);
    expect(acc.byteLength).toBe(1);
    expect(accumulatorDigest(acc)).toBe(EMPTY);
    expect(exportAccumulator(acc)).toEqual({ count: 0, byteLength: 1, chain: IV_HEX, tail: '5b' });
  });

  it('appending gives the §7.3 vectors', () => {
    const a1 = appendMessage(emptyAccumulator(), hello);
    const a2 = appendMessage(a1, hi);
    expect(accumulatorDigest(a1)).toBe(HELLO);
    expect(accumulatorDigest(a2)).toBe(HELLO_HI);
    expect(a1.count).toBe(1);
    expect(a2.count).toBe(2);
    expect(a1.byteLength).toBe(1 + canonicalMessageBytes(hello).length);
    expect(a2.byteLength).toBe(a1.byteLength + 1 + canonicalMessageBytes(hi).length);
  });

  it('appending without keeping the messages\' texts (memo false) gives the same digests, exported states and bytes', () => {
    const ms = [hello, hi, userText('again')].map((m, i) => Object.freeze({ ...m, createdAt: i }) as MessageInput);
    const kept = appendMessages(emptyAccumulator(), ms);
    const notKept = appendMessages(emptyAccumulator(), ms.map((m) => Object.freeze({ ...m }) as MessageInput), false);
    expect(accumulatorDigest(notKept)).toBe(accumulatorDigest(kept));
    expect(accumulatorDigest(notKept)).toBe(transcriptDigest(ms));
    expect(exportAccumulator(notKept)).toEqual(exportAccumulator(kept));
    expect(accumulatorDigest(appendMessage(notKept, hi))).toBe(accumulatorDigest(appendMessage(kept, hi)));
  });

  it('is immutable: frozen, and appending or finalizing leaves it unchanged', () => {
    const acc = appendMessage(emptyAccumulator(), hello);
    expect(Object.isFrozen(acc)).toBe(true);
    const before = exportAccumulator(acc);
    const next = appendMessage(acc, hi);
    expect(next).not.toBe(acc);
    expect(next.hash).not.toBe(acc.hash);
    accumulatorDigest(next);
    appendMessages(acc, [hi, hello, hi]);
    expect(exportAccumulator(acc)).toEqual(before);
    expect(acc.count).toBe(1);
    expect(accumulatorDigest(acc)).toBe(HELLO);
    expect(accumulatorDigest(appendMessage(acc, hi))).toBe(HELLO_HI);
  });

  it('hands its hash over to the first accumulator appended to it, and rebuilds its own when appended to again', () => {
    const acc = fold([hello]);
    const held = acc.hash;
    const next = appendMessage(acc, hi);
    expect(next.hash).toBe(held); // taken over, not copied
    expect(acc.hash).not.toBe(held); // rebuilt from the trail, as our resumable SHA-256
    expect(acc.hash).toBeInstanceOf(ResumableSha256);
    expect(accumulatorDigest(appendMessage(acc, hello))).toBe(transcriptDigest([hello, hello]));
    expect(accumulatorDigest(next)).toBe(HELLO_HI);
    // The empty accumulator is shared: appending copies its hash.
    const empty = emptyAccumulator();
    const emptyHash = empty.hash;
    expect(appendMessage(empty, hello).hash).not.toBe(emptyHash);
    expect(empty.hash).toBe(emptyHash);
  });

  it('accumulatorDigest is memoized and does not consume the state', () => {
    const acc = fold([hello, hi]);
    const d1 = accumulatorDigest(acc);
    expect(accumulatorDigest(acc)).toBe(d1);
    expect(exportAccumulator(acc)).toEqual(exportAccumulator(fold([hello, hi])));
    expect(accumulatorDigest(appendMessage(acc, hello))).toBe(transcriptDigest([hello, hi, hello]));
  });

  it('appendMessages equals folding appendMessage; empty input returns the accumulator', () => {
    const ms = [hello, hi, systemMessage('s'), userText('x')];
    const a = appendMessages(emptyAccumulator(), ms);
    const b = fold(ms);
    expect(exportAccumulator(a)).toEqual(exportAccumulator(b));
    expect(accumulatorDigest(a)).toBe(transcriptDigest(ms));
    const acc = fold([hello]);
    expect(appendMessages(acc, [])).toBe(acc);
    // Any iterable.
    const gen = function* () {
      yield hello;
      yield hi;
    };
    expect(accumulatorDigest(appendMessages(emptyAccumulator(), gen()))).toBe(HELLO_HI);
  });
});

describe('snapshots: exportAccumulator / importAccumulator', () => {
  it('exports the chain words and pending bytes of T without "]" (checked against a reference SHA-256)', () => {
    // Transcripts whose open byte string crosses one and several blocks.
    const transcripts: MessageInput[][] = [[], [hello], [hello, hi], [hello, hi, systemMessage('x'.repeat(200)), userText('é😀')]];
    for (const ms of transcripts) {
      const bytes = openBytes(ms);
      const acc = fold(ms);
      const ref = midstate(bytes);
      const snap = exportAccumulator(acc);
      expect(snap).toEqual({ count: ms.length, byteLength: bytes.length, chain: wordsHex(ref.chain), tail: Buffer.from(ref.tail).toString('hex') });
      expect(decodeWith(ExportedAccumulatorCodec, snap)).toEqual(E.right(snap));
    }
  });

  it('a snapshot taken by @noble/hashes 2.4.0 still imports and continues correctly', () => {
    // [userText('hello'), assistantText('hi')] without "]": 178 bytes, two full blocks,
    // as exported by this version and persisted in a store snapshot.
    const stored: ExportedAccumulator = {
      count: 2,
      byteLength: 178,
      chain: 'bc0f172edbbf18112852daf77b5227faf1a802480c5686383d4e0b6d0b5e463b',
      tail: '657874227d5d2c22726f6c65223a22617373697374616e74222c2273746f70526561736f6e223a22656e645f7475726e227d',
    };
    // The literal is the FIPS 180-4 midstate, computed independently.
    const open = openBytes([hello, hi]);
    expect(open.length).toBe(stored.byteLength);
    expect(stored.chain).toBe(wordsHex(midstate(open).chain));
    expect(stored.tail).toBe(Buffer.from(open.subarray(128)).toString('hex'));
    const imported = importAccumulator(JSON.parse(JSON.stringify(stored)));
    if (E.isLeft(imported)) throw new Error(imported.left.message);
    expect(accumulatorDigest(imported.right)).toBe(HELLO_HI);
    expect(accumulatorDigest(appendMessage(imported.right, hello))).toBe(transcriptDigest([hello, hi, hello]));
    expect(exportAccumulator(imported.right)).toEqual(stored);
    expect(exportAccumulator(fold([hello, hi]))).toEqual(stored);
  });

  it('import of an export continues like the original, at every length from 1 to 200 bytes of padding', () => {
    for (let n = 0; n <= 200; n++) {
      const ms = [hello, systemMessage('y'.repeat(n))];
      const acc = fold(ms);
      const r = importAccumulator(JSON.parse(JSON.stringify(exportAccumulator(acc))));
      if (E.isLeft(r)) throw new Error(r.left.message);
      expect(Object.isFrozen(r.right)).toBe(true);
      expect(r.right.count).toBe(acc.count);
      expect(r.right.byteLength).toBe(acc.byteLength);
      expect(accumulatorDigest(r.right)).toBe(accumulatorDigest(acc));
      expect(accumulatorDigest(appendMessage(r.right, hi))).toBe(transcriptDigest([...ms, hi]));
    }
  });

  it('settleAccumulator changes no export: settled heads, accumulators built inside one append, imported ones, in any order', () => {
    const texts = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? userText(`question ${i} ${'é'.repeat(i)}`) : assistantText(`answer ${i} ${'x'.repeat(3 * i)}`)));
    const expected = (ms: readonly MessageInput[]) => {
      const ref = midstate(openBytes(ms));
      return { count: ms.length, byteLength: openBytes(ms).length, chain: wordsHex(ref.chain), tail: Buffer.from(ref.tail).toString('hex') };
    };
    // One message at a time, settling every head (what the store does after each batch).
    let acc = emptyAccumulator();
    const heads: DigestAccumulator[] = [];
    for (const m of texts) {
      acc = appendMessage(acc, m);
      settleAccumulator(acc);
      heads.push(acc);
    }
    heads.forEach((h, i) => expect(exportAccumulator(h), `head ${i + 1}`).toEqual(expected(texts.slice(0, i + 1))));
    // Several messages per append: settling the newest gives the ones built on the way their state too.
    const steps: DigestAccumulator[] = [];
    let multi = emptyAccumulator();
    for (let i = 0; i < texts.length; i += 8) {
      for (const m of texts.slice(i, i + 8)) steps.push((multi = appendMessage(multi, m)));
      settleAccumulator(multi);
    }
    for (const i of [39, 3, 17, 0, 8]) expect(exportAccumulator(steps[i]!), `step ${i + 1}`).toEqual(expected(texts.slice(0, i + 1)));
    // An imported accumulator (our resumable SHA-256 underneath) exports from the hash itself.
    const r = importAccumulator(JSON.parse(JSON.stringify(exportAccumulator(heads[9]!))));
    if (E.isLeft(r)) throw new Error(r.left.message);
    let cont = r.right;
    for (const m of texts.slice(10, 25)) cont = appendMessage(cont, m);
    const unsettled = appendMessage(cont, texts[25]!);
    settleAccumulator(cont);
    expect(exportAccumulator(unsettled)).toEqual(expected(texts.slice(0, 26)));
    expect(exportAccumulator(cont)).toEqual(expected(texts.slice(0, 25)));
    expect(accumulatorDigest(cont)).toBe(transcriptDigest(texts.slice(0, 25)));
    // Settling twice, or an accumulator that absorbed nothing, changes nothing.
    settleAccumulator(cont);
    settleAccumulator(emptyAccumulator());
    expect(exportAccumulator(cont)).toEqual(expected(texts.slice(0, 25)));
    expect(exportAccumulator(emptyAccumulator())).toEqual({ count: 0, byteLength: 1, chain: IV_HEX, tail: '5b' });
  });

  const good = (): ExportedAccumulator => exportAccumulator(fold([hello]));
  const big = (): ExportedAccumulator => exportAccumulator(fold([hello, hi]));
  /** 28 bytes: no block compressed yet. */
  const small = (): ExportedAccumulator => exportAccumulator(fold([systemMessage('')]));

  it.each<[string, () => unknown, string, string]>([
    ['not an object', () => 'snapshot', '$', 'wrong_type'],
    ['an extra key', () => ({ ...good(), version: 1 }), '$.version', 'unknown_field'],
    ['a missing tail', () => (({ tail: _t, ...rest }) => rest)(good()), '$.tail', 'missing_field'],
    ['a negative count', () => ({ ...good(), count: -1 }), '$.count', 'invalid_number'],
    ['a fractional byteLength', () => ({ ...good(), byteLength: 1.5 }), '$.byteLength', 'invalid_number'],
    ['an uppercase chain', () => ({ ...good(), chain: good().chain.toUpperCase() }), '$.chain', 'invalid_value'],
    ['a short chain', () => ({ ...good(), chain: good().chain.slice(2) }), '$.chain', 'invalid_value'],
    ['an odd-length tail', () => ({ ...good(), tail: `${good().tail}0` }), '$.tail', 'invalid_value'],
    ['a non-hex tail', () => ({ ...good(), tail: 'zz' }), '$.tail', 'invalid_value'],
    ['a tail shorter than byteLength mod 64', () => ({ ...good(), tail: good().tail.slice(2) }), '$', 'invalid_value'],
    ['a tail longer than byteLength mod 64', () => ({ ...big(), tail: `${big().tail}00` }), '$', 'invalid_value'],
    ['byteLength 0', () => ({ count: 0, byteLength: 0, chain: IV_HEX, tail: '' }), '$', 'invalid_value'],
    ['count 0 with more than "["', () => ({ ...good(), count: 0 }), '$', 'invalid_value'],
    ['count 1 with only "["', () => ({ count: 1, byteLength: 1, chain: IV_HEX, tail: '5b' }), '$', 'invalid_value'],
    ['more messages than bytes allow', () => ({ ...small(), count: 40 }), '$', 'invalid_value'],
    ['a compressed chain before 64 bytes', () => ({ ...small(), chain: big().chain }), '$', 'invalid_value'],
    ['a tail not starting with "["', () => ({ count: 0, byteLength: 1, chain: IV_HEX, tail: '7b' }), '$', 'invalid_value'],
  ])('importAccumulator rejects %s', (_name, make, path, reason) => {
    expect(importAccumulator(make())).toMatchObject({ _tag: 'Left', left: { _tag: 'DecodeError', path, reason } });
  });
});

describe('ResumableSha256 (the exportable SHA-256 state snapshots use)', () => {
  it('midState() is the chain value, the pending bytes and the length (checked against the reference)', () => {
    for (const n of [0, 1, 63, 64, 65, 127, 128, 129, 300]) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 13 + 5) & 0xff);
      const h = ResumableSha256.create();
      h.update(bytes.subarray(0, Math.floor(n / 3)));
      h.update(bytes.subarray(Math.floor(n / 3)));
      const s = h.midState();
      const ref = midstate(bytes);
      expect(s.length, `length at ${n}`).toBe(n);
      expect(wordsHex(s.chain), `chain at ${n}`).toBe(wordsHex(ref.chain));
      expect(Buffer.from(s.pending).toString('hex')).toBe(Buffer.from(ref.tail).toString('hex'));
      expect(h.digestHex(), `digest at ${n}`).toBe(nodeSha(bytes));
    }
    expect(wordsHex(ResumableSha256.create().midState().chain)).toBe(IV_HEX);
  });

  it('fromMidState resumes a state that finishes the hash correctly; copy() is independent', () => {
    for (const n of [0, 1, 63, 64, 65, 200]) {
      const bytes = new Uint8Array(n + 10).map((_, i) => (i * 7 + 1) & 0xff);
      const ref = midstate(bytes.subarray(0, n));
      const hash = ResumableSha256.fromMidState({ chain: ref.chain, pending: ref.tail, length: n });
      const clone = hash.copy();
      hash.update(bytes.subarray(n));
      expect(hash.digestHex(), `n=${n}`).toBe(nodeSha(bytes));
      clone.update(bytes.subarray(n, n + 3));
      clone.update(bytes.subarray(n + 3));
      expect(clone.digestHex()).toBe(nodeSha(bytes));
    }
    const a = ResumableSha256.create();
    a.update(encoder.encode('[abc'));
    const b = a.copy();
    b.update(encoder.encode('xyz'));
    expect(a.midState().length).toBe(4);
    expect(b.midState().length).toBe(7);
    a.update(encoder.encode(']'));
    expect(a.digestHex()).toBe(nodeSha(encoder.encode('[abc]')));
  });
});

describe('accumulators on either hashing port', () => {
  it('give the same digests and the same snapshot form with node:crypto and @noble/hashes', () => {
    const ms = [hello, hi, systemMessage('z'.repeat(150)), userText('é😀')];
    const viaNode = appendMessages(emptyAccumulator(nodeSha256Port), ms);
    const viaNoble = appendMessages(emptyAccumulator(nobleSha256), ms);
    expect(accumulatorDigest(viaNode)).toBe(transcriptDigest(ms));
    expect(accumulatorDigest(viaNoble)).toBe(transcriptDigest(ms));
    expect(exportAccumulator(viaNode)).toEqual(exportAccumulator(viaNoble));
    // Exporting twice along one chain reuses the first export.
    const longer = appendMessage(viaNode, hello);
    expect(exportAccumulator(longer)).toEqual(exportAccumulator(fold([...ms, hello])));
  });
});
