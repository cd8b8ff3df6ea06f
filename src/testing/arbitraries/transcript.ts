/**
 * fast-check arbitraries for shape-valid transcripts (revisions.md §2). The
 * single-value arbitraries (strings, JSON, usage, content blocks, messages of
 * every role) are in `model.ts`; this file adds what needs the pairing rules:
 *
 * - `arbToolExchange`: an assistant message with 1..3 `tool_use` blocks (unique
 *   ids, interleaved with text, transcript and reasoning blocks) followed by a
 *   `tool_results` message resolving exactly those ids in a random order;
 * - `arbTurn`: a self-contained piece of transcript (one non-pairing message or
 *   a tool exchange). Turns concatenate freely: any list of turns is shape-valid,
 *   and so is cutting a list of turns at turn boundaries and splicing in other turns;
 * - `arbTurns` / `arbTranscript`: shape-valid transcripts (as turns / flattened);
 * - `arbPendingToolCall`: an assistant message with tool uses and no result yet
 *   (legal only as the last message, after an append).
 *
 * Every message has `createdAt`; every value decodes with `MessageCodec`.
 */
import fc from 'fast-check';
import type { AssistantBlock, Message, ToolResult } from '../../model/index.ts';
import {
  arbAssistantBlockByType,
  arbContentBlock,
  arbJson,
  arbJsonObject,
  arbMessageByRole,
  arbMillis,
  arbNonEmptyText,
  arbOrigin,
  arbText,
  arbUsage,
} from './model.ts';

type AssistantMessage = Extract<Message, { role: 'assistant' }>;

/** An assistant block that is not a `tool_use`. */
export const arbPlainAssistantBlock: fc.Arbitrary<AssistantBlock> = fc.oneof(
  arbAssistantBlockByType.text,
  arbAssistantBlockByType.transcript,
  arbAssistantBlockByType.reasoning,
);

/** 1..`max` distinct non-empty tool-use ids. */
export const arbToolUseIds = (max = 3): fc.Arbitrary<string[]> =>
  fc.uniqueArray(fc.oneof(arbNonEmptyText, fc.stringMatching(/^call_[a-z0-9]{1,8}$/)), { minLength: 1, maxLength: max });

const optional = { requiredKeys: [] as never[] };

/** Interleaves `b` into `a` keeping both orders, guided by `picks` (true: take from `a`). */
const interleave = <A>(a: readonly A[], b: readonly A[], picks: readonly boolean[]): A[] => {
  const out: A[] = [];
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length || j < b.length) {
    const takeA = j >= b.length || (i < a.length && (picks[k++] ?? true));
    out.push(takeA ? a[i++]! : b[j++]!);
  }
  return out;
};

/** An assistant message whose `tool_use` blocks carry exactly `ids` (in order), mixed with other blocks. */
export const arbAssistantWithToolUses = (ids: readonly string[]): fc.Arbitrary<AssistantMessage> =>
  fc
    .record({
      names: fc.array(arbNonEmptyText, { minLength: ids.length, maxLength: ids.length }),
      args: fc.array(fc.oneof(arbJsonObject, arbJson), { minLength: ids.length, maxLength: ids.length }),
      signatures: fc.array(fc.option(arbText, { nil: undefined }), { minLength: ids.length, maxLength: ids.length }),
      others: fc.array(arbPlainAssistantBlock, { maxLength: 2 }),
      picks: fc.array(fc.boolean(), { maxLength: 6 }),
      stopReason: fc.constantFrom('tool_use' as const, 'tool_use' as const, 'end_turn' as const, 'max_tokens' as const),
      createdAt: arbMillis,
      extra: fc.record({ errorMessage: arbText, origin: arbOrigin, usage: arbUsage }, optional),
    })
    .map(({ names, args, signatures, others, picks, stopReason, createdAt, extra }) => {
      const uses: AssistantBlock[] = ids.map((id, i) => {
        const sig = signatures[i];
        return sig === undefined
          ? { type: 'tool_use', id, name: names[i]!, args: args[i]! }
          : { type: 'tool_use', id, name: names[i]!, args: args[i]!, signature: sig };
      });
      return { role: 'assistant', content: interleave(others, uses, picks), stopReason, createdAt, ...extra };
    });

/** A `tool_results` message resolving exactly `ids`, in a random order. */
export const arbToolResultsFor = (ids: readonly string[]): fc.Arbitrary<Extract<Message, { role: 'tool_results' }>> =>
  fc
    .record({
      order: fc.shuffledSubarray([...ids], { minLength: ids.length, maxLength: ids.length }),
      bodies: fc.array(
        fc.tuple(fc.record({ content: fc.array(arbContentBlock, { maxLength: 2 }), isError: fc.boolean() }), fc.record({ details: arbJson }, optional)),
        { minLength: ids.length, maxLength: ids.length },
      ),
      createdAt: arbMillis,
    })
    .map(({ order, bodies, createdAt }) => ({
      role: 'tool_results' as const,
      results: order.map((toolUseId, i): ToolResult => {
        const [r, o] = bodies[i]!;
        return { toolUseId, ...r, ...o };
      }),
      createdAt,
    }));

/** `[assistant with tool uses, tool_results resolving them]`. */
export const arbToolExchange: fc.Arbitrary<Message[]> = arbToolUseIds().chain((ids) =>
  fc.tuple(arbAssistantWithToolUses(ids), arbToolResultsFor(ids)).map(([a, r]): Message[] => [a, r]),
);

/** An assistant message without `tool_use` blocks (may be empty). */
export const arbPlainAssistant: fc.Arbitrary<AssistantMessage> = arbMessageByRole.assistant.map((m) => ({
  ...m,
  content: m.content.filter((b) => b.type !== 'tool_use'),
}));

/** A message that takes no part in tool pairing: system, notice, user, or assistant without tool uses. */
export const arbStandaloneMessage: fc.Arbitrary<Message> = fc.oneof(
  arbMessageByRole.system,
  arbMessageByRole.system_notice,
  { weight: 3, arbitrary: arbMessageByRole.user },
  { weight: 2, arbitrary: arbPlainAssistant },
);

/** A self-contained, shape-valid piece of transcript: one standalone message or a tool exchange. */
export const arbTurn: fc.Arbitrary<Message[]> = fc.oneof(
  { weight: 3, arbitrary: arbStandaloneMessage.map((m) => [m]) },
  { weight: 1, arbitrary: arbToolExchange },
);

/** Options of `arbTurns` / `arbTranscript`. */
export interface TranscriptArbOptions {
  /** Fewest turns (default 0). */
  readonly minTurns?: number;
  /** Most turns (default 8). */
  readonly maxTurns?: number;
}

/** A shape-valid transcript as a list of turns (cut it only at turn boundaries to keep it valid). */
export const arbTurns = ({ minTurns = 0, maxTurns = 8 }: TranscriptArbOptions = {}): fc.Arbitrary<Message[][]> =>
  fc.array(arbTurn, { minLength: minTurns, maxLength: maxTurns });

/** A shape-valid transcript (`validateTranscriptShape` accepts it). */
export const arbTranscript = (opts: TranscriptArbOptions = {}): fc.Arbitrary<Message[]> => arbTurns(opts).map((turns) => turns.flat());

/** An assistant message with tool uses whose results have not arrived (legal as the last message after an append). */
export const arbPendingToolCall: fc.Arbitrary<AssistantMessage> = arbToolUseIds().chain((ids) => arbAssistantWithToolUses(ids));

