/**
 * The state digest of record format v2: one SHA-256 over everything a read can
 * show besides the transcript (which the record's `revision` covers), so a
 * snapshot can be checked against the record at its seq.
 *
 *     state = "sha256:" + hex(SHA-256(UTF-8(J({
 *       v: 1, createdAt, updatedAt, usage, forkedFrom?,
 *       messages, revisions, commits,                // counts
 *       lastCommit?,                                 // the newest rewrite commit
 *       parts: { metadata, deferredTurn, systemContext, toolVisibility, realtime, lifecycle }
 *     }))))
 *
 * where each `parts` entry is the digest of the canonical JSON of that value
 * (user metadata; each machine state as snapshots store it under its reserved
 * key). Computing it is incremental: a part's digest is memoized per value
 * object, and the reducers keep an unchanged part the same object, so a record
 * re-hashes only what its command changed — the cost does not grow with the
 * transcript. The revision list and the commit list enter by count (and the
 * newest commit): their chunks are checked by `verify`.
 */
import { canonicalJsonUnsafe } from '../model/json.ts';
import { sha256OfUtf8 } from '../model/hashing.ts';
import type { Digest } from '../model/scalars.ts';
import { vecGet, vecSize } from '../transcript/index.ts';
import { machineList } from '../machines/registry.ts';
import type { SessionState } from './state.ts';

/** The version of the hashed state document (inside record format v2). */
export const STATE_DIGEST_VERSION = 1 as const;

const partMemo = new WeakMap<object, Digest>();

/** The digest of the canonical JSON of `value`, memoized per object. */
const partDigest = (value: object): Digest => {
  let d = partMemo.get(value);
  if (d === undefined) {
    d = sha256OfUtf8(canonicalJsonUnsafe(value));
    partMemo.set(value, d);
  }
  return d;
};

/** `{ metadata, <machine>: … }`: the digest of each part (every registered machine's state). */
const machineParts = (state: SessionState): Record<string, Digest> => {
  const parts: Record<string, Digest> = { metadata: partDigest(state.metadata) };
  for (const m of machineList) parts[m.name] = partDigest(state[m.name]);
  return parts;
};

/** The state digest of `state` (module docstring). */
export const stateDigest = (state: SessionState): Digest => {
  const commits = vecSize(state.commits);
  const lastCommit = commits > 0 ? vecGet(state.commits, commits - 1) : undefined;
  return sha256OfUtf8(
    canonicalJsonUnsafe({
      v: STATE_DIGEST_VERSION,
      createdAt: state.createdAt,
      updatedAt: state.updatedAt,
      usage: state.usage,
      ...(state.forkedFrom !== undefined ? { forkedFrom: { from: state.forkedFrom.from, mode: state.forkedFrom.mode } } : {}),
      messages: vecSize(state.transcript.messages),
      revisions: vecSize(state.revisions),
      commits,
      ...(lastCommit !== undefined ? { lastCommit } : {}),
      parts: machineParts(state),
    }),
  );
};
