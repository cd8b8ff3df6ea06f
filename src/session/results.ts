/**
 * What each command returns to its caller, by command type: `ResultOf<C>`.
 *
 * The map mirrors the reducer (`reduce.ts`): core results are listed here,
 * each registered machine contributes its own `*Results` interface through its
 * registry entry (`MachineResults`). A command type
 * missing from the map fails the type check below, so adding a command without
 * saying what it returns does not compile.
 */
import type { MessageInput } from '../model/message.ts';
import type { Usage } from '../model/usage.ts';
import type { TranscriptRewriteCommit } from '../transcript/index.ts';
import type { MachineResults } from '../machines/registry.ts';
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

export type { RealtimeResults } from '../machines/realtime.ts';

/** Every command type mapped to its result type: the core commands' and every registered machine's. */
export type CommandResults = CoreResults & MachineResults;

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
