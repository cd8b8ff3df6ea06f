/**
 * `checkCompactor`: property-tests a compaction strategy (a function from a
 * transcript to a rewrite request) over generated shape-valid transcripts and
 * reports the first counterexample, shrunk by fast-check, as a value.
 *
 * For each transcript the compactor's request is checked in this order (the
 * first broken invariant is reported):
 *
 * 1. `compactor_threw`: the compactor threw or its promise rejected;
 * 2. `invalid_record`: the request does not decode as a `TranscriptRewriteRequest`
 *    (revisions.md §3), or its range is outside the transcript;
 * 3. `orphaned_tool_result` / `dangling_tool_call` / `invalid_record` (a repeated
 *    tool id): the result `t[0, start) ++ replacement ++ t[end, n)` breaks tool
 *    pairing (revisions.md §2; `firstPairingFault`);
 * 4. `changed_prefix` / `changed_suffix`: the first `keepPrefix` or the last
 *    `keepSuffix` messages of the result are not those of the transcript
 *    (compared by digest, so `createdAt` does not count);
 * 5. `no_op`: the result has the transcript's revision;
 * 6. `invalid_record`: the session's own planner refuses the request, or the
 *    self-contained rewrite record it makes fails `validateRewriteRecord`
 *    (also after a JSON round trip).
 *
 * A compactor may decline (return `undefined`): nothing is checked for that
 * transcript and it counts in `declined`.
 */
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { stampMessage, transcriptDigest, type Message } from '../model/index.ts';
import {
  decodeRewriteRequest,
  planRewrite,
  rewriteRecordFor,
  transcriptFromMessages,
  transcriptMessages,
  validateRewriteRecord,
  type TranscriptRewriteRequest,
} from '../transcript/index.ts';
import { arbTranscript } from './arbitraries/transcript.ts';
import { firstPairingFault } from './pairing.ts';

/** A compaction strategy: the transcript in, the rewrite it wants (or `undefined` to decline). May be async. */
export type Compactor = (messages: readonly Message[]) => TranscriptRewriteRequest | undefined | Promise<TranscriptRewriteRequest | undefined>;

/** The invariants `checkCompactor` checks (see the module comment for the order). */
export type CompactorInvariant = 'compactor_threw' | 'invalid_record' | 'orphaned_tool_result' | 'dangling_tool_call' | 'changed_prefix' | 'changed_suffix' | 'no_op';

/** A broken invariant on one transcript. */
export interface CompactorViolation {
  readonly invariant: CompactorInvariant;
  /** What was found, naming message indices where there are some. */
  readonly message: string;
  /** The (shrunk) transcript the compactor was given. */
  readonly transcript: readonly Message[];
  /** What the compactor returned (`undefined` when it threw). */
  readonly request: unknown;
  /** The transcript the request would produce, when it could be built. */
  readonly result?: readonly Message[];
}

/** Outcome of `checkCompactor`: `ok`, or the first (shrunk) violation with what reproduces it. */
export type CompactorReport =
  | { readonly ok: true; readonly runs: number; readonly compacted: number; readonly declined: number }
  | {
      readonly ok: false;
      readonly violation: CompactorViolation;
      /** Transcripts tried before the failure was found. */
      readonly runs: number;
      /** Shrinking steps taken. */
      readonly shrinks: number;
      /** Pass `seed` and `path` back to replay exactly this counterexample. */
      readonly seed: number;
      readonly path: string;
    };

/** Options of `checkCompactor`. */
export interface CheckCompactorOptions {
  /** Transcripts to try (default 100). */
  readonly numRuns?: number;
  /** fast-check seed (default random); with `path`, replays a reported counterexample. */
  readonly seed?: number;
  readonly path?: string;
  /** The transcripts to generate (default `arbTranscript({ minTurns: 1, maxTurns: 16 })`). */
  readonly transcripts?: fc.Arbitrary<Message[]>;
  /** How many leading messages must stay as they are: a number, or a function of the transcript. Default: the leading `system` messages. */
  readonly keepPrefix?: number | ((messages: readonly Message[]) => number);
  /** How many trailing messages must stay as they are (default 0). */
  readonly keepSuffix?: number | ((messages: readonly Message[]) => number);
  /** Record time (ms since epoch) stamped on replacement messages without `createdAt` (default 0). */
  readonly at?: number;
}

/** The number of leading `system` messages (the default `keepPrefix`). */
export const leadingSystemMessages = (messages: readonly Message[]): number => {
  let n = 0;
  while (n < messages.length && messages[n]!.role === 'system') n++;
  return n;
};

const resolveCount = (v: number | ((m: readonly Message[]) => number) | undefined, messages: readonly Message[], fallback: number): number =>
  Math.min(messages.length, Math.max(0, typeof v === 'function' ? v(messages) : (v ?? fallback)));

const sameMessages = (a: readonly Message[], b: readonly Message[]): boolean => a.length === b.length && transcriptDigest(a) === transcriptDigest(b);

/** Checks one transcript; `undefined` when every invariant holds or the compactor declined. */
export const checkCompaction = async (
  compactor: Compactor,
  transcript: readonly Message[],
  opts: CheckCompactorOptions = {},
): Promise<CompactorViolation | 'declined' | undefined> => {
  let request: unknown;
  try {
    request = await compactor(transcript);
  } catch (e) {
    return { invariant: 'compactor_threw', message: e instanceof Error ? e.message : String(e), transcript, request: undefined };
  }
  if (request === undefined) return 'declined';
  const fail = (invariant: CompactorInvariant, message: string, result?: readonly Message[]): CompactorViolation => ({
    invariant,
    message,
    transcript,
    request,
    ...(result !== undefined ? { result } : {}),
  });
  const decoded = decodeRewriteRequest(request);
  if (E.isLeft(decoded)) return fail('invalid_record', `the request does not decode: ${decoded.left.message}`);
  const req = decoded.right;
  const { start, end } = req.selection;
  if (start > end || end > transcript.length) return fail('invalid_record', `selection [${start}, ${end}) is outside the ${transcript.length} messages`);
  const at = opts.at ?? 0;
  const result = [...transcript.slice(0, start), ...req.replacement.map((m) => stampMessage(m, at)), ...transcript.slice(end)];
  const fault = firstPairingFault(result);
  if (fault !== undefined) return fail(fault.fault === 'duplicate_tool_id' ? 'invalid_record' : fault.fault, `result message ${fault.index}: ${fault.message}`, result);
  const p = resolveCount(opts.keepPrefix, transcript, leadingSystemMessages(transcript));
  if (!sameMessages(result.slice(0, p), transcript.slice(0, p))) return fail('changed_prefix', `the first ${p} messages changed`, result);
  const s = resolveCount(opts.keepSuffix, transcript, 0);
  if (s > 0 && !sameMessages(result.slice(-s), transcript.slice(-s))) return fail('changed_suffix', `the last ${s} messages changed`, result);
  if (transcriptDigest(result) === transcriptDigest(transcript)) return fail('no_op', `the request leaves revision ${transcriptDigest(transcript)} as it is`, result);
  const planned = planRewrite(transcriptFromMessages(transcript), req, at);
  if (E.isLeft(planned)) return fail('invalid_record', `the session refuses the request: ${planned.left._tag}`, result);
  const record = rewriteRecordFor(transcript, planned.right.commit, at, at, transcriptMessages(planned.right.transcript));
  const valid = validateRewriteRecord(JSON.parse(JSON.stringify(record)));
  if (E.isLeft(valid)) return fail('invalid_record', `the rewrite record does not validate: ${valid.left._tag}`, result);
  return undefined;
};

/**
 * Runs `compactor` over `opts.numRuns` generated transcripts (see the module
 * comment). Never throws for a broken invariant: the result says what broke.
 */
export const checkCompactor = async (compactor: Compactor, opts: CheckCompactorOptions = {}): Promise<CompactorReport> => {
  let compacted = 0;
  let declined = 0;
  const transcripts = opts.transcripts ?? arbTranscript({ minTurns: 1, maxTurns: 16 });
  const details = await fc.check(
    fc.asyncProperty(transcripts, async (t) => {
      const v = await checkCompaction(compactor, t, opts);
      if (v === 'declined') declined++;
      else if (v === undefined) compacted++;
      return v === undefined || v === 'declined';
    }),
    { numRuns: opts.numRuns ?? 100, ...(opts.seed !== undefined ? { seed: opts.seed } : {}), ...(opts.path !== undefined ? { path: opts.path } : {}) },
  );
  if (!details.failed) return { ok: true, runs: details.numRuns, compacted, declined };
  const [transcript] = details.counterexample ?? [[]];
  const again = await checkCompaction(compactor, transcript, opts);
  const violation: CompactorViolation =
    again !== undefined && again !== 'declined'
      ? again
      : { invariant: 'compactor_threw', message: `the compactor is not deterministic: it failed once and passed on the same transcript (${String(details.errorInstance)})`, transcript, request: undefined };
  return { ok: false, violation, runs: details.numRuns, shrinks: details.numShrinks, seed: details.seed, path: details.counterexamplePath ?? '' };
};

/** What `assertCompactor` throws: an `Error` whose message names the invariant, the reason, the shrunk transcript and how to replay it; `report` is the full report. */
export class CompactorInvariantError extends Error {
  constructor(readonly report: Extract<CompactorReport, { ok: false }>) {
    const v = report.violation;
    super(
      `compactor broke ${v.invariant}: ${v.message}\n` +
        `transcript (${v.transcript.length} messages, after ${report.shrinks} shrinks): ${JSON.stringify(v.transcript)}\n` +
        `request: ${JSON.stringify(v.request)}\n` +
        `replay with { seed: ${report.seed}, path: ${JSON.stringify(report.path)} }`,
    );
    this.name = 'CompactorInvariantError';
  }
}

/**
 * The assertion style of `checkCompactor` for a test runner: resolves when every
 * invariant holds, rejects with a `CompactorInvariantError` otherwise.
 */
export const assertCompactor = async (compactor: Compactor, opts: CheckCompactorOptions = {}): Promise<void> => {
  const report = await checkCompactor(compactor, opts);
  if (!report.ok) throw new CompactorInvariantError(report);
};
