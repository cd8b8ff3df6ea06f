/**
 * The pure session reducer (README §2, machines.md §0).
 *
 *     step(state, command, ctx) : Either<SessionError, { state, result }>
 *     reduce(state, record)     : Either<SessionError, SessionState>
 *
 * Order of checks for every command: (1) the command codec (done by the caller:
 * `decodeCommand` or the record codec); (2) the lifecycle guard, so an archived
 * session refuses every write but `session_revived`/`session_archived`; (3) the
 * command's own rule or machine step. An *inert* outcome returns the very input
 * state object: the shell records nothing and hands back the result.
 *
 * Composition: core commands update the transcript, metadata and usage here;
 * every machine command is routed by its `type` to the registry entry that owns
 * it and run by `stepMachine` (`machineStep.ts`: view, step, fold, effects), so
 * nothing here names a machine. Every machine's `guard` runs before each
 * command the machine does not own (the lifecycle guard: an archived session
 * refuses writes). Any command that adds messages goes through `appendMessages`
 * (`effects.ts`), after which machines react (a pending turn start commits,
 * machines.md §1.4).
 *
 * The functions ending in `With` take the machine routing as a value
 * (`routingOf(registry)`), so the same reducer runs over any registry; `step`,
 * `applyAt`, `createdState` and `forkedState` are them for the registered
 * machines.
 */
import * as E from 'fp-ts/lib/Either.js';
import { canonicalJsonUnsafe } from '../model/json.ts';
import type { Digest } from '../model/scalars.ts';
import {
  applyReplacement,
  appendToTranscript,
  awaitingToolResults,
  checkAppend,
  emptyVec,
  planRewrite,
  replaceSpan,
  takeTranscript,
  transcriptLength,
  transcriptMessages,
  transcriptRevision,
  vecPush,
  type Transcript,
} from '../transcript/index.ts';
import type { StepContext } from '../machines/common.ts';
import { machineRouting, type AnyMachineCommandOf, type MachineErrorOf, type MachineParams, type MachineRouting } from '../machines/registry.ts';
import { coreCommandCodecs, type CommandOf, type CoreCommand, type SessionCommand } from './commands.ts';
import { addUsage, appendMessages, setSystemPrompt, withTranscript } from './effects.ts';
import { brokenLog, reservedMetadataKey, type CoreSessionError, type ForkParentMismatch, type SessionError } from './errors.ts';
import { runGuards, stepMachine } from './machineStep.ts';
import { hasKey, isReservedKey, metadataFrom, metadataWith, metadataWithout } from './metadata.ts';
import { blankStateOf, type SessionCore, type SessionState, type SessionStateOf } from './state.ts';

/** The outcome of one accepted command: the next state (the input object when inert) and the caller's result. */
export interface Step<R = unknown, St = SessionState> {
  readonly state: St;
  readonly result: R;
}

/** Every error the reducer over a registry with parameters `M` returns. */
export type ReduceErrorOf<M extends Record<string, MachineParams>> = CoreSessionError | MachineErrorOf<M>;
/** A command of the reducer over a registry with parameters `M`: a core command or one of its machines'. */
export type CommandOfRegistry<M extends Record<string, MachineParams>> = CoreCommand | (AnyMachineCommandOf<M> & { readonly type: string });

type Out<St, R = unknown> = E.Either<CoreSessionError, Step<R, St>>;
const ok = <St, R>(state: St, result: R): Out<St, R> => E.right({ state, result });

/** Replaces every notice of `kind` with `replacements` appended at the end (machines.md §5). */
const replaceNotices = <St extends SessionCore>(state: St, c: CommandOf<'synthetic_notices_replaced'>): Out<St, undefined> => {
  for (let i = 0; i < c.replacements.length; i++) {
    const r = c.replacements[i]!;
    if (r.role !== 'system_notice' || r.kind !== c.kind) {
      return E.left({
        _tag: 'InvalidTranscriptShape',
        index: i,
        message: `replacement ${i} must be a system_notice of kind ${JSON.stringify(c.kind)}, found ${r.role === 'system_notice' ? `kind ${JSON.stringify(r.kind)}` : r.role}`,
      });
    }
  }
  const all = transcriptMessages(state.transcript);
  const first = all.findIndex((m) => m.role === 'system_notice' && m.kind === c.kind);
  const start = first === -1 ? all.length : first;
  const kept = all.slice(start).filter((m) => !(m.role === 'system_notice' && m.kind === c.kind));
  const base = replaceSpan(state.transcript, start, all.length, kept);
  if (c.replacements.length > 0 && awaitingToolResults(base)) {
    return E.left({
      _tag: 'InvalidTranscriptShape',
      index: transcriptLength(base),
      message: `a notice may not follow the assistant message at ${transcriptLength(base) - 1}, whose tool uses are unresolved`,
    });
  }
  const next = appendToTranscript(base, c.replacements);
  if (transcriptRevision(next) === transcriptRevision(state.transcript)) return ok(state, undefined);
  return ok(withTranscript(state, next), undefined);
};

/** Whether a command is a core command (the machines own every other type). */
const isCoreCommand = (c: { readonly type: string }): c is CoreCommand => Object.prototype.hasOwnProperty.call(coreCommandCodecs, c.type);

/** Applies one non-genesis core command, after the guards. */
const stepCore = <M extends Record<string, MachineParams>, St extends SessionStateOf<M>>(routing: MachineRouting<M>, state: St, command: CoreCommand, ctx: StepContext): Out<St> => {
  switch (command.type) {
    case 'session_created':
    case 'session_forked':
      return E.left(brokenLog(state.id, ctx.seq, `${command.type} is only valid as the first record`));

    case 'messages_appended':
      return E.map((s: St) => ({ state: s, result: undefined }))(appendMessages(routing, state, command.messages));

    case 'transcript_rewritten': {
      const planned = planRewrite(
        state.transcript,
        {
          selection: command.selection,
          replacement: command.replacement,
          reason: command.reason,
          ...(command.actor !== undefined ? { actor: command.actor } : {}),
          ...(command.expectedParentRevision !== undefined ? { expectedParentRevision: command.expectedParentRevision } : {}),
        },
        ctx.at,
      );
      if (E.isLeft(planned)) return planned;
      const next = withTranscript(state, planned.right.transcript);
      return ok({ ...next, commits: vecPush(state.commits, planned.right.commit) }, planned.right.commit);
    }

    case 'system_prompt_set':
      return ok(setSystemPrompt(state, command.prompt, ctx.at), undefined);

    case 'synthetic_notices_replaced':
      return replaceNotices(state, command);

    case 'usage_recorded':
      return E.map((s: St) => ({ state: s, result: s.usage }))(addUsage(state, command.usage));

    case 'metadata_set': {
      if (isReservedKey(command.key)) return E.left(reservedMetadataKey(command.key));
      if (hasKey(state.metadata, command.key) && canonicalJsonUnsafe(state.metadata[command.key]) === canonicalJsonUnsafe(command.value)) return ok(state, undefined);
      return ok({ ...state, metadata: metadataWith(state.metadata, command.key, command.value) }, undefined);
    }
    case 'metadata_removed': {
      if (isReservedKey(command.key)) return E.left(reservedMetadataKey(command.key));
      if (!hasKey(state.metadata, command.key)) return ok(state, undefined);
      return ok({ ...state, metadata: metadataWithout(state.metadata, command.key) }, undefined);
    }
    case 'metadata_backfilled': {
      if (isReservedKey(command.key)) return E.left(reservedMetadataKey(command.key));
      if (hasKey(state.metadata, command.key)) return ok(state, false);
      return ok({ ...state, metadata: metadataWith(state.metadata, command.key, command.value) }, true);
    }
    case 'session_touched':
      return ok({ ...state }, undefined);

    default:
      return absurd(command);
  }
};

/** The default of an exhaustive `switch` over a decoded value: unreachable, so it throws (a bug, not an input error). */
export const absurd = (x: never): never => {
  throw new Error(`unhandled command ${JSON.stringify(x)}`);
};

/**
 * Applies one non-genesis command over the machines of `routing`: the guards
 * (the owner's own guard aside), then the core rule or the owning machine's
 * step. Returns the input `state` object when the outcome is inert.
 * `updatedAt`, `seq` and `head` are set by `applyAtWith`/the shell. A genesis
 * here is `BrokenLog`.
 */
export const stepWith = <M extends Record<string, MachineParams>, St extends SessionStateOf<M>>(
  routing: MachineRouting<M>,
  state: St,
  command: CommandOfRegistry<M>,
  ctx: StepContext,
): E.Either<ReduceErrorOf<M>, Step<unknown, St>> => {
  if (isCoreCommand(command)) {
    if (command.type === 'session_created' || command.type === 'session_forked') return stepCore(routing, state, command, ctx);
    const guarded = runGuards(routing, state, undefined);
    return E.isLeft(guarded) ? guarded : stepCore(routing, state, command, ctx);
  }
  const owner = routing.owners.get(command.type);
  // A decoded command always has an owner; a value built around the codec does not, and is refused, not thrown on.
  if (owner === undefined) return E.left(brokenLog(state.id, ctx.seq, `no machine owns command type ${JSON.stringify(command.type)}`));
  const guarded = runGuards(routing, state, owner);
  return E.isLeft(guarded) ? guarded : stepMachine(routing, owner, state, command, ctx);
};

/** `stepWith` over the registered machines. */
export const step = (state: SessionState, command: SessionCommand, ctx: StepContext): E.Either<SessionError, Step> => stepWith(machineRouting, state, command, ctx);

/** Builds a root session's state from its `session_created` genesis, over the machines of `routing`. */
export const createdStateWith = <M extends Record<string, MachineParams>>(
  routing: MachineRouting<M>,
  sessionId: string,
  command: CommandOf<'session_created'>,
  ctx: StepContext,
): E.Either<CoreSessionError, SessionStateOf<M>> => {
  for (const key of Object.keys(command.metadata)) if (isReservedKey(key)) return E.left(reservedMetadataKey(key));
  return E.right({ ...blankStateOf<M>(routing.machines, sessionId), createdAt: ctx.at, updatedAt: ctx.at, metadata: metadataFrom(command.metadata) });
};

/** Builds a root session's state from its `session_created` genesis. */
export const createdState = (sessionId: string, command: CommandOf<'session_created'>, ctx: StepContext): E.Either<SessionError, SessionState> =>
  createdStateWith(machineRouting, sessionId, command, ctx);

/**
 * Builds a fork child's state from its `session_forked` genesis and the parent's
 * state at `from.seq` (revisions.md §6, machines.md §4): messages per mode, user
 * metadata and usage kept, every machine of `routing` reset, fresh revision history.
 */
export const forkedStateWith = <M extends Record<string, MachineParams>>(
  routing: MachineRouting<M>,
  sessionId: string,
  command: CommandOf<'session_forked'>,
  ctx: StepContext,
  parent: SessionStateOf<M>,
): E.Either<CoreSessionError, SessionStateOf<M>> => {
  const { from } = command;
  if (parent.id !== from.sessionId || parent.seq !== from.seq || parent.head !== from.hash) {
    const mismatch: ForkParentMismatch = {
      _tag: 'ForkParentMismatch',
      sessionId,
      expected: from,
      message: `fork ${sessionId} starts from ${from.sessionId}@${from.seq} (${from.hash}), but the parent state given is ${parent.id}@${parent.seq}`,
    };
    return E.left(mismatch);
  }
  let transcript: Transcript;
  switch (command.mode) {
    case 'full':
      transcript = parent.transcript;
      break;
    case 'at':
      transcript = takeTranscript(parent.transcript, command.index ?? transcriptLength(parent.transcript));
      break;
    case 'replacing': {
      if (command.index === undefined || command.replacement === undefined) {
        return E.left(brokenLog(sessionId, ctx.seq, 'a replacing fork needs index and replacement'));
      }
      const edited = applyReplacement(parent.transcript, command.index, command.replacement, ctx.at);
      if (E.isLeft(edited)) return edited;
      const prefix = takeTranscript(parent.transcript, command.index);
      const shape = checkAppend(prefix, [edited.right]);
      if (E.isLeft(shape)) return shape;
      transcript = appendToTranscript(prefix, [edited.right]);
      break;
    }
    default:
      return absurd(command.mode);
  }
  return E.right({
    ...blankStateOf<M>(routing.machines, sessionId),
    createdAt: ctx.at,
    updatedAt: ctx.at,
    transcript,
    revisions: vecPush(emptyVec<Digest>(), transcriptRevision(transcript)),
    metadata: parent.metadata,
    usage: parent.usage,
    forkedFrom: { from, mode: command.mode },
  });
};

/** Builds a fork child's state from its `session_forked` genesis and the parent's state at `from.seq`. */
export const forkedState = (
  sessionId: string,
  command: CommandOf<'session_forked'>,
  ctx: StepContext,
  parent: SessionState,
): E.Either<SessionError, SessionState> => forkedStateWith(machineRouting, sessionId, command, ctx, parent);

/** Whether a command leaves `updatedAt` alone even when recorded. */
const keepsUpdatedAt = (c: { readonly type: string }): boolean => c.type === 'metadata_backfilled';

const stamped = <St extends SessionCore>(state: St, seq: number): St => ({ ...state, seq });

/** A genesis record's state (seq 1 only), stamped with `ctx.seq`. */
const genesisWith = <M extends Record<string, MachineParams>>(
  routing: MachineRouting<M>,
  state: SessionStateOf<M>,
  command: CommandOf<'session_created'> | CommandOf<'session_forked'>,
  ctx: StepContext,
  parent: SessionStateOf<M> | undefined,
): E.Either<CoreSessionError, Step<unknown, SessionStateOf<M>>> => {
  if (state.seq !== 0 || ctx.seq !== 1) return E.left(brokenLog(state.id, ctx.seq, `${command.type} is only valid as the first record`));
  const stampedGenesis = E.map((s: SessionStateOf<M>) => ({ state: stamped(s, ctx.seq), result: undefined }));
  if (command.type === 'session_created') return stampedGenesis(createdStateWith(routing, state.id, command, ctx));
  if (parent === undefined) return E.left(brokenLog(state.id, ctx.seq, `fork genesis needs the state of ${command.from.sessionId} at seq ${command.from.seq}`));
  return stampedGenesis(forkedStateWith(routing, state.id, command, ctx, parent));
};

/**
 * Applies a command at `ctx` to `state` over the machines of `routing` and
 * stamps the result with `ctx.seq` (and `updatedAt = ctx.at` unless the command
 * is `metadata_backfilled`). The caller sets `head` once the record is sealed.
 * Inert: returns `state` itself.
 */
export const applyAtWith = <M extends Record<string, MachineParams>>(
  routing: MachineRouting<M>,
  state: SessionStateOf<M>,
  command: CommandOfRegistry<M>,
  ctx: StepContext,
  parent?: SessionStateOf<M>,
): E.Either<ReduceErrorOf<M>, Step<unknown, SessionStateOf<M>>> => {
  if (isCoreCommand(command) && (command.type === 'session_created' || command.type === 'session_forked')) return genesisWith(routing, state, command, ctx, parent);
  if (state.seq === 0) return E.left(brokenLog(state.id, ctx.seq, 'the first record must be session_created or session_forked'));
  const r = stepWith(routing, state, command, ctx);
  if (E.isLeft(r) || r.right.state === state) return r;
  const next = r.right.state;
  return E.right({ state: { ...next, seq: ctx.seq, updatedAt: keepsUpdatedAt(command) ? next.updatedAt : ctx.at }, result: r.right.result });
};

/** `applyAtWith` over the registered machines. */
export const applyAt = (state: SessionState, command: SessionCommand, ctx: StepContext, parent?: SessionState): E.Either<SessionError, Step> =>
  applyAtWith(machineRouting, state, command, ctx, parent);
