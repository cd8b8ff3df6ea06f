/**
 * Names the first tool-pairing fault of a transcript (revisions.md §2) the way a
 * property report needs it: which invariant broke, at which message.
 */
import type { Message } from '../model/index.ts';
import { toolUseIdsOf } from '../transcript/index.ts';

/** A tool-pairing fault at message `index`. */
export interface PairingFault {
  /**
   * `orphaned_tool_result`: a `tool_results` message resolves an id that the
   * assistant message right before it did not call (or follows no tool call);
   * `dangling_tool_call`: an assistant tool call is not answered by the message
   * right after it (missing, another role, or a result missing an id);
   * `duplicate_tool_id`: an id repeated within one call or one result message.
   */
  readonly fault: 'orphaned_tool_result' | 'dangling_tool_call' | 'duplicate_tool_id';
  readonly index: number;
  /** What was found, e.g. `tool_results at message 4 resolves "call_9", which message 3 did not call`. */
  readonly message: string;
}

const firstDuplicate = (ids: readonly string[]): string | undefined => ids.find((id, i) => ids.indexOf(id) !== i);

const checkResults = (m: Extract<Message, { role: 'tool_results' }>, prev: Message | undefined, i: number): PairingFault | undefined => {
  const called = prev === undefined ? [] : toolUseIdsOf(prev);
  const resolved = m.results.map((r) => r.toolUseId);
  const orphan = resolved.find((id) => !called.includes(id));
  if (orphan !== undefined) {
    const why = called.length === 0 ? `which follows no tool call` : `which message ${i - 1} did not call`;
    return { fault: 'orphaned_tool_result', index: i, message: `tool_results at message ${i} resolves ${JSON.stringify(orphan)}, ${why}` };
  }
  const dup = firstDuplicate(resolved);
  if (dup !== undefined) return { fault: 'duplicate_tool_id', index: i, message: `tool_results at message ${i} resolves ${JSON.stringify(dup)} twice` };
  const missing = called.find((id) => !resolved.includes(id));
  if (missing !== undefined) return { fault: 'dangling_tool_call', index: i - 1, message: `tool call ${JSON.stringify(missing)} of message ${i - 1} has no result in message ${i}` };
  return undefined;
};

/** The first pairing fault of `messages`, or `undefined` when every call is answered right after it and every result answers a call. O(n·k) for k calls per message. */
export const firstPairingFault = (messages: readonly Message[]): PairingFault | undefined => {
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const prev = i > 0 ? messages[i - 1] : undefined;
    if (m.role === 'tool_results') {
      const f = checkResults(m, prev, i);
      if (f !== undefined) return f;
      continue;
    }
    const pending = prev === undefined ? [] : toolUseIdsOf(prev);
    if (pending.length > 0) return { fault: 'dangling_tool_call', index: i - 1, message: `tool calls ${JSON.stringify(pending)} of message ${i - 1} are followed by a ${m.role} message, not their results` };
    const dup = firstDuplicate(toolUseIdsOf(m));
    if (dup !== undefined) return { fault: 'duplicate_tool_id', index: i, message: `assistant message ${i} calls ${JSON.stringify(dup)} twice` };
  }
  const last = messages.length - 1;
  const open = last >= 0 ? toolUseIdsOf(messages[last]!) : [];
  if (open.length > 0) return { fault: 'dangling_tool_call', index: last, message: `tool calls ${JSON.stringify(open)} of the last message (${last}) have no results` };
  return undefined;
};
