/**
 * palimpsest against pi's own session code (`SessionManager` of npm
 * `@mariozechner/pi-coding-agent`, the root dev dependency the pi tests use as
 * their oracle), each figure a ratio of two timings taken in the same run
 * (issue "One write path …", item 7):
 *
 * - P4 one turn (`benchTurns`; P4-pg, the same on PostgreSQL, is in `postgres.ts`): 1,000 turns (a user message and an assistant reply, texts from
 *   the bundled real session), each message appended on its own as pi's agent
 *   does: pi's `appendMessage` (an `appendFileSync` of one JSONL line, no fsync)
 *   against our `store.append` of one `messages_appended` (one LevelDB batch,
 *   hash-chained, no fsync: the store's default `sync: false`). Two durable
 *   writes per turn on each side. Ratio = pi ms / ours ms, budget ≥ 0.5.
 *   Bound: the awaited LevelDB batch per message (libuv's pool thread woken,
 *   the write, the main thread woken), which alone costs more than pi's
 *   `appendFileSync` (~15-25 µs, no thread), then our ~28-39 µs of CPU per
 *   record (bench/RESULTS.md, "B1 and P4"). On LevelDB the detail also
 *   gives the floor: our batches of the timed turns, captured and written raw
 *   to a plain `level` database in the same rounds (`levelCapture.ts`); pi /
 *   raw is the best ratio any store awaiting a LevelDB batch per message
 *   could reach.
 * - P4-turn, for information (no budget): the same 1,000 turns with both
 *   messages of a turn given to one `store.append` (two records, one LevelDB
 *   batch: one durable write per turn), what a caller holding the whole turn
 *   can do; pi's side is P4's (its `SessionManager` has no batch append).
 * - P5 resume a 100,000-message session: pi's `SessionManager.open` +
 *   `buildSessionContext()` against our cold `load` (a freshly opened store, so
 *   nothing is cached) + `session.messages`. Median of 5. Ratio = pi / ours,
 *   budget ≥ 20. Bound: our load is O(1); `messages` parses every chunk
 *   (`JSON.parse` ~40% of our time), the collector copies the 100,000
 *   surviving messages (~30%), freezing them ~10%, reading and hashing the
 *   chunks ~7% (bench/RESULTS.md, "P5").
 * - P6 fork at the middle of that session: pi's `createBranchedSession(middle
 *   entry)` (writes a new file holding the path) against our `forkAt(id,
 *   50_000)` (one genesis record). Median of 5. Ratio = pi / ours, budget ≥ 100.
 *   Bound: main-thread CPU of code that is still cold in a fresh process (5
 *   forks): hashing the 80 messages since checkpoint 195 in JavaScript
 *   (`node:crypto` cannot resume an exported state), decoding and checking the
 *   head snapshot, one message chunk and its index path, one checkpoint chunk
 *   (4 of its checkpoints imported), sealing the genesis, one awaited batch
 *   (bench/RESULTS.md, "P6").
 *
 * Store open/close is outside every timed span; file-system caches are warm for
 * both sides.
 */
import { join } from 'node:path';
import { SessionManager } from '@mariozechner/pi-coding-agent';
import { SessionStore, type StoreTarget } from '../src/store/index.ts';
import { messageText, stampMessage, userText, assistantText, type Message } from '../src/model/index.ts';
import { appendableRealMessages, shortMessages } from './fixtures.ts';
import { captureLevelBatches, openRawLevel } from './levelCapture.ts';
import { medianMs, must, tempDir, timeMs, type BenchResult } from './lib.ts';

const TURNS = 1_000;
const LONG = 100_000;
const RUNS = 5;
const BATCH = 1_000;

/** A pi user message (pi-ai's `UserMessage`). */
const piUser = (text: string, at: number) => ({ role: 'user' as const, content: [{ type: 'text' as const, text }], timestamp: at });
/** A pi assistant message (pi-ai's `AssistantMessage`) with zero usage. */
const piAssistant = (text: string, at: number) => ({
  role: 'assistant' as const,
  content: [{ type: 'text' as const, text }],
  api: 'anthropic-messages' as const,
  provider: 'anthropic',
  model: 'claude-sonnet-4-5',
  usage: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, totalTokens: 0, cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 } },
  stopReason: 'stop' as const,
  timestamp: at,
});

/** The texts of one turn. */
type Turn = { readonly user: string; readonly assistant: string };

/** `TURNS` (user, assistant) text pairs from the real session. */
const turnTexts = (): Turn[] => {
  const real = appendableRealMessages();
  const users = real.filter((m) => m.role === 'user').map(messageText);
  const assistants = real.filter((m) => m.role === 'assistant').map(messageText).filter((t) => t !== '');
  return Array.from({ length: TURNS }, (_, i) => ({ user: users[i % users.length]!, assistant: assistants[i % assistants.length]! }));
};

const ratioRow = (id: string, budget: number | undefined, piMs: number, oursMs: number, what: string, more = ''): BenchResult => {
  const ratio = piMs / oursMs;
  return { id, ratio, budget: budget === undefined ? 'none yet' : `>= ${budget}`, pass: budget === undefined || ratio >= budget, detail: `${what}: pi ${piMs.toFixed(1)} ms, ours ${oursMs.toFixed(1)} ms${more}` };
};

/** Appends `turns` (turn numbers `from`, `from + 1`, …) to pi's `SessionManager` message by message, as pi's agent does. */
const piTurns = (pi: SessionManager, turns: readonly Turn[], from = 0): void => {
  for (const [j, t] of turns.entries()) {
    const i = from + j;
    pi.appendMessage(piUser(t.user, 1_700_000_000_000 + 2 * i));
    pi.appendMessage(piAssistant(t.assistant, 1_700_000_000_001 + 2 * i));
  }
};

/**
 * Appends `turns` (turn numbers `from`, …) to session `sid` of `store`, whose
 * head is `seq`: one `store.append` per message, or per turn when `perTurn`.
 * Returns the new head seq.
 */
const ourTurns = async (store: SessionStore, sid: string, turns: readonly Turn[], perTurn: boolean, seq = 1, from = 0): Promise<number> => {
  for (const [j, t] of turns.entries()) {
    const i = from + j;
    const pair = [stampMessage(userText(t.user), 1_700_000_000_000 + 2 * i), stampMessage(assistantText(t.assistant), 1_700_000_000_001 + 2 * i)];
    if (perTurn) {
      seq = must(await store.append(sid, pair.map((m) => ({ type: 'messages_appended', messages: [m] })), { expectedSeq: seq })).session.seq;
      continue;
    }
    for (const m of pair) seq = must(await store.append(sid, [{ type: 'messages_appended', messages: [m] }], { expectedSeq: seq })).session.seq;
  }
  return seq;
};

/**
 * Untimed turns each side runs first, into another file / session, so neither
 * is timed while the JIT compiles it: as many as the timed ones (with 100, our
 * side was still measurably slower than its steady state, and its first
 * snapshot fell inside the timed turns).
 */
const WARM_UP_TURNS = TURNS;
/** Turns per timed round: pi's and ours alternate, so both sides see the same machine load. */
const ROUND_TURNS = 200;

/**
 * A turn benchmark: 1,000 turns, message by message, in pi's `SessionManager`
 * (a file under `root`) and in our store at `target`; ratio pi ms / ours ms
 * reported as `id` with `budget` (P4 on LevelDB, P4-pg on PostgreSQL). With
 * `perTurn` our side appends each turn's two messages in one `store.append`
 * (two records, one batch) instead of one call per message (P4-turn). Both
 * sides are warmed up first with `WARM_UP_TURNS` untimed turns; the timed
 * turns run in rounds of `ROUND_TURNS`, pi's and ours alternating.
 */
export const benchTurns = async (id: string, budget: number | undefined, root: string, target: StoreTarget, perTurn = false): Promise<BenchResult> => {
  const turns = turnTexts();
  piTurns(SessionManager.create(root, join(root, `pi-turns-${id}-warm-up`)), turns.slice(0, WARM_UP_TURNS));
  // On LevelDB, our batches are captured and replayed raw: the floor no LevelDB store can beat.
  const capture = typeof target === 'string' ? captureLevelBatches() : undefined;
  try {
    const store = must(await SessionStore.open(target));
    must(await store.create({ id: 'turns-warm-up' }));
    await ourTurns(store, 'turns-warm-up', turns.slice(0, WARM_UP_TURNS), perTurn);
    const raw = capture === undefined ? undefined : await openRawLevel(join(root, `raw-turns-${id}`));
    await raw?.replay(capture!.take()); // the raw side's warm-up: the same batches as ours
    const pi = SessionManager.create(root, join(root, `pi-turns-${id}`));
    must(await store.create({ id: 'turns' }));
    capture?.take();
    let seq = 1;
    let piMs = 0;
    let oursMs = 0;
    let rawMs = 0;
    for (let start = 0; start < TURNS; start += ROUND_TURNS) {
      const round = turns.slice(start, start + ROUND_TURNS);
      piMs += await timeMs(() => piTurns(pi, round, start));
      oursMs += await timeMs(async () => {
        seq = await ourTurns(store, 'turns', round, perTurn, seq, start);
      });
      if (raw !== undefined) {
        const batches = capture!.take();
        rawMs += await timeMs(() => raw.replay(batches));
      }
    }
    capture?.stop();
    must(await store.close());
    await raw?.close();
    const ours = perTurn ? 'ours 1 store.append per turn (2 records, 1 batch)' : 'ours 2 store.append per turn (1 batch each)';
    const fsync = typeof target === 'string' ? '; no fsync on either side' : '';
    const floor = raw === undefined ? '' : `; floor: the same batches written raw to level (nothing of ours) ${rawMs.toFixed(1)} ms, pi / raw = ${(piMs / rawMs).toFixed(3)}, the best this ratio can be through LevelDB's awaited batch`;
    return ratioRow(id, budget, piMs, oursMs, `${TURNS} turns in rounds of ${ROUND_TURNS} alternating pi and ours, after ${WARM_UP_TURNS} untimed; pi 2 appendMessage per turn (appendFileSync each), ${ours}${fsync}`, floor);
  } finally {
    capture?.stop();
  }
};

/**
 * Writes the same `LONG`-message conversation to a pi file (one entry per
 * message) and to our store (one record per message, written `BATCH` records
 * per append call); returns the pi file and the middle entry id.
 */
const buildLong = async (root: string): Promise<{ piFile: string; middleId: string; storeDir: string }> => {
  const msgs: Message[] = shortMessages(LONG, 'long');
  const pi = SessionManager.create(root, join(root, 'pi-long'));
  let middleId = '';
  for (const [i, m] of msgs.entries()) {
    const id = pi.appendMessage(m.role === 'user' ? piUser(messageText(m), m.createdAt) : piAssistant(messageText(m), m.createdAt));
    if (i === LONG / 2 - 1) middleId = id;
  }
  const storeDir = join(root, 'ours-long');
  const store = must(await SessionStore.open(storeDir));
  must(await store.create({ id: 'long' }));
  let seq = 1;
  for (let i = 0; i < LONG; i += BATCH) {
    const commands = msgs.slice(i, i + BATCH).map((m) => ({ type: 'messages_appended', messages: [m] }));
    seq = must(await store.append('long', commands, { expectedSeq: seq })).session.seq;
  }
  must(await store.close());
  return { piFile: pi.getSessionFile()!, middleId, storeDir };
};

/** The median time of `f` run on a freshly opened store each time (open and close untimed). */
const medianOnFreshStore = async (dir: string, f: (store: SessionStore) => Promise<void>): Promise<number> => {
  const ts: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const store = must(await SessionStore.open(dir));
    ts.push(await timeMs(() => f(store)));
    must(await store.close());
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)]!;
};

/** P5 and P6 on the 100,000-message session. */
const benchLong = async (root: string): Promise<BenchResult[]> => {
  const { piFile, middleId, storeDir } = await buildLong(root);
  let piMessages = 0;
  const piResumeMs = await medianMs(RUNS, () => {
    piMessages = SessionManager.open(piFile, join(root, 'pi-long')).buildSessionContext().messages.length;
  });
  let ourMessages = 0;
  const ourResumeMs = await medianOnFreshStore(storeDir, async (store) => {
    ourMessages = must(await store.load('long')).messages.length;
  });
  if (piMessages !== LONG || ourMessages !== LONG) throw new Error(`P5: expected ${LONG} messages, pi gave ${piMessages}, ours ${ourMessages}`);
  const opened = SessionManager.open(piFile, join(root, 'pi-long'));
  const piForkMs = await medianMs(RUNS, () => {
    opened.createBranchedSession(middleId);
  });
  let forks = 0;
  const ourForkMs = await medianOnFreshStore(storeDir, async (store) => {
    must(await store.forkAt('long', LONG / 2, { id: `fork-${++forks}` }));
  });
  return [
    ratioRow('P5', 20, piResumeMs, ourResumeMs, `resume ${LONG.toLocaleString('en')} messages (open + context)`),
    ratioRow('P6', 100, piForkMs, ourForkMs, `fork at message ${(LONG / 2).toLocaleString('en')}`),
  ];
};

/** P4 and P4-turn (see the module comment). */
export const benchPiTurns = async (): Promise<BenchResult[]> => {
  const dir = tempDir('pi-turns');
  try {
    return [
      await benchTurns('P4', 0.5, dir.path, join(dir.path, 'ours-turns')),
      await benchTurns('P4-turn', undefined, dir.path, join(dir.path, 'ours-turns-batched'), true),
    ];
  } finally {
    dir.cleanup();
  }
};

/** P5 and P6 (see the module comment). */
export const benchPiLong = async (): Promise<BenchResult[]> => {
  const dir = tempDir('pi-peer');
  try {
    return await benchLong(dir.path);
  } finally {
    dir.cleanup();
  }
};


