/**
 * Test helpers for the pi adapter: a local transcript shape check (revisions.md §2),
 * JSONL builders and a parse → plan pipeline.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Message } from '../../../src/model/message.ts';
import type { Json } from '../../../src/model/json.ts';
import { addUsage, emptyUsage, type Usage } from '../../../src/model/usage.ts';
import { parsePiJsonl } from '../../../src/adapters/pi/parse.ts';
import { planPiImport, plannedMessages, type PiImportPlan, type PiPlanSession } from '../../../src/adapters/pi/plan.ts';
import type { PiImportError } from '../../../src/adapters/pi/report.ts';

/**
 * revisions.md §2, full form: a `tool_results` message directly follows an
 * assistant message with tool uses and resolves exactly its ids (no duplicates on
 * either side); an assistant message with tool uses is directly followed by
 * `tool_results`. Returns the first violation, or undefined.
 */
export const shapeViolation = (messages: readonly Message[]): string | undefined => {
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role === 'tool_results') {
      const prev = messages[i - 1];
      const uses = prev?.role === 'assistant' ? prev.content.filter((b) => b.type === 'tool_use').map((b) => (b as { id: string }).id) : [];
      if (uses.length === 0) return `tool_results at ${i} does not follow an assistant message with tool uses`;
      const ids = m.results.map((r) => r.toolUseId);
      if (new Set(ids).size !== ids.length) return `tool_results at ${i} has duplicate ids`;
      if (new Set(uses).size !== uses.length) return `assistant at ${i - 1} has duplicate tool use ids`;
      if (ids.length !== uses.length || !uses.every((u) => ids.includes(u))) return `tool_results at ${i} resolves {${ids.join(', ')}}, expected {${uses.join(', ')}}`;
    }
    if (m.role === 'assistant' && m.content.some((b) => b.type === 'tool_use')) {
      if (messages[i + 1]?.role !== 'tool_results') return `assistant at ${i} has tool uses and is not followed by tool_results`;
    }
  }
  return undefined;
};

/** JSONL text: one JSON line per value, each ending in a newline. */
export const jsonl = (...values: unknown[]): string => values.map((v) => `${JSON.stringify(v)}\n`).join('');

/** Parses and plans, throwing on an error (for tests that expect success). */
export const importText = (text: string, file = 'fixture.jsonl'): PiImportPlan => {
  const r = importEither(text, file);
  if (E.isLeft(r)) throw new Error(`import failed: ${r.left.message}`);
  return r.right;
};

/** Parses and plans. */
export const importEither = (text: string, file = 'fixture.jsonl'): E.Either<PiImportError, PiImportPlan> =>
  E.chain(planPiImport)(parsePiJsonl(text, file));

/** The final messages of a planned session. */
export const finalMessages = (plan: PiImportPlan, key: string): Message[] => plannedMessages(plan.sessions, key);

/** The metadata a planned session ends with (its start metadata plus its metadata ops). */
export const finalMetadata = (s: PiPlanSession): Record<string, Json> => {
  const m = { ...s.metadata };
  for (const op of s.ops) if (op.op === 'metadata_set') m[op.key] = op.value;
  return m;
};

/** Sum of the usage ops of a session. */
export const usageOpsSum = (s: PiPlanSession): Usage => s.ops.reduce((u, op) => (op.op === 'usage' ? addUsage(u, op.usage) : u), emptyUsage);

const iso = (n: number): string => new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString();
/** ISO time `n` seconds after 2025-01-01T00:00:00Z. */
export const at = iso;
/** ms of `at(n)`. */
export const ms = (n: number): number => Date.UTC(2025, 0, 1, 0, 0, n);

/** A pi usage object (tokens) with zero cost. */
export const piUsage = (input: number, output: number, cacheRead = 0, cacheWrite = 0) => ({
  input,
  output,
  cacheRead,
  cacheWrite,
  cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
});

/** A pi assistant message. */
export const piAssistant = (content: unknown[], n: number, stopReason = 'stop', extra: Record<string, unknown> = {}) => ({
  role: 'assistant',
  content,
  api: 'anthropic-messages',
  provider: 'anthropic',
  model: 'claude-sonnet-4-5',
  usage: piUsage(10 + n, 5, 2, 1),
  stopReason,
  timestamp: ms(n),
  ...extra,
});
/** A pi user message. */
export const piUser = (text: string, n: number) => ({ role: 'user', content: [{ type: 'text', text }], timestamp: ms(n) });
/** A pi tool call block. */
export const piCall = (id: string, name = 'bash', args: unknown = { command: 'ls' }) => ({ type: 'toolCall', id, name, arguments: args });
/** A pi toolResult message. */
export const piResult = (id: string, text: string, n: number, extra: Record<string, unknown> = {}) => ({
  role: 'toolResult',
  toolCallId: id,
  toolName: 'bash',
  content: [{ type: 'text', text }],
  isError: false,
  timestamp: ms(n),
  ...extra,
});
