/**
 * The PostgreSQL backend beside LevelDB, each ratio measured in one run on a
 * throwaway PostgreSQL server (`initdb` in a temp directory, as the tests do;
 * `PALIMPSEST_PG_URL` to use a running server) and LevelDB in temp
 * directories. No budget yet: these figures are what one will be set from
 * (`pass` is always true).
 *
 * | id | ratio |
 * | --- | --- |
 * | B1-pg | durable append throughput on PostgreSQL / on LevelDB (1,000 realistic messages, one per append) |
 * | B4-pg | cold load of a 100,000-record session / of a 1,000-record session, on PostgreSQL (median of 5, freshly opened store) |
 * | B4-pg-level | cold load of the 100,000-record session: PostgreSQL time / LevelDB time |
 * | C1 | 4 writers on 4 sessions (200 appends each, one process): appends/s PostgreSQL / LevelDB |
 * | P4-pg | 1,000 turns message by message: pi's `SessionManager` time / ours on PostgreSQL (`piPeer.ts`, `benchTurns`) |
 * | C2 | 4 writers on one session (200 appends each, retry on SeqConflict, one process): appends/s PostgreSQL / LevelDB |
 */
import { SessionStore, type SessionStore as Store, type StoreTarget } from '../src/store/index.ts';
import type { Message } from '../src/model/index.ts';
import { startThrowawayCluster } from '../test/support/postgresCluster.ts';
import { appendableRealMessages, shortMessages } from './fixtures.ts';
import { must, tempDir, timeMs, type BenchResult } from './lib.ts';
import { benchTurns } from './piPeer.ts';

const cycle = (ms: readonly Message[], n: number): Message[] => Array.from({ length: n }, (_, i) => ms[i % ms.length]!);

const open = async (target: StoreTarget): Promise<Store> => must(await SessionStore.open(target));

const fill = async (store: Store, id: string, messages: readonly Message[], perCall = 1000): Promise<void> => {
  let seq = must(await store.load(id)).seq;
  for (let i = 0; i < messages.length; i += perCall) {
    const commands = messages.slice(i, i + perCall).map((m) => ({ type: 'messages_appended', messages: [m] }));
    seq = must(await store.append(id, commands, { expectedSeq: seq })).session.seq;
  }
};

/** One message per append, `msgs.length` appends (ms). */
const appendEach = async (store: Store, id: string, msgs: readonly Message[]): Promise<number> => {
  must(await store.create({ id }));
  let seq = 1;
  return timeMs(async () => {
    for (const m of msgs) seq = must(await store.append(id, [{ type: 'messages_appended', messages: [m] }], { expectedSeq: seq })).session.seq;
  });
};

/** `writers` concurrent writers, `each` appends of `usage_recorded` each, on their own sessions or on one (retrying on SeqConflict). Returns appends/s and conflicts. */
const contend = async (store: Store, prefix: string, writers: number, each: number, shared: boolean): Promise<{ perSecond: number; conflicts: number }> => {
  const ids = Array.from({ length: writers }, (_, w) => (shared ? `${prefix}-one` : `${prefix}-${w}`));
  for (const id of new Set(ids)) must(await store.create({ id }));
  let conflicts = 0;
  const writer = async (w: number): Promise<void> => {
    const id = ids[w]!;
    let seq = must(await store.load(id)).seq;
    for (let i = 0; i < each; i++) {
      for (;;) {
        const r = await store.append(id, [{ type: 'usage_recorded', usage: { inputTokens: w * 1_000_000 + i, outputTokens: 1 } }], { expectedSeq: seq });
        if (r._tag === 'Right') {
          seq = r.right.session.seq;
          break;
        }
        if (r.left._tag !== 'SeqConflict') throw new Error(`contention step failed: ${r.left.message}`);
        conflicts++;
        seq = r.left.actual;
      }
    }
  };
  const ms = await timeMs(() => Promise.all(Array.from({ length: writers }, (_, w) => writer(w))));
  return { perSecond: (writers * each) / (ms / 1000), conflicts };
};

const coldLoadMs = async (target: StoreTarget, id: string): Promise<number> => {
  const ts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const store = await open(target);
    ts.push(await timeMs(async () => must(await store.load(id))));
    must(await store.close());
  }
  return ts.sort((a, b) => a - b)[2]!;
};

const noBudget = (id: string, ratio: number, detail: string): BenchResult => ({ id, ratio, budget: 'none yet (reported)', pass: true, detail });

/** B1-pg, B4-pg, B4-pg-level, P4-pg, C1, C2. */
export const benchPostgres = async (): Promise<BenchResult[]> => {
  const given = process.env.PALIMPSEST_PG_URL;
  const cluster = given !== undefined && given !== '' ? { url: given, stop: () => undefined } : await startThrowawayCluster();
  const schema = `bench_${process.pid}_${Date.now().toString(36)}`;
  const pg: StoreTarget = { postgres: { connectionString: cluster.url, schema } };
  const dir = tempDir('pg-beside');
  try {
    const level = await open(dir.path);
    const post = await open(pg);
    const msgs = cycle(appendableRealMessages(), 1000);
    const levelMs = await appendEach(level, 'b1', msgs);
    const pgMs = await appendEach(post, 'b1', msgs);
    const c1Level = await contend(level, 'c1', 4, 200, false);
    const c1Pg = await contend(post, 'c1', 4, 200, false);
    const c2Level = await contend(level, 'c2', 4, 200, true);
    const c2Pg = await contend(post, 'c2', 4, 200, true);
    for (const [store, n] of [
      [level, 100_000],
      [post, 100_000],
    ] as const) {
      must(await store.create({ id: 'long' }));
      await fill(store, 'long', shortMessages(n, 'long'));
      must(await store.create({ id: 'k1' }));
      await fill(store, 'k1', shortMessages(999, 'k1'));
    }
    must(await level.close());
    must(await post.close());
    const pgLong = await coldLoadMs(pg, 'long');
    const pgShort = await coldLoadMs(pg, 'k1');
    const levelLong = await coldLoadMs(dir.path, 'long');
    const p4 = await benchTurns('P4-pg', undefined, dir.path, { postgres: { connectionString: cluster.url, schema: `${schema}_p4` } });
    const rate = (x: { perSecond: number; conflicts: number }) => `${x.perSecond.toFixed(0)}/s (${x.conflicts} conflicts)`;
    return [
      noBudget('B1-pg', levelMs / pgMs, `${msgs.length} appends: PostgreSQL ${pgMs.toFixed(0)} ms, LevelDB ${levelMs.toFixed(0)} ms (${(pgMs / msgs.length).toFixed(2)} vs ${(levelMs / msgs.length).toFixed(2)} ms each)`),
      noBudget('B4-pg', pgLong / pgShort, `PostgreSQL cold load call ${pgLong.toFixed(1)} ms (100,000 records) vs ${pgShort.toFixed(1)} ms (1,000 records), medians of 5`),
      noBudget('B4-pg-level', pgLong / levelLong, `cold load of 100,000 records: PostgreSQL ${pgLong.toFixed(1)} ms, LevelDB ${levelLong.toFixed(1)} ms (PostgreSQL reads every chunk of the chains up front)`),
      p4,
      noBudget('C1', c1Pg.perSecond / c1Level.perSecond, `4 writers × 200 appends on 4 sessions: PostgreSQL ${rate(c1Pg)}, LevelDB ${rate(c1Level)}`),
      noBudget('C2', c2Pg.perSecond / c2Level.perSecond, `4 writers × 200 appends on one session: PostgreSQL ${rate(c2Pg)}, LevelDB ${rate(c2Level)}`),
    ];
  } finally {
    dir.cleanup();
    cluster.stop();
  }
};
