/**
 * Realistic benchmark input: the messages of the bundled real pi session
 * (`data/pi-large-session.jsonl`, 1,014 palimpsest messages after import),
 * and cheap short messages for building long sessions quickly.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { parsePiJsonl, planPiImport } from '../src/adapters/pi/index.ts';
import { assistantText, stampMessage, userText, type Message } from '../src/model/index.ts';

/** Absolute path of the bundled real session. */
export const realSessionPath = fileURLToPath(new URL('../data/pi-large-session.jsonl', import.meta.url));

/** The real session's messages in import order (every append op of its main session). */
export const realMessages = (): Message[] => {
  const parsed = parsePiJsonl(readFileSync(realSessionPath, 'utf8'), realSessionPath);
  if (E.isLeft(parsed)) throw new Error(parsed.left.message);
  const plan = planPiImport(parsed.right);
  if (E.isLeft(plan)) throw new Error(plan.left.message);
  const main = plan.right.sessions[0]!;
  return main.ops.flatMap((op) => (op.op === 'append' ? op.messages : []));
};

/**
 * `n` short alternating user/assistant messages (shape-valid in any number),
 * for building long transcripts quickly; `salt` keeps runs distinct.
 */
export const shortMessages = (n: number, salt: string, at = 1_700_000_000_000): Message[] => {
  const out: Message[] = [];
  for (let i = 0; i < n; i++) out.push(stampMessage(i % 2 === 0 ? userText(`${salt} q${i}`) : assistantText(`${salt} a${i}`), at + i));
  return out;
};

/**
 * Messages of the real session that can be appended one by one after any
 * message that is not awaiting tool results: user and plain assistant turns only.
 */
export const appendableRealMessages = (): Message[] =>
  realMessages().filter((m) => m.role === 'user' || (m.role === 'assistant' && !m.content.some((b) => b.type === 'tool_use')));
