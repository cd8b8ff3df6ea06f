/**
 * What each command returns to its caller, by command type: `ResultOf<C>`.
 *
 * The map mirrors the reducer (`reduce.ts`): core results are listed here,
 * each machine contributes its own `*Results` interface. A command type
 * missing from the map fails the type check below, so adding a command without
 * saying what it returns does not compile.
 */
import type { MessageInput } from '../model/message.ts';
import type { Usage } from '../model/usage.ts';
import type { TranscriptRewriteCommit } from '../transcript/index.ts';
import type { DeferredTurnResults } from '../machines/deferredTurn.ts';
import type { LifecycleResults } from '../machines/lifecycle.ts';
import type { RealtimeApplyOutcome } from '../machines/realtime.ts';
import type { SystemContextResults } from '../machines/systemContext.ts';
import type { ToolVisibilityResults } from '../machines/toolVisibility.ts';
import type { CommandOf, SessionCommand } from './commands.ts';

/** The results of the core (non-machine) commands. */
export interface CoreResults {
  readonly session_created: undefined;
  readonly session_forked: undefined;
  readonly messages_appended: undefined;
  /** The rewrite commit the reducer computed (revisions.md §3). */
  readonly transcript_rewritten: TranscriptRewriteCommit;
  readonly system_prompt_set: undefined;
  readonly synthetic_notices_replaced: undefined;
  /** The cumulative usage after the command. */
  readonly usage_recorded: Usage;
  readonly metadata_set: undefined;
  readonly metadata_removed: undefined;
  /** `true` when the key was written, `false` when it was already present (inert). */
  readonly metadata_backfilled: boolean;
  readonly session_touched: undefined;
}

/** The realtime machine's results (realtime.md §4). */
export interface RealtimeResults {
  readonly realtime_transcript_event: RealtimeApplyOutcome;
  readonly realtime_transcript_flush: RealtimeApplyOutcome;
}

/** Every command type mapped to its result type. */
export interface CommandResults extends CoreResults, LifecycleResults, DeferredTurnResults, SystemContextResults, ToolVisibilityResults, RealtimeResults {}

type _Complete = Exclude<SessionCommand['type'], keyof CommandResults> extends never ? true : never;
type _NoExtra = Exclude<keyof CommandResults, SessionCommand['type']> extends never ? true : never;
const _complete: [_Complete, _NoExtra] = [true, true];
void _complete;

/**
 * A command as a caller may write it: a `SessionCommand`, except that messages
 * (`messages_appended.messages`, `transcript_rewritten.replacement`,
 * `synthetic_notices_replaced.replacements`) may omit `createdAt`; `apply`
 * stamps them with the record time.
 */
export type CommandInput =
  | Exclude<SessionCommand, { type: 'messages_appended' | 'transcript_rewritten' | 'synthetic_notices_replaced' }>
  | (Omit<CommandOf<'messages_appended'>, 'messages'> & { readonly messages: readonly MessageInput[] })
  | (Omit<CommandOf<'transcript_rewritten'>, 'replacement'> & { readonly replacement: readonly MessageInput[] })
  | (Omit<CommandOf<'synthetic_notices_replaced'>, 'replacements'> & { readonly replacements: readonly MessageInput[] });

/** The result of a command (or of a command type). */
export type ResultOf<C extends { readonly type: SessionCommand['type'] } | SessionCommand['type']> = C extends SessionCommand['type']
  ? CommandResults[C]
  : C extends { readonly type: infer T extends SessionCommand['type'] }
    ? CommandResults[T]
    : never;

/** The result of a value given as a command: `ResultOf` for a typed command, `unknown` for a value of unknown shape (decoded at run time). */
export type ResultOfInput<C> = C extends CommandInput ? ResultOf<C> : unknown;

/** The results of a list of commands, position by position. */
export type ResultsOf<Cs extends readonly unknown[]> = { readonly [K in keyof Cs]: ResultOfInput<Cs[K]> };
