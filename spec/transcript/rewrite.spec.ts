/**
 * Rewrite invariants (revisions.md §3–§5) for random shape-valid transcripts and
 * random valid rewrites.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { stampMessage, transcriptDigest, type Message } from '../../src/model/index.ts';
import {
  appendToTranscript,
  historyFromRewriteRecords,
  historyWithCommit,
  historyWithHead,
  planRewrite,
  replaceSpan,
  rewriteRecordFor,
  transcriptFromMessages,
  transcriptMessages,
  transcriptRevision,
  validateRewriteRecord,
  type TranscriptHistoryState,
  type TranscriptRewriteRecord,
} from '../../src/transcript/index.ts';
import { arbOps, arbTranscriptWithRewrite } from './arbitraries.ts';
import { checkCompaction } from '../../src/testing/index.ts';

const AT = 1_000;

/** Replaces message `i` of `ms` by a notice that differs from it. */
const tamper = (m: Message): Message => ({ role: 'system_notice', kind: 'tamper', text: `${m.role}:${JSON.stringify(m)}`, createdAt: m.createdAt });

const recomputed = (rec: TranscriptRewriteRecord): TranscriptRewriteRecord => {
  const parentRevision = transcriptDigest(rec.parentBody.messages);
  const revision = transcriptDigest(rec.revisionBody.messages);
  return {
    commit: { ...rec.commit, parentRevision, revision },
    parentBody: { ...rec.parentBody, revision: parentRevision },
    revisionBody: { ...rec.revisionBody, revision, parentRevision },
  };
};

describe('rewrite properties', () => {
  it('a valid rewrite keeps the rewrite invariants (checkCompaction), commits, and counts messages', async () => {
    await fc.assert(
      fc.asyncProperty(arbTranscriptWithRewrite(), async ({ messages, start, end, replacement }) => {
        const request = { selection: { type: 'message_range' as const, start, end }, replacement, reason: { kind: 'spec' } };
        const stamped = replacement.map((m) => stampMessage(m, AT));
        const want = [...messages.slice(0, start), ...stamped, ...messages.slice(end)];
        const isNoOp = transcriptDigest(want) === transcriptDigest(messages);
        // pairing, prefix and suffix kept, no-op refused, record valid: stated once, in palimpsest/testing
        const violation = await checkCompaction(() => request, messages, { at: AT, keepPrefix: start, keepSuffix: messages.length - end });
        expect(violation).toEqual(isNoOp ? expect.objectContaining({ invariant: 'no_op' }) : undefined);
        const planned = planRewrite(transcriptFromMessages(messages), request, AT);
        if (isNoOp) {
          expect(E.isLeft(planned) && planned.left).toMatchObject({ _tag: 'NoOpRewrite', revision: transcriptDigest(messages) });
          return;
        }
        const { transcript, commit } = right(planned);
        expect(transcriptDigest(transcriptMessages(transcript))).toBe(transcriptDigest(want));
        expect(commit.messagesBefore).toBe(messages.length);
        expect(commit.messagesAfter).toBe(messages.length - (end - start) + replacement.length);
        expect(commit.originalSpanDigest).toBe(transcriptDigest(messages.slice(start, end)));
        expect(commit.replacementDigest).toBe(transcriptDigest(stamped));
        const record = rewriteRecordFor(messages, commit, 0, AT, transcriptMessages(transcript));
        expect(right(historyFromRewriteRecords([record])).head).toBe(commit.revision);
      }),
      { numRuns: 150 },
    );
  });

  it('any single-message tamper outside the span is rejected, even with recomputed revisions', () => {
    fc.assert(
      fc.property(
        arbTranscriptWithRewrite(),
        fc.constantFrom('parentBody' as const, 'revisionBody' as const),
        fc.nat(),
        ({ messages, start, end, replacement }, side, pick) => {
          const planned = planRewrite(transcriptFromMessages(messages), { selection: { type: 'message_range', start, end }, replacement, reason: { kind: 'spec' } }, AT);
          fc.pre(E.isRight(planned));
          if (E.isLeft(planned)) return;
          const { transcript, commit } = planned.right;
          const record = structuredClone(rewriteRecordFor(messages, commit, 0, AT, transcriptMessages(transcript)));
          const body = record[side].messages;
          const [spanStart, spanEnd] = side === 'parentBody' ? [start, end] : [start, start + replacement.length];
          const outside = body.map((_, i) => i).filter((i) => i < spanStart || i >= spanEnd);
          fc.pre(outside.length > 0);
          const i = outside[pick % outside.length]!;
          body[i] = tamper(body[i]!);
          const forged = recomputed(record);
          const r = validateRewriteRecord(forged);
          expect(E.isLeft(r)).toBe(true);
          if (E.isLeft(r)) {
            expect(r.left._tag).toBe('HistoryStateMalformed');
            expect(r.left._tag === 'HistoryStateMalformed' && r.left.reason).toContain(i < spanStart ? 'before the selected span' : 'after the selected span');
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('appends and rewrites: the history rebuilt from records equals the maintained one, and replay reproduces every revision', () => {
    fc.assert(
      fc.property(arbOps(6), (ops) => {
        let turns: Message[][] = [];
        let t = transcriptFromMessages([]);
        let history: TranscriptHistoryState | undefined = historyWithHead(undefined, transcriptRevision(t));
        let headSince = 0;
        let at = 0;
        const records: TranscriptRewriteRecord[] = [];
        for (const op of ops) {
          at += 1;
          if (op.kind === 'append') {
            t = appendToTranscript(t, op.turns.flat());
            turns = [...turns, ...op.turns];
            history = historyWithHead(history, transcriptRevision(t));
            headSince = at;
            continue;
          }
          const a = op.a % (turns.length + 1);
          const b = op.b % (turns.length + 1);
          const [s, e] = a <= b ? [a, b] : [b, a];
          const idx = (k: number) => turns.slice(0, k).reduce((n, x) => n + x.length, 0);
          const planned = planRewrite(
            t,
            { selection: { type: 'message_range', start: idx(s), end: idx(e) }, replacement: op.turns.flat(), reason: { kind: 'spec' } },
            at,
          );
          if (E.isLeft(planned)) {
            expect(planned.left._tag).toBe('NoOpRewrite');
            continue;
          }
          records.push(rewriteRecordFor(transcriptMessages(t), planned.right.commit, headSince, at, transcriptMessages(planned.right.transcript)));
          t = planned.right.transcript;
          turns = [...turns.slice(0, s), ...op.turns, ...turns.slice(e)];
          history = historyWithCommit(history, planned.right.commit);
          headSince = at;
        }
        expect(history!.head).toBe(transcriptRevision(t));
        if (records.length === 0) {
          expect(E.isLeft(historyFromRewriteRecords(records))).toBe(true);
          return;
        }
        const rebuilt = right(historyFromRewriteRecords(JSON.parse(JSON.stringify(records)) as unknown[]));
        expect(rebuilt.commits).toEqual(history!.commits);
        // the rebuilt history sees the heads around each rewrite; the maintained one also every append between
        expect(isSubsequence(rebuilt.revisions, history!.revisions)).toBe(true);
        // replay: from the first parent body, append what the next parent adds, apply the span edit
        let replay = transcriptFromMessages(records[0]!.parentBody.messages);
        for (const rec of records) {
          const have = transcriptMessages(replay).length;
          replay = appendToTranscript(replay, rec.parentBody.messages.slice(have));
          expect(transcriptRevision(replay)).toBe(rec.commit.parentRevision);
          const { start, end } = rec.commit.selection;
          const n = rec.commit.messagesAfter - (rec.commit.messagesBefore - (end - start));
          replay = replaceSpan(replay, start, end, rec.revisionBody.messages.slice(start, start + n));
          expect(transcriptRevision(replay)).toBe(rec.commit.revision);
        }
        expect(rebuilt.head).toBe(records[records.length - 1]!.commit.revision);
      }),
      { numRuns: 80 },
    );
  });

  it('two different rewrites of one parent never chain into one history', () => {
    fc.assert(
      fc.property(arbTranscriptWithRewrite(), arbTranscriptWithRewrite(), ({ messages, start, end, replacement }, other) => {
        const parent = transcriptFromMessages(messages);
        const p1 = planRewrite(parent, { selection: { type: 'message_range', start, end }, replacement, reason: { kind: 'a' } }, AT);
        const s2 = Math.min(other.start, messages.length);
        const p2 = planRewrite(parent, { selection: { type: 'message_range', start: s2, end: s2 }, replacement: other.replacement, reason: { kind: 'b' } }, AT);
        fc.pre(E.isRight(p1) && E.isRight(p2));
        if (E.isLeft(p1) || E.isLeft(p2)) return;
        fc.pre(p1.right.commit.revision !== p2.right.commit.revision);
        const r1 = rewriteRecordFor(messages, p1.right.commit, 0, AT, transcriptMessages(p1.right.transcript));
        const r2 = rewriteRecordFor(messages, p2.right.commit, 0, AT, transcriptMessages(p2.right.transcript));
        const h = historyFromRewriteRecords([r1, r2]);
        // r2's parent is r1's parent; it can only chain if r1's result were a prefix of that parent
        const r1Result = transcriptMessages(p1.right.transcript);
        const extendsHead = r1Result.length <= messages.length && transcriptDigest(messages.slice(0, r1Result.length)) === p1.right.commit.revision;
        if (extendsHead) {
          expect(E.isRight(h)).toBe(true);
        } else {
          expect(E.isLeft(h) && h.left._tag === 'HistoryStateMalformed' && h.left.reason).toContain('does not extend transcript head');
        }
      }),
      { numRuns: 60 },
    );
  });
});

function isSubsequence<A>(xs: readonly A[], ys: readonly A[]): boolean {
  let j = 0;
  for (const y of ys) if (j < xs.length && xs[j] === y) j++;
  return j === xs.length;
}

function right<L, A>(r: E.Either<L, A>): A {
  if (E.isLeft(r)) throw new Error(`expected Right, got ${JSON.stringify(r.left)}`);
  return r.right;
}
