/**
 * `store.verify`: one sequential pass per session over everything stored
 * (see `layout.ts`, "Verify").
 *
 * Per session, in key order: every record decodes (`UnsupportedVersion` for an
 * unknown `v`), sits under its own seq with no gap, links to the previous hash
 * (a fork's seq 1 to the parent record at `from.seq`), hashes to its `hash`, and
 * replays to its `revision` (`reduce`); every rewrite commit re-validates
 * (`validateRewriteRecord` on the record built from the states before and after
 * it); every snapshot equals the snapshot encoding of the replayed state at its
 * seq (canonical JSON, byte for byte, in the stored snapshot's format: v1
 * without, v2 with chunk-id indexes) and every chunk and index node it needs is
 * stored with exactly the bytes replay gives (hence its hash); the header, the revision index
 * and the fork links agree with the replay. Sessions are verified parents first,
 * so a child's genesis replays onto the parent's *replayed* state; verifying a
 * single fork loads its parent's state through snapshots (the parent's own verify
 * checks those).
 *
 * A problem found is data: `{ seq, _tag, reason }` in the session's report (`seq`
 * 0 for the header and indexes). The first record problem stops that session's
 * replay (what follows cannot be checked against it). Only I/O failures are `Left`.
 */
import * as E from 'fp-ts/lib/Either.js';
import { adoptExportedState } from '../model/accumulator.ts';
import { canonicalJsonUnsafe } from '../model/json.ts';
import type { LogRecord } from '../session/record.ts';
import { reduce } from '../session/replay.ts';
import { blankState, type SessionState } from '../session/state.ts';
import { CHECKPOINT_INTERVAL, rewriteRecordFor, transcriptMessages, transcriptRevision, validateRewriteRecord, vecGet, vecLast } from '../transcript/index.ts';
import type { StoreError } from './errors.ts';
import { decodeForkLink, decodeHeader, decodeStoredRecord, headerOf, seqOfKey, type Io, type SessionHeader } from './io.ts';
import { keys, prefixRange } from './layout.ts';
import { READABLE_SNAPSHOT_VERSIONS, SNAPSHOT_VERSION, emptyMemos, encodeSnapshot, forkMemos, type SnapshotMemos, type SnapshotVersion } from './snapshot.ts';

/** One problem found: the record or snapshot seq (0: header, indexes), the error tag, what is wrong. */
export interface VerifyProblem {
  readonly seq: number;
  readonly _tag: string;
  readonly reason: string;
}

/** The verify report of one session: records and bytes read, `ok` when no problem was found. */
export interface SessionVerifyReport {
  readonly sessionId: string;
  /** Records read (up to the first record problem). */
  readonly records: number;
  /** Bytes of stored values read and checked (records, snapshots, chunks). */
  readonly bytes: number;
  readonly ok: boolean;
  readonly problems: readonly VerifyProblem[];
  /** The last seq replayed. */
  readonly lastSeq: number;
  /** The head revision replay reached (absent when nothing replayed). */
  readonly revision?: string;
}

/** Progress of a running verify (cumulative over sessions). */
export interface VerifyProgress {
  readonly sessionId: string;
  readonly sessionsDone: number;
  readonly sessionsTotal: number;
  readonly records: number;
  readonly bytes: number;
}

/** What `verifyStore` needs besides the database. */
export interface VerifyOptions {
  /** Sessions to verify; default every session in the store. */
  readonly ids?: readonly string[];
  readonly onProgress?: (p: VerifyProgress) => void;
  /** Runs one session's verification exclusively (the store passes its per-session writer lock). */
  readonly exclusive?: <A>(sessionId: string, f: () => Promise<A>) => Promise<A>;
  /** A parent's state after record `seq` when it was not replayed in this run. */
  readonly parentState: (sessionId: string, seq: number) => Promise<E.Either<StoreError, SessionState>>;
}

const reasonOf = (e: StoreError): string => ('reason' in e && typeof e.reason === 'string' ? e.reason : e.message);

/** The path of the first difference between two JSON values (`$` when the roots differ in type). */
const firstDifference = (a: unknown, b: unknown, path = '$'): string | undefined => {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null)) return path;
  if (typeof a !== 'object' || a === null) return a === b ? undefined : path;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return `${path}.length`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], bb[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ks = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of [...ks].sort()) {
    const d = firstDifference(ao[k], bo[k], `${path}.${k}`);
    if (d !== undefined) return d;
  }
  return undefined;
};

const PROGRESS_EVERY = 1000;

/** The format of a stored snapshot from its canonical JSON's last members (`…,"v":3,"version":1}`), `undefined` for anything else. */
const storedSnapshotVersion = (raw: string): SnapshotVersion | undefined => {
  const m = /,"v":([123]),"version":\d+\}$/.exec(raw.slice(-32));
  return m === null ? undefined : (Number(m[1]) as SnapshotVersion);
};

/** An exported accumulator as a snapshot writes it (canonical JSON: members in this order). */
const EXPORTED_ACCUMULATOR = /\{"byteLength":(\d+),"chain":"([0-9a-f]{64})","count":(\d+),"tail":"((?:[0-9a-f]{2})*)"\}/g;

/**
 * Lets the replayed head accumulator and digest checkpoints of `at` take the
 * exportable SHA-256 states the stored snapshot `raw` holds, each only where it
 * is proven to be theirs (`adoptExportedState`: same counts, and it finishes to
 * the digest replay computed natively). Encoding the replayed state then reads
 * those states instead of hashing in JavaScript every message since the last
 * snapshot; a stored state that is not the replay's is not adopted, so the
 * encoding computes the true one and the byte comparison reports the
 * difference as before. Candidates are found by pattern anywhere in the text:
 * a match that is not an accumulator of this transcript fails the digest check.
 */
const adoptStoredStates = (raw: string, at: SessionState): void => {
  const t = at.transcript;
  for (const m of raw.matchAll(EXPORTED_ACCUMULATOR)) {
    const count = Number(m[3]);
    const acc = count === t.head.count ? t.head : count % CHECKPOINT_INTERVAL === 0 ? vecGet(t.checkpoints, count / CHECKPOINT_INTERVAL) : undefined;
    if (acc !== undefined && acc.count === count) adoptExportedState(acc, { byteLength: Number(m[1]), chain: m[2], count, tail: m[4] });
  }
};

/**
 * Verifies the sessions of `opts.ids` (default all), parents before children.
 * Returns one report per session, in the order verified.
 */
export const verifyStore = async (io: Io, opts: VerifyOptions): Promise<E.Either<StoreError, SessionVerifyReport[]>> => {
  // Headers of the sessions to verify (a corrupt header is a problem, not a failure).
  const headers = new Map<string, E.Either<StoreError, SessionHeader>>();
  if (opts.ids === undefined) {
    for await (const batch of io.scan(prefixRange(keys.headerPrefix))) {
      if (E.isLeft(batch)) return batch;
      for (const [k, v] of batch.right) {
        const sid = k.slice(keys.headerPrefix.length);
        headers.set(sid, decodeHeader(sid, v));
      }
    }
  } else {
    for (const sid of opts.ids) {
      const h = await io.header(sid);
      if (E.isLeft(h) && h.left._tag !== 'CorruptRecord' && h.left._tag !== 'UnsupportedVersion') return h;
      headers.set(sid, E.isLeft(h) ? h : h.right === undefined ? E.left({ _tag: 'SessionNotFound', sessionId: sid, message: `no session ${sid}` }) : E.right(h.right));
    }
  }

  // Parents first; remember which parent states the children need.
  const order: string[] = [];
  const placed = new Set<string>();
  const place = (sid: string, path: Set<string>): void => {
    if (placed.has(sid) || path.has(sid)) return;
    path.add(sid);
    const h = headers.get(sid);
    const parent = h !== undefined && E.isRight(h) ? h.right.forkedFrom?.sessionId : undefined;
    if (parent !== undefined && headers.has(parent)) place(parent, path);
    placed.add(sid);
    order.push(sid);
  };
  for (const sid of headers.keys()) place(sid, new Set());
  const needed = new Map<string, Set<number>>();
  for (const h of headers.values()) {
    if (E.isLeft(h) || h.right.forkedFrom === undefined) continue;
    const f = h.right.forkedFrom;
    if (!headers.has(f.sessionId)) continue;
    let s = needed.get(f.sessionId);
    if (s === undefined) needed.set(f.sessionId, (s = new Set()));
    s.add(f.seq);
  }
  const captured = new Map<string, SessionState>();
  const capturedKey = (sid: string, seq: number): string => `${sid}\u0000${seq}`;
  const finalMemos = new Map<string, SnapshotMemos>();
  const chunkOk = new Map<string, boolean>();

  let totalRecords = 0;
  let totalBytes = 0;
  const reports: SessionVerifyReport[] = [];

  const verifyOne = async (si: number, sid: string): Promise<E.Either<StoreError, void>> => {
    // Re-read the header inside the session's writer lock: records, header and indexes are then one consistent state.
    const first = headers.get(sid)!;
    let hdr = first;
    if (E.isRight(first)) {
      const again = await io.header(sid);
      if (E.isLeft(again) && again.left._tag !== 'CorruptRecord' && again.left._tag !== 'UnsupportedVersion') return again;
      hdr = E.isLeft(again) ? again : again.right === undefined ? first : E.right(again.right);
    }
    const problems: VerifyProblem[] = [];
    const add = (seq: number, tag: string, reason: string): void => {
      problems.push({ seq, _tag: tag, reason });
    };
    let records = 0;
    let bytes = 0;
    const header = E.isRight(hdr) ? hdr.right : undefined;
    if (E.isLeft(hdr)) add(0, hdr.left._tag, reasonOf(hdr.left));

    // On a shared backend (PostgreSQL) other processes append meanwhile, outside this
    // process's writer lock: verify the prefix the header read above names; rows past it
    // belong to writes committed since (checked against a fresh header at the end).
    const bound = io.shared && header !== undefined ? header.lastSeq : undefined;
    const within = (seq: number | undefined): boolean => bound === undefined || seq === undefined || seq <= bound;
    const snapKeys = await io.keys(prefixRange(keys.snapshotPrefix(sid)));
    if (E.isLeft(snapKeys)) return snapKeys;
    const stored = new Set<number>();
    for (const k of snapKeys.right) {
      const s = seqOfKey(k);
      if (s === undefined) add(0, 'CorruptRecord', `unexpected snapshot key ${k}`);
      else if (within(s)) stored.add(s);
    }
    const toCheck = stored;
    if (header !== undefined) {
      let newest: number | undefined;
      for (const x of stored) if (newest === undefined || x > newest) newest = x;
      if (header.snapshot !== undefined && !stored.has(header.snapshot)) add(header.snapshot, 'CorruptRecord', `the header names a snapshot at seq ${header.snapshot} that is missing`);
      else if (header.snapshot !== newest) add(newest ?? 0, 'CorruptRecord', `the header names snapshot ${header.snapshot ?? 'none'}, the newest stored is ${newest ?? 'none'}`);
    }

    const parentSid = header?.forkedFrom?.sessionId;
    let memos = parentSid !== undefined && finalMemos.has(parentSid) ? forkMemos(finalMemos.get(parentSid)!) : emptyMemos;
    const capture = needed.get(sid);
    // The head changes replay saw, which the revision index must hold exactly: at seq s the head
    // became `revisionAt[s]` by a command of type `typeAt[s]` (cleared when the index scan meets its
    // key). Kept by seq rather than as index keys, so a long log builds no key string per record.
    const revisionAt: Array<string | undefined> = [];
    const typeAt: Array<string | undefined> = [];
    let state: SessionState | undefined;
    let stopped = false;
    let headAt = 0;

    const checkSnapshot = async (seq: number, at: SessionState): Promise<E.Either<StoreError, void>> => {
      const raw = await io.get(keys.snapshot(sid, seq));
      if (E.isLeft(raw)) return raw;
      if (raw.right === undefined) return E.right(undefined); // reported above
      bytes += Buffer.byteLength(raw.right, 'utf8');
      // A snapshot is compared with the encoding, in its own format, of the replayed state (v1: no index).
      const version = storedSnapshotVersion(raw.right);
      adoptStoredStates(raw.right, at);
      const enc = encodeSnapshot(at, memos, version ?? SNAPSHOT_VERSION);
      memos = enc.memos;
      if (raw.right !== enc.value) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw.right);
        } catch {
          parsed = undefined;
        }
        const v = typeof parsed === 'object' && parsed !== null ? (parsed as { v?: unknown }).v : undefined;
        if (parsed !== undefined && (typeof v !== 'number' || !READABLE_SNAPSHOT_VERSIONS.includes(v))) {
          add(seq, 'UnsupportedVersion', `snapshot version ${JSON.stringify(v ?? null)} (this code reads versions ${READABLE_SNAPSHOT_VERSIONS.join(', ')})`);
        }
        else if (parsed === undefined) add(seq, 'CorruptRecord', 'snapshot: not JSON');
        else add(seq, 'CorruptRecord', `snapshot differs from the replayed state at ${firstDifference(parsed, JSON.parse(enc.value)) ?? '$ (formatting)'}`);
      }
      for (const c of enc.chunks) {
        const known = chunkOk.get(c.id);
        if (known === true) continue;
        const s = await io.get(keys.chunk(c.id));
        if (E.isLeft(s)) return s;
        if (s.right !== undefined) bytes += Buffer.byteLength(s.right, 'utf8');
        const ok = s.right === c.value;
        chunkOk.set(c.id, ok);
        if (!ok) add(seq, 'CorruptRecord', s.right === undefined ? `snapshot chunk ${c.id} is missing` : `snapshot chunk ${c.id} does not hold the replayed items or index ids (or does not hash to its id)`);
      }
      return E.right(undefined);
    };

    /** The parent state a fork genesis replays onto (checking header and fork link); `undefined` for other records. */
    const forkParent = async (seq: number, rec: LogRecord): Promise<E.Either<StoreError, { readonly parent: SessionState | undefined } | false>> => {
      let parent: SessionState | undefined;
      if (seq === 1 && rec.command.type === 'session_forked') {
        const from = rec.command.from;
        const f = header?.forkedFrom;
        if (header !== undefined && (f === undefined || f.sessionId !== from.sessionId || f.seq !== from.seq || f.hash !== from.hash || f.mode !== rec.command.mode)) {
          add(0, 'CorruptRecord', 'the header does not name the fork point of the genesis record');
        }
        const link = await io.get(keys.fork(from.sessionId, sid));
        if (E.isLeft(link)) return link;
        if (link.right === undefined) add(1, 'CorruptRecord', `the fork link ${keys.fork(from.sessionId, sid)} is missing`);
        else {
          const l = decodeForkLink(from.sessionId, link.right);
          if (E.isLeft(l)) add(1, 'CorruptRecord', reasonOf(l.left));
          else if (l.right.seq !== from.seq || l.right.hash !== from.hash || l.right.mode !== rec.command.mode) add(1, 'CorruptRecord', 'the fork link disagrees with the genesis record');
        }
        parent = captured.get(capturedKey(from.sessionId, from.seq));
        if (parent === undefined) {
          const p = await opts.parentState(from.sessionId, from.seq);
          if (E.isLeft(p)) {
            if (p.left._tag === 'StoreIoError' || p.left._tag === 'StoreLocked' || p.left._tag === 'StoreClosed') return p;
            add(1, 'CorruptRecord', `the fork parent ${from.sessionId}@${from.seq} cannot be read: ${p.left.message}`);
            return E.right(false);
          }
          parent = p.right;
        }
      }
      return E.right({ parent });
    };

    /**
     * Replays one record onto `state` (synchronous: most records need no I/O). `false`
     * when the record is a problem (reported) and replay stops.
     */
    const advance = (seq: number, rec: LogRecord, parent: SessionState | undefined): boolean => {
      const before = state ?? blankState(sid);
      const r = reduce(before, rec, parent);
      if (E.isLeft(r)) {
        add(seq, 'CorruptRecord', `${r.left._tag}: ${r.left.message}`);
        return false;
      }
      const after = r.right;
      const revBefore = transcriptRevision(before.transcript);
      const revAfter = transcriptRevision(after.transcript);
      if (rec.command.type === 'transcript_rewritten') {
        const commit = vecLast(after.commits);
        if (commit === undefined) add(seq, 'CorruptRecord', 'a rewrite produced no commit');
        else {
          const audit = validateRewriteRecord(rewriteRecordFor(transcriptMessages(before.transcript), commit, headAt, rec.at, transcriptMessages(after.transcript)));
          if (E.isLeft(audit)) add(seq, 'CorruptRecord', `the rewrite commit does not validate: ${audit.left.message}`);
        }
      }
      if (seq === 1 || revAfter !== revBefore) {
        revisionAt[seq] = revAfter;
        typeAt[seq] = rec.command.type;
        headAt = rec.at;
      }
      if (capture?.has(seq) === true) captured.set(capturedKey(sid, seq), after);
      state = after;
      return true;
    };

    const step = async (seq: number, rec: LogRecord): Promise<E.Either<StoreError, boolean>> => {
      const p = await forkParent(seq, rec);
      if (E.isLeft(p)) return p;
      if (p.right === false || !advance(seq, rec, p.right.parent)) return E.right(false);
      if (toCheck.has(seq)) {
        const c = await checkSnapshot(seq, state!);
        if (E.isLeft(c)) return c;
      }
      return E.right(true);
    };

    const recordRange = bound === undefined ? prefixRange(keys.recordPrefix(sid)) : { gte: keys.record(sid, 1), lte: keys.record(sid, bound) };
    scan: for await (const batch of io.scan(recordRange, 1000)) {
      if (E.isLeft(batch)) return batch;
      for (const [k, v] of batch.right) {
        records++;
        bytes += Buffer.byteLength(v, 'utf8');
        const expected = (state?.seq ?? 0) + 1;
        const seq = seqOfKey(k);
        if (seq !== expected) {
          add(expected, 'CorruptRecord', seq === undefined ? `unexpected record key ${k}` : `record ${expected} is missing (the next stored record is ${seq})`);
          stopped = true;
          break scan;
        }
        const rec = decodeStoredRecord(sid, seq, v);
        if (E.isLeft(rec)) {
          add(seq, rec.left._tag, reasonOf(rec.left));
          stopped = true;
          break scan;
        }
        // Records that need no I/O (all but a fork genesis and a snapshot point) are replayed without a promise.
        const ok = (seq === 1 && rec.right.command.type === 'session_forked') || toCheck.has(seq) ? await step(seq, rec.right) : E.right(advance(seq, rec.right, undefined));
        if (E.isLeft(ok)) return ok;
        if (!ok.right) {
          stopped = true;
          break scan;
        }
        if (records % PROGRESS_EVERY === 0) opts.onProgress?.({ sessionId: sid, sessionsDone: si, sessionsTotal: order.length, records: totalRecords + records, bytes: totalBytes + bytes });
      }
    }

    if (!stopped) {
      if (state === undefined) add(0, 'CorruptRecord', 'the session has no records');
      else if (header !== undefined) {
        const expected = headerOf(state, header.snapshot) as unknown as Record<string, unknown>;
        const actual = header as unknown as Record<string, unknown>;
        for (const f of Object.keys({ ...expected, ...actual })) {
          if (canonicalJsonUnsafe(expected[f] ?? null) !== canonicalJsonUnsafe(actual[f] ?? null)) {
            add(0, 'CorruptRecord', `header field ${f} is ${JSON.stringify(actual[f] ?? null)}, replay gives ${JSON.stringify(expected[f] ?? null)}`);
          }
        }
        for (const s of stored) if (s > state.seq) add(s, 'CorruptRecord', `snapshot at seq ${s} is past the last record ${state.seq}`);
        if (bound !== undefined) {
          // Records past the header read above must be named by the header now.
          const last = await io.lastKey(prefixRange(keys.recordPrefix(sid)));
          if (E.isLeft(last)) return last;
          const lastSeq = last.right === undefined ? undefined : seqOfKey(last.right);
          if (lastSeq !== undefined && lastSeq > bound) {
            const now = await io.header(sid);
            if (E.isLeft(now)) return now;
            if (now.right === undefined || now.right.lastSeq < lastSeq) add(bound, 'CorruptRecord', `the header says the last record is ${now.right?.lastSeq ?? bound}, the log holds ${lastSeq}`);
          }
        }
      }
      // Revision index.
      const revisionPrefix = keys.revisionPrefix(sid);
      for await (const batch of io.scan(prefixRange(revisionPrefix))) {
        if (E.isLeft(batch)) return batch;
        for (const [k, v] of batch.right) {
          const seq = seqOfKey(k);
          if (!within(seq)) continue;
          // Key `V/<sid>/<revision>/<seq12>`: it matches a head change when that seq's revision is the key's.
          if (seq === undefined || revisionAt[seq] !== k.slice(revisionPrefix.length, k.lastIndexOf('/'))) {
            add(seq ?? 0, 'CorruptRecord', `revision index key ${k} matches no head change`);
            continue;
          }
          if (typeAt[seq] !== v) add(seq, 'CorruptRecord', `revision index key ${k} says ${v}, the record is ${typeAt[seq]}`);
          revisionAt[seq] = undefined;
        }
      }
      for (let at = 0; at < revisionAt.length; at++) {
        const rev = revisionAt[at];
        if (rev !== undefined) add(at, 'CorruptRecord', `revision index key ${keys.revision(sid, rev, at)} is missing`);
      }
      // Fork links from this session.
      const prefix = keys.forkPrefix(sid);
      for await (const batch of io.scan(prefixRange(prefix))) {
        if (E.isLeft(batch)) return batch;
        for (const [k, v] of batch.right) {
          const child = k.slice(prefix.length);
          const l = decodeForkLink(sid, v);
          if (E.isLeft(l)) {
            add(0, 'CorruptRecord', reasonOf(l.left));
            continue;
          }
          const ch = await io.header(child);
          if (E.isLeft(ch)) {
            if (ch.left._tag === 'StoreIoError') return ch;
            continue; // the child's own report names it
          }
          const f = ch.right?.forkedFrom;
          if (ch.right === undefined) add(0, 'CorruptRecord', `fork link to session ${child}, which does not exist`);
          else if (f === undefined || f.sessionId !== sid || f.seq !== l.right.seq || f.hash !== l.right.hash || f.mode !== l.right.mode) {
            add(0, 'CorruptRecord', `fork link to session ${child} disagrees with its header`);
          }
        }
      }
    }

    finalMemos.set(sid, memos);
    totalRecords += records;
    totalBytes += bytes;
    const final = state as SessionState | undefined;
    reports.push({
      sessionId: sid,
      records,
      bytes,
      ok: problems.length === 0,
      problems,
      lastSeq: final?.seq ?? 0,
      ...(final !== undefined ? { revision: transcriptRevision(final.transcript) } : {}),
    });
    opts.onProgress?.({ sessionId: sid, sessionsDone: si + 1, sessionsTotal: order.length, records: totalRecords, bytes: totalBytes });
    return E.right(undefined);
  };

  for (let si = 0; si < order.length; si++) {
    const sid = order[si]!;
    const r = opts.exclusive !== undefined ? await opts.exclusive(sid, () => verifyOne(si, sid)) : await verifyOne(si, sid);
    if (E.isLeft(r)) return r;
  }
  return E.right(reports);
};
