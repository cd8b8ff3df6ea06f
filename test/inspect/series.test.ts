/**
 * The chart series (`seriesView`) against the truth: for every record, the
 * transcript the store loads at that seq (its length and text size). The
 * session mixes what the scan reads off the commands (appends, rewrites,
 * records that leave the transcript alone) with what it must replay (a system
 * prompt set mid-way), and a fork starts from its parent's state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactionSummary, messageText, stampMessage } from '../../src/model/index.ts';
import type { SessionStore } from '../../src/store/index.ts';
import { seriesView } from '../../src/inspect/api.ts';
import { appendMessages, cleanupDirs, openStore, right, tempDir } from '../store/helpers.ts';

let store: SessionStore;

const rewrite = async (sid: string, start: number, end: number, text: string): Promise<void> => {
  const s = right(await store.load(sid));
  right(
    await store.append(
      sid,
      [{ type: 'transcript_rewritten', selection: { type: 'message_range', start, end }, replacement: [stampMessage(compactionSummary(text), 9_000)], reason: { kind: 'compaction' }, expectedParentRevision: s.transcriptRevision() }],
      { expectedSeq: s.seq },
    ),
  );
};

const command = async (sid: string, c: unknown): Promise<void> => {
  const s = right(await store.load(sid));
  right(await store.append(sid, [c], { expectedSeq: s.seq }));
};

beforeAll(async () => {
  store = await openStore(tempDir('inspect-series'), { snapshotEvery: 7 });
  right(await store.create({ id: 's' }));
  await appendMessages(store, 's', 0, 10);
  await rewrite('s', 2, 6, 'four messages, summarized');
  await command('s', { type: 'metadata_set', key: 'k', value: 1 });
  await appendMessages(store, 's', 10, 5);
  await command('s', { type: 'system_prompt_set', prompt: 'You are a careful assistant with a long system prompt.' });
  await appendMessages(store, 's', 15, 4);
  await rewrite('s', 1, 9, 'most of it, summarized');
  await appendMessages(store, 's', 19, 3);
  right(await store.fork('s', { id: 'f', atSeq: 12 }));
  await appendMessages(store, 'f', 40, 3);
});

afterAll(async () => {
  await store.close();
  cleanupDirs();
});

/** The truth at every seq: load and count. */
const truth = async (sid: string): Promise<{ messages: number[]; chars: number[] }> => {
  const last = right(await store.load(sid)).seq;
  const out = { messages: [] as number[], chars: [] as number[] };
  for (let seq = 1; seq <= last; seq++) {
    const s = right(await store.load(sid, { atSeq: seq }));
    out.messages.push(s.messageCount);
    out.chars.push(s.messages.reduce((n, m) => n + messageText(m).length, 0));
  }
  return out;
};

describe('seriesView', () => {
  it('gives, per record, the length and text size the store loads there (read off, replayed and forked alike)', async () => {
    for (const sid of ['s', 'f']) {
      const v = right(await seriesView(store, sid));
      const t = await truth(sid);
      expect(v.records.seq).toEqual(t.messages.map((_, k) => k + 1));
      expect(v.records.messages).toEqual(t.messages);
      expect(v.records.chars).toEqual(t.chars);
    }
    const s = right(await seriesView(store, 's'));
    expect(s.commitSeqs).toHaveLength(2);
    // The system prompt made the scan replay from there on: the second rewrite is still at its place.
    expect(s.records.messages.at(-1)).toBe(right(await store.load('s')).messageCount);
  });
});
