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
 * transcript. User metadata's digest is also incremental within one object's
 * changes (`metadataDigest.ts`: a key set after the hashed prefix re-hashes the
 * members from there on). The revision list and the commit list enter by count (and the
 * newest commit): their chunks are checked by `verify`.
 */
import { canonicalJsonUnsafe } from '../model/json.ts';
import { sha256OfUtf8 } from '../model/hashing.ts';
import type { Digest } from '../model/scalars.ts';
import { vecGet, vecSize } from '../transcript/index.ts';
import { machineList } from '../machines/registry.ts';
import { metadataDigest } from './metadataDigest.ts';
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

const isSafeCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** The canonical JSON of the last rewrite commit, memoized per frozen commit object (commits never change once made). */
const commitText = new WeakMap<object, string>();
const lastCommitJson = (commit: object): string => {
  if (!Object.isFrozen(commit)) return canonicalJsonUnsafe(commit);
  let s = commitText.get(commit);
  if (s === undefined) {
    s = canonicalJsonUnsafe(commit);
    commitText.set(commit, s);
  }
  return s;
};

/** The canonical JSON of a usage whose counts are non-negative safe integers (members in canonical order), else `undefined`. */
const usageJson = (u: SessionState['usage']): string | undefined => {
  let n = 0;
  for (const k in u) if (Object.prototype.hasOwnProperty.call(u, k)) n++;
  const cc = u.cacheCreationTokens;
  const cr = u.cacheReadTokens;
  if (n !== 2 + (cc !== undefined ? 1 : 0) + (cr !== undefined ? 1 : 0) || !isSafeCount(u.inputTokens) || !isSafeCount(u.outputTokens)) return undefined;
  if ((cc !== undefined && !isSafeCount(cc)) || (cr !== undefined && !isSafeCount(cr))) return undefined;
  return `{${cc !== undefined ? `"cacheCreationTokens":${cc},` : ''}${cr !== undefined ? `"cacheReadTokens":${cr},` : ''}"inputTokens":${u.inputTokens},"outputTokens":${u.outputTokens}}`;
};

/** The `parts` member names in canonical order (RFC 8785: UTF-16 code unit order), fixed by the registry. */
const PART_NAMES: readonly string[] = ['metadata', ...machineList.map((m) => m.name)].sort();
/** `,"<name>":` (or `{"<name>":` for the first) for each of `PART_NAMES`. */
const PART_PREFIXES: readonly string[] = PART_NAMES.map((k, i) => `${i === 0 ? '{' : ','}${JSON.stringify(k)}:`);

/** `{ metadata, <machine>: … }` as canonical JSON: each part's digest (a `sha256:` hex string needs no escaping). */
const partsJson = (state: SessionState): string => {
  let out = '';
  for (let i = 0; i < PART_NAMES.length; i++) {
    const k = PART_NAMES[i]!;
    out += `${PART_PREFIXES[i]!}"${k === 'metadata' ? metadataDigest(state.metadata) : partDigest((state as unknown as Record<string, object>)[k]!)}"`;
  }
  return `${out}}`;
};

/**
 * The state digest of `state` (module docstring). The hashed text is written
 * member by member in canonical order (`commits`, `createdAt`, `forkedFrom`,
 * `lastCommit`, `messages`, `parts`, `revisions`, `updatedAt`, `usage`, `v`)
 * from memoized pieces, so a record costs the members that changed; it is the
 * text `canonicalJson` gives for the document (the times and counts are
 * non-negative safe integers, whose JSON form is their decimal digits; anything
 * else takes `stateDigestOfDocument`, which serializes the document itself).
 */
export const stateDigest = (state: SessionState): Digest => {
  const messages = vecSize(state.transcript.messages);
  const revisions = vecSize(state.revisions);
  const commits = vecSize(state.commits);
  const usage = usageJson(state.usage);
  if (usage === undefined || !isSafeCount(state.createdAt) || !isSafeCount(state.updatedAt)) return stateDigestOfDocument(state);
  const lastCommit = commits > 0 ? vecGet(state.commits, commits - 1) : undefined;
  const f = state.forkedFrom;
  const text =
    `{"commits":${commits},"createdAt":${state.createdAt}` +
    (f !== undefined ? `,"forkedFrom":${canonicalJsonUnsafe({ from: f.from, mode: f.mode })}` : '') +
    (lastCommit !== undefined ? `,"lastCommit":${lastCommitJson(lastCommit)}` : '') +
    `,"messages":${messages},"parts":${partsJson(state)},"revisions":${revisions},"updatedAt":${state.updatedAt}` +
    `,"usage":${usage},"v":${STATE_DIGEST_VERSION}}`;
  return sha256OfUtf8(text);
};

/** The state digest of `state` by serializing the whole document (the definition; `stateDigest` writes the same text from pieces). */
export const stateDigestOfDocument = (state: SessionState): Digest => {
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
