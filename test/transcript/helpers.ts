/** Small builders shared by the transcript tests. */
import * as E from 'fp-ts/lib/Either.js';
import { assistantToolCalls, stampMessage, toolResult, toolResults, type Message, type MessageInput } from '../../src/model/index.ts';

/** Stamps inputs with `createdAt = at`. */
export const stamp = (ms: readonly MessageInput[], at = 1): Message[] => ms.map((m) => stampMessage(m, at));
/** An assistant message calling tool `read` once per id. */
export const calls = (...ids: string[]): MessageInput => assistantToolCalls(ids.map((id) => ({ id, name: 'read', args: { path: id } })));
/** A tool_results message answering each id. */
export const results = (...ids: string[]): MessageInput => toolResults(ids.map((id) => toolResult(id, `out ${id}`)));

/** The right side, failing the test on a left. */
export const right = <L, A>(r: E.Either<L, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected Right, got Left ${JSON.stringify(r.left)}`);
  return r.right;
};
/** The left side, failing the test on a right. */
export const left = <L, A>(r: E.Either<L, A>): L => {
  if (E.isRight(r)) throw new Error('expected Left, got Right');
  return r.left;
};
