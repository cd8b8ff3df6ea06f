import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assistantText, compactionSummary, Session, userText, type Message } from '../../src/index.ts';
import { diffDigests, diffMessages, diffMessageSpans, messageDigest, type DiffHunk, type MessageDiff } from '../../src/inspect/diff.ts';
import { textDiffs } from '../../src/inspect/textDiff.ts';
import { right } from '../support/either.ts';

const d = (c: string): string => `sha256:${c.repeat(64).slice(0, 64)}`;
const digests = (s: string): string[] => [...s].map(d);

/** Rebuilds the new list from the old one and the hunks (kept from a, added from the hunk). */
const apply = (a: readonly string[], diff: MessageDiff): string[] =>
  diff.hunks.flatMap((h: DiffHunk) => {
    switch (h.kind) {
      case 'kept':
        return a.slice(h.a.start, h.a.end);
      case 'removed':
        return [];
      case 'added':
        return [...h.added];
      case 'replaced':
        return [...h.added];
    }
  });

describe('diffDigests', () => {
  it('reports a span replacement as one replaced hunk between kept prefix and suffix', () => {
    const r = diffDigests(digests('abcdefgh'), digests('abXgh'));
    expect(r.hunks.map((h) => [h.kind, h.a, h.b])).toEqual([
      ['kept', { start: 0, end: 2 }, { start: 0, end: 2 }],
      ['replaced', { start: 2, end: 6 }, { start: 2, end: 3 }],
      ['kept', { start: 6, end: 8 }, { start: 3, end: 5 }],
    ]);
    expect(r.counts).toEqual({ kept: 4, removed: 0, added: 0, replaced: 4, replacements: 1 });
    const replaced = r.hunks[1]!;
    expect(replaced.kind === 'replaced' && replaced.removed).toEqual(digests('cdef'));
    expect(replaced.kind === 'replaced' && replaced.added).toEqual(digests('X'));
  });

  it('reports appends as added and truncation as removed', () => {
    expect(diffDigests(digests('ab'), digests('abcd')).hunks.map((h) => h.kind)).toEqual(['kept', 'added']);
    const cut = diffDigests(digests('abcd'), digests('ab'));
    expect(cut.hunks.map((h) => h.kind)).toEqual(['kept', 'removed']);
    expect(cut.counts).toEqual({ kept: 2, removed: 2, added: 0, replaced: 0, replacements: 0 });
    expect(cut.hunks[1]!.b).toEqual({ start: 2, end: 2 });
  });

  it('finds kept messages inside a changed middle (Myers), not only prefix and suffix', () => {
    const r = diffDigests(digests('aXbYc'), digests('aPbQc'));
    expect(r.hunks.map((h) => h.kind)).toEqual(['kept', 'replaced', 'kept', 'replaced', 'kept']);
    expect(r.counts.kept).toBe(3);
    expect(r.coarse).toBe(false);
  });

  it('falls back to one replaced span when the middle needs more than maxEdits edits', () => {
    const r = diffDigests(digests('aXYZWb'), digests('aPQRSb'), { maxEdits: 2 });
    expect(r.coarse).toBe(true);
    expect(r.hunks.map((h) => h.kind)).toEqual(['kept', 'replaced', 'kept']);
    expect(apply(digests('aXYZWb'), r)).toEqual(digests('aPQRSb'));
  });

  it('diffs empty transcripts to no hunks', () => {
    expect(diffDigests([], []).hunks).toEqual([]);
    expect(diffDigests([], digests('ab')).counts.added).toBe(2);
  });

  it('hunks tile both lists and rebuild the new one from the old (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 30 }), fc.array(fc.constantFrom('a', 'b', 'c', 'e'), { maxLength: 30 }), fc.integer({ min: 0, max: 40 }), (xs, ys, maxEdits) => {
        const a = xs.map(d);
        const b = ys.map(d);
        const r = diffDigests(a, b, { maxEdits });
        expect(apply(a, r)).toEqual(b);
        let i = 0;
        let j = 0;
        for (const h of r.hunks) {
          expect(h.a.start).toBe(i);
          expect(h.b.start).toBe(j);
          if (h.kind === 'kept') expect(b.slice(h.b.start, h.b.end)).toEqual(h.digests);
          if (h.kind === 'removed' || h.kind === 'replaced') expect(a.slice(h.a.start, h.a.end)).toEqual(h.removed);
          i = h.a.end;
          j = h.b.end;
        }
        expect([i, j]).toEqual([a.length, b.length]);
        const n = r.counts;
        expect(n.kept + n.removed + n.replaced).toBe(a.length);
        expect(n.kept + n.added + n.replacements).toBe(b.length);
        // No two neighbouring hunks of one kind (they would have been merged).
        r.hunks.forEach((h, k) => k > 0 && expect(h.kind === 'kept' && r.hunks[k - 1]!.kind === 'kept').toBe(false));
      }),
    );
  });
});

describe('diffMessages and textDiffs on a real rewrite', () => {
  it('diffs a compaction: the summary replaces the span, the rest is kept; the line diff shows both texts', () => {
    let s = Session.create({ clock: () => 1000 });
    s = right(s.pushBatch([userText('What is RFC 8785?'), assistantText('It defines canonical JSON.'), userText('And JCS?'), assistantText('Same thing.')]));
    const before = s.messages;
    const { session } = right(
      s.commitTranscriptRewrite({ selection: { type: 'message_range', start: 0, end: 2 }, replacement: [compactionSummary('RFC 8785 was explained.')], reason: { kind: 'compaction' } }),
    );
    const after = session.messages;
    const r = diffMessages(before, after);
    expect(r.counts).toEqual({ kept: 2, removed: 0, added: 0, replaced: 2, replacements: 1 });
    const h = r.hunks[0]!;
    expect(h.kind).toBe('replaced');
    expect(h.kind === 'replaced' && h.added).toEqual([messageDigest(after[0]!)]);
    const t = textDiffs(r, before, after);
    expect(t).toHaveLength(1);
    const lines = t[0]!.patch.flatMap((p) => p.lines);
    expect(lines).toContain('-What is RFC 8785?');
    expect(lines).toContain('-It defines canonical JSON.');
    expect(lines).toContain('+RFC 8785 was explained.');
    expect(lines).toContain('+#0 user/compaction_summary');
  });
});

describe('diffMessageSpans', () => {
  /** A frozen message per letter; `copy` makes an equal message that is another object. */
  const msg = (c: string): Message => Object.freeze({ ...userText(`text ${c}`), createdAt: 1 }) as Message;
  const copy = (m: Message): Message => Object.freeze({ ...m }) as Message;

  it('is diffMessages without the digests, whether equal messages are the same object or not (property)', () => {
    const pool = new Map([...'abcde'].map((c) => [c, msg(c)]));
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 30 }),
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'e'), fc.boolean()), { maxLength: 30 }),
        fc.integer({ min: 0, max: 40 }),
        (xs, ys, maxEdits) => {
          const a = xs.map((c) => pool.get(c)!);
          const b = ys.map(([c, shared]) => (shared ? pool.get(c)! : copy(pool.get(c)!)));
          const full = diffMessages(a, b, { maxEdits });
          const spans = diffMessageSpans(a, b, { maxEdits });
          expect(spans).toEqual({ ...full, hunks: full.hunks.map((h) => ({ kind: h.kind, a: h.a, b: h.b })) });
        },
      ),
    );
  });
});
