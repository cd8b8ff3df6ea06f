/**
 * Peer benchmark (issue "Engine and OpenAI ecosystem", item 5): the same
 * 1,000-turn conversation (a user message and an assistant reply per turn, texts
 * from the bundled real pi session) stored by
 *
 * - palimpsest: one atomic store append per turn (two records), hash-chained;
 * - LangGraph (`@langchain/langgraph-checkpoint-sqlite`): one checkpoint per
 *   turn whose state is the whole message list, as a graph with a `messages`
 *   channel stores it;
 * - the OpenAI Agents SDK's `MemorySession` (in memory, nothing durable):
 *   `addItems` per turn.
 *
 * Reported as ratios measured in one run: palimpsest turns/s over each peer's,
 * and bytes on disk per turn (palimpsest's LevelDB directory against
 * LangGraph's SQLite file with its WAL).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import { emptyCheckpoint, uuid6 } from '@langchain/langgraph-checkpoint';
import { MemorySession } from '@openai/agents-core';
import { SessionStore } from '../src/store/index.ts';
import { messageText, stampMessage, userText, assistantText, type Message } from '../src/model/index.ts';
import { appendableRealMessages } from './fixtures.ts';
import { must, tempDir, timeMs, type BenchResult } from './lib.ts';

const TURNS = 1000;

const dirBytes = (path: string): number =>
  readdirSync(path, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? dirBytes(join(path, e.name)) : statSync(join(path, e.name)).size), 0);

/** The conversation: `TURNS` pairs of (user, assistant) texts from the real session. */
const conversation = (): Array<{ user: string; assistant: string }> => {
  const real = appendableRealMessages();
  const users = real.filter((m) => m.role === 'user').map(messageText);
  const assistants = real.filter((m) => m.role === 'assistant').map(messageText).filter((t) => t !== '');
  return Array.from({ length: TURNS }, (_, i) => ({ user: users[i % users.length]!, assistant: assistants[i % assistants.length]! }));
};

/** Runs the three stores on the same conversation and reports the ratios. */
export const benchPeers = async (): Promise<BenchResult[]> => {
  const turns = conversation();
  const dir = tempDir('peer');
  try {
    // palimpsest
    const store = must(await SessionStore.open(join(dir.path, 'palimpsest')));
    must(await store.create({ id: 'peer' }));
    let seq = 1;
    const oursMs = await timeMs(async () => {
      for (const [i, t] of turns.entries()) {
        const at = 1_700_000_000_000 + i;
        const messages: Message[] = [stampMessage(userText(t.user), at), stampMessage(assistantText(t.assistant), at)];
        seq = must(await store.append('peer', messages.map((m) => ({ type: 'messages_appended', messages: [m] })), { expectedSeq: seq })).session.seq;
      }
    });
    must(await store.close());
    const oursBytes = dirBytes(join(dir.path, 'palimpsest'));

    // LangGraph SQLite checkpointer: one checkpoint per turn, the whole message list as state.
    const dbPath = join(dir.path, 'langgraph.sqlite');
    const saver = SqliteSaver.fromConnString(dbPath);
    const history: Array<{ role: string; content: string }> = [];
    let config = { configurable: { thread_id: 'peer', checkpoint_ns: '' } } as Parameters<SqliteSaver['put']>[0];
    const lgMs = await timeMs(async () => {
      for (const [i, t] of turns.entries()) {
        history.push({ role: 'user', content: t.user }, { role: 'assistant', content: t.assistant });
        const checkpoint = { ...emptyCheckpoint(), id: uuid6(-1), ts: new Date(1_700_000_000_000 + i).toISOString() };
        checkpoint.channel_values = { messages: history };
        checkpoint.channel_versions = { messages: i + 1 };
        config = await saver.put(config, checkpoint, { source: 'loop', step: i, parents: {} });
      }
    });
    const lgBytes = readdirSync(dir.path).filter((f) => f.startsWith('langgraph.sqlite')).reduce((n, f) => n + statSync(join(dir.path, f)).size, 0);

    // Agents SDK MemorySession (in memory).
    const memory = new MemorySession({ sessionId: 'peer' });
    const memMs = await timeMs(async () => {
      for (const t of turns) {
        await memory.addItems([
          { role: 'user', content: t.user },
          { role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: t.assistant }] },
        ]);
      }
    });

    const perTurn = (ms: number) => `${((ms * 1000) / TURNS).toFixed(0)} µs/turn`;
    return [
      {
        id: 'P1',
        ratio: lgMs / oursMs,
        budget: 'report (> 1: palimpsest faster)',
        pass: true,
        detail: `${TURNS} turns: palimpsest ${perTurn(oursMs)}, LangGraph SQLite checkpointer ${perTurn(lgMs)}`,
      },
      {
        id: 'P2',
        ratio: memMs / oursMs,
        budget: 'report (durable vs in-memory)',
        pass: true,
        detail: `palimpsest ${perTurn(oursMs)} durable and hash-chained, Agents SDK MemorySession ${perTurn(memMs)} in memory`,
      },
      {
        id: 'P3',
        ratio: lgBytes / oursBytes,
        budget: 'report (> 1: palimpsest smaller)',
        pass: true,
        detail: `bytes on disk per turn: palimpsest ${(oursBytes / TURNS).toFixed(0)}, LangGraph ${(lgBytes / TURNS).toFixed(0)}`,
      },
    ];
  } finally {
    dir.cleanup();
  }
};
