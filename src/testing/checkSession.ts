/**
 * `checkSessionInvariants` and `checkReplay`: the invariants every session
 * value must keep (README §2, revisions.md §2–§7), reported as values.
 */
import * as E from 'fp-ts/lib/Either.js';
import { transcriptDigest, type Message } from '../model/index.ts';
import { canonicalJsonUnsafe } from '../model/json.ts';
import { Session, type SessionError } from '../session/index.ts';
import { firstPairingFault } from './pairing.ts';

/** One broken session invariant. */
export type SessionViolation =
  /** Tool pairing broken inside the transcript (a trailing unanswered call is legal: the tool runs). */
  | { readonly invariant: 'orphaned_tool_result' | 'dangling_tool_call' | 'duplicate_tool_id'; readonly index: number; readonly message: string }
  /** `transcriptRevision()` is not the digest of `messages`. */
  | { readonly invariant: 'revision_mismatch'; readonly expected: string; readonly actual: string; readonly message: string }
  /** The messages (or a lazily loaded chunk of them) cannot be read: `error` is the `LazyReadError`. */
  | { readonly invariant: 'messages_unreadable'; readonly error: { readonly _tag: string; readonly message: string }; readonly message: string }
  /** `verify()` refused the log (broken chain, bad hash, replay divergence, state mismatch): `error` is its typed error. */
  | { readonly invariant: 'log_invalid'; readonly error: { readonly _tag: string; readonly message: string }; readonly message: string }
  /** A revision a record produced cannot be read back, or reads back as other messages. */
  | { readonly invariant: 'revision_unreadable'; readonly seq: number; readonly revision: string; readonly message: string }
  /** Replaying the log from seq 1 gives other metadata, usage, head or revision. */
  | { readonly invariant: 'replay_diverged'; readonly what: 'head' | 'revision' | 'metadata' | 'usage'; readonly message: string };

/** Outcome of `checkSessionInvariants`: `ok`, or every violation found. */
export type SessionInvariantReport =
  | { readonly ok: true; readonly records: number; readonly revision: string }
  | { readonly ok: false; readonly violations: readonly SessionViolation[] };

const pairingViolations = (ms: readonly Message[]): SessionViolation[] => {
  const fault = firstPairingFault(ms);
  // a trailing call without results is a running tool, not a fault
  if (fault === undefined || (fault.fault === 'dangling_tool_call' && fault.index === ms.length - 1)) return [];
  return [{ invariant: fault.fault, index: fault.index, message: fault.message }];
};

const revisionViolations = (session: Session, messages: readonly Message[]): SessionViolation[] => {
  const out: SessionViolation[] = [];
  const digest = transcriptDigest(messages);
  if (digest !== session.transcriptRevision()) {
    out.push({ invariant: 'revision_mismatch', expected: digest, actual: session.transcriptRevision(), message: `transcriptRevision() is ${session.transcriptRevision()}, the messages digest to ${digest}` });
  }
  for (const r of session.log) {
    const read = session.readTranscriptRevisionMessages(r.revision);
    const ms = E.isLeft(read) ? undefined : read.right;
    if (ms === undefined || transcriptDigest(ms) !== r.revision) {
      out.push({ invariant: 'revision_unreadable', seq: r.seq, revision: r.revision, message: `revision ${r.revision} of record ${r.seq} ${ms === undefined ? 'cannot be read' : 'reads back as other messages'}` });
    }
  }
  return out;
};

const replayViolations = (session: Session): SessionViolation[] => {
  const verified = session.verify();
  if (E.isLeft(verified)) return [{ invariant: 'log_invalid', error: verified.left, message: `verify(): ${verified.left.message}` }];
  // A full replay needs the whole log: a root session's records from seq 1.
  const first = session.log[0];
  if (first === undefined || first.seq !== 1 || first.command.type !== 'session_created') return [];
  const replayed = Session.replay(session.log);
  if (E.isLeft(replayed)) return [{ invariant: 'log_invalid', error: replayed.left, message: `replay: ${replayed.left.message}` }];
  const r = replayed.right;
  const out: SessionViolation[] = [];
  const diverged = (what: 'head' | 'revision' | 'metadata' | 'usage', a: string, b: string): void => {
    if (a !== b) out.push({ invariant: 'replay_diverged', what, message: `replaying the log gives ${what} ${a}, the session has ${b}` });
  };
  diverged('head', r.head, session.head);
  diverged('revision', r.transcriptRevision(), session.transcriptRevision());
  diverged('metadata', canonicalJsonUnsafe(r.metadata), canonicalJsonUnsafe(session.metadata));
  diverged('usage', canonicalJsonUnsafe(r.usage), canonicalJsonUnsafe(session.usage));
  return out;
};

/**
 * Checks a session value: tool pairing of its transcript, its revision against
 * the digest of its messages, every revision of its log readable, `verify()`,
 * and (for a root session holding its whole log) that replaying the log from
 * seq 1 reproduces head, revision, metadata and usage. Never throws.
 */
export const checkSessionInvariants = (session: Session): SessionInvariantReport => {
  const messages = session.readMessages();
  const transcript = E.isLeft(messages)
    ? [{ invariant: 'messages_unreadable' as const, error: messages.left, message: `messages: ${messages.left.message}` }]
    : [...pairingViolations(messages.right), ...revisionViolations(session, messages.right)];
  const violations = [...transcript, ...replayViolations(session)];
  return violations.length === 0 ? { ok: true, records: session.log.length, revision: session.transcriptRevision() } : { ok: false, violations };
};

/** A command the session refused while `checkReplay` applied a sequence: its position and the typed error. */
export interface RefusedCommand {
  readonly index: number;
  readonly error: SessionError;
}

/** Outcome of `checkReplay`. Refused commands are data (a session must refuse what breaks its rules), not failures. */
export type ReplayReport =
  | { readonly ok: true; readonly records: number; readonly refused: readonly RefusedCommand[]; readonly revision: string }
  | { readonly ok: false; readonly violations: readonly SessionViolation[]; readonly refused: readonly RefusedCommand[] };

/** Options of `checkReplay`. */
export interface CheckReplayOptions {
  /** Session id (default `replay`). */
  readonly sessionId?: string;
  /** Record times, ms since epoch (default: 1000, 1007, 1014, …). */
  readonly clock?: () => number;
}

/**
 * Applies `commands` in order to a new session (`Session.apply`; a refused
 * command is recorded in `refused` and skipped), then checks the result with
 * `checkSessionInvariants`: replaying its log reproduces every recorded
 * revision and the final state.
 */
export const checkReplay = (commands: readonly unknown[], opts: CheckReplayOptions = {}): ReplayReport => {
  let t = 993;
  const clock = opts.clock ?? (() => (t += 7));
  let session = Session.create({ id: opts.sessionId ?? 'replay', clock });
  const refused: RefusedCommand[] = [];
  commands.forEach((command, index) => {
    const r = session.apply(command);
    if (E.isLeft(r)) refused.push({ index, error: r.left });
    else session = r.right.session;
  });
  const report = checkSessionInvariants(session);
  return report.ok ? { ...report, refused } : { ok: false, violations: report.violations, refused };
};
