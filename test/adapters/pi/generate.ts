/**
 * Generated pi v3 session files for crash tests and the import benchmark: a
 * conversation of `messages` messages in turns of user → assistant (tool call)
 * → tool result → assistant (text), with a label, a model change and a
 * compaction every so often, and `branches` extra branches that leave the main
 * line at evenly spaced user messages. Deterministic for a given `seed`.
 */
import { createWriteStream } from 'node:fs';

/** Options of `generatePiLines`: total message entries (≥ 4), extra branches, filler characters per text, seed. */
export interface GenerateOptions {
  readonly messages: number;
  readonly branches?: number;
  readonly textChars?: number;
  readonly seed?: number;
  /** A label every this many turns (default 25). */
  readonly labelEvery?: number;
}

const usage = (i: number) => ({
  input: 100 + (i % 50),
  output: 20 + (i % 7),
  cacheRead: 10,
  cacheWrite: 0,
  totalTokens: 130 + (i % 50) + (i % 7),
  cost: { input: 0.0003, output: 0.0003, cacheRead: 0.00001, cacheWrite: 0, total: 0.00061 },
});

/** The lines (without newline) of a generated pi v3 file; an iterator, so a large file never sits in memory. */
export function* generatePiLines(opts: GenerateOptions): Generator<string> {
  const seed = opts.seed ?? 1;
  const filler = 'lorem ipsum '.repeat(Math.ceil((opts.textChars ?? 200) / 12)).slice(0, opts.textChars ?? 200);
  const t0 = Date.UTC(2025, 0, 1) + seed * 1000;
  let n = 0;
  const id = (): string => (++n).toString(16).padStart(8, '0');
  const ts = (): string => new Date(t0 + n * 1000).toISOString();
  yield JSON.stringify({ type: 'session', version: 3, id: `gen-${seed}`, timestamp: new Date(t0).toISOString(), cwd: '/work/gen' });
  let parent: string | null = null;
  const entry = (body: Record<string, unknown>): string => {
    const e = { type: body['type'], id: id(), parentId: parent, timestamp: ts(), ...body };
    parent = e.id;
    return JSON.stringify(e);
  };
  const branches = opts.branches ?? 0;
  const labelEvery = opts.labelEvery ?? 25;
  const turns = Math.ceil(opts.messages / 4);
  const branchAt = new Set<number>();
  for (let b = 1; b <= branches; b++) branchAt.add(Math.floor((turns * b) / (branches + 1)));
  const branchPoints: string[] = [];
  let m = 0;
  let turn = 0;
  while (m < opts.messages) {
    const call = `call_${seed}_${turn}`;
    yield entry({ type: 'message', message: { role: 'user', content: `question ${turn} ${filler}`, timestamp: t0 + n * 1000 } });
    const userId = parent!;
    m++;
    if (branchAt.has(turn)) branchPoints.push(userId);
    yield entry({
      type: 'message',
      message: {
        role: 'assistant',
        content: [{ type: 'toolCall', id: call, name: 'bash', arguments: { command: `echo ${turn}`, timeout: 5 } }],
        api: 'anthropic-messages',
        provider: 'anthropic',
        model: 'claude-sonnet-4-5',
        usage: usage(turn),
        stopReason: 'toolUse',
        timestamp: t0 + n * 1000,
      },
    });
    yield entry({ type: 'message', message: { role: 'toolResult', toolCallId: call, toolName: 'bash', content: [{ type: 'text', text: `${turn} ${filler}` }], isError: false, timestamp: t0 + n * 1000 } });
    yield entry({
      type: 'message',
      message: {
        role: 'assistant',
        content: [{ type: 'text', text: `answer ${turn} ${filler}` }],
        api: 'anthropic-messages',
        provider: 'anthropic',
        model: 'claude-sonnet-4-5',
        usage: usage(turn + 1),
        stopReason: 'stop',
        timestamp: t0 + n * 1000,
      },
    });
    m += 3;
    if (turn % labelEvery === 7 % labelEvery) yield entry({ type: 'label', targetId: userId, label: `turn-${turn}` });
    if (turn % 40 === 13) yield entry({ type: 'model_change', provider: 'anthropic', modelId: `model-${turn}` });
    if (turn % 100 === 60) yield entry({ type: 'compaction', summary: `summary up to turn ${turn}`, firstKeptEntryId: userId, tokensBefore: 1000 + turn });
    turn++;
  }
  // Each branch: two more messages from its branch point.
  for (const [i, p] of branchPoints.entries()) {
    parent = p;
    yield entry({ type: 'branch_summary', fromId: p, summary: `branch ${i}` });
    yield entry({ type: 'message', message: { role: 'user', content: `branch ${i} question`, timestamp: t0 + n * 1000 } });
    yield entry({
      type: 'message',
      message: {
        role: 'assistant',
        content: [{ type: 'text', text: `branch ${i} answer` }],
        api: 'anthropic-messages',
        provider: 'anthropic',
        model: 'claude-sonnet-4-5',
        usage: usage(i),
        stopReason: 'stop',
        timestamp: t0 + n * 1000,
      },
    });
  }
}

/** The generated file as one string. */
export const generatePiText = (opts: GenerateOptions): string => [...generatePiLines(opts)].map((l) => `${l}\n`).join('');

/** Writes the generated file to `file` line by line (bounded memory); resolves with its size in bytes. */
export const writeGeneratedPiFile = async (file: string, opts: GenerateOptions): Promise<number> => {
  const out = createWriteStream(file);
  let bytes = 0;
  for (const line of generatePiLines(opts)) {
    const chunk = `${line}\n`;
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  return bytes;
};
