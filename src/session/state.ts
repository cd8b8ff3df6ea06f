/**
 * The reduced session state (README §2): identity and times, the transcript
 * with its revision history, user metadata, cumulative usage, fork lineage and
 * the five machine states. A plain immutable value; `reduce` builds the next one.
 */
import type { Digest } from '../model/scalars.ts';
import { emptyUsage, type Usage } from '../model/usage.ts';
import { emptyTranscript, emptyVec, vecPush, transcriptRevision, type PVec, type Transcript, type TranscriptRewriteCommit } from '../transcript/index.ts';
import { initialMachineStates, initialStatesOf, type MachineParams, type MachineRegistry, type MachineStates, type MachineStatesOf } from '../machines/registry.ts';
import type { ForkMode, ForkPoint } from './commands.ts';
import { metadataFrom, type Metadata } from './metadata.ts';

/** The session format version (`Session.version`). */
export const SESSION_VERSION = 1 as const;

/** Where a fork child came from (its genesis record's `from` and `mode`). */
export interface ForkOrigin {
  readonly from: ForkPoint;
  readonly mode: ForkMode;
}

/** The part of a session's state that is not a machine's: identity and times, transcript and history, metadata, usage, lineage. */
export interface SessionCore {
  readonly id: string;
  readonly version: typeof SESSION_VERSION;
  /** ms since epoch: the genesis record's `at`. */
  readonly createdAt: number;
  /** ms since epoch: the `at` of the newest record that moved it (not `metadata_backfilled`). */
  readonly updatedAt: number;
  /** The last applied record's seq (0 before genesis). */
  readonly seq: number;
  /** The last applied record's hash (the next record's `prev`). */
  readonly head: Digest;
  readonly transcript: Transcript;
  /** Rewrite commits in commit order. */
  readonly commits: PVec<TranscriptRewriteCommit>;
  /** Every revision this session has had as head since its genesis, in order, no consecutive repeats. */
  readonly revisions: PVec<Digest>;
  readonly metadata: Metadata;
  readonly usage: Usage;
  readonly forkedFrom?: ForkOrigin;
}

/** The reduced state of one session after its record `seq`; one field per registered machine (`machines/registry.ts`) holds its state. */
export interface SessionState extends SessionCore, MachineStates {}

/** The state of a session whose machines are those of a registry with parameters `M` (`SessionState` for the registered machines). */
export type SessionStateOf<M extends Record<string, MachineParams>> = SessionCore & MachineStatesOf<M>;

/** The machine states a fresh session (or a fork child) starts with (from the registry). */
export const initialMachines: MachineStates = initialMachineStates;

/** The core of the state before a genesis record: empty transcript, no metadata. */
const blankCore = (id: string): SessionCore => {
  const transcript = emptyTranscript();
  return {
    id,
    version: SESSION_VERSION,
    createdAt: 0,
    updatedAt: 0,
    seq: 0,
    head: `sha256:${'0'.repeat(64)}`,
    transcript,
    commits: emptyVec(),
    revisions: vecPush(emptyVec<Digest>(), transcriptRevision(transcript)),
    metadata: metadataFrom({}),
    usage: emptyUsage,
  };
};

/** The state before a genesis record: empty transcript, no metadata, initial machines. */
export const blankState = (id: string): SessionState => ({ ...blankCore(id), ...initialMachines });

/** `blankState` for the machines of registry `r`. */
export const blankStateOf = <M extends Record<string, MachineParams>>(r: MachineRegistry<M>, id: string): SessionStateOf<M> => ({
  ...blankCore(id),
  ...initialStatesOf<M>(r),
});
