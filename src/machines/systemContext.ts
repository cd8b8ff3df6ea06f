/**
 * System-context staging (machines.md §2), state key `palimpsest.systemContext`.
 *
 * Runtime components (peer replies, monitors, operator steers) add context to the
 * system prompt: staged, applied at an LLM boundary, rendered once. Each rendered
 * append is one segment of the leading system message's text, segments being
 * joined by `SYSTEM_CONTEXT_SEPARATOR`. The machine never edits messages itself: a
 * step that changes the prompt returns `systemPrompt` (the new text of the leading
 * system message) and the session applies it through its `system_prompt_set` rule
 * in the same record. Inert = state unchanged AND no `systemPrompt`.
 *
 * Transition table (K = idempotency key; "record applied" as in §2.5):
 *
 * | command                                        | effect                                                                                                  | result |
 * | ---------------------------------------------- | ------------------------------------------------------------------------------------------------------- | ------ |
 * | `system_context_staged { appends, activeTurn }` | validity (`SystemContextInvalid`), then per request: empty -> `SystemContextEmpty`; K held with other content -> `SystemContextConflict`; K seen and matching -> `duplicate`; else `staged` (push to `pending`, `seen[K] = pending`, K active if `activeTurn`). Atomic; all-duplicate is inert | `Array<'staged' \| 'duplicate'>` |
 * | `system_context_marked_applied`                | normal: into `applied` (once per K / equal entry), `seen[K] = applied`; steer: `seen[K]` removed, never promoted; then `pending = []`, active keys `[]`; inert when both were empty | former `pending` |
 * | `system_context_active_turn_discarded { keys? }` | pending appends of (requested ∩) active keys removed, their `pending` seen entries freed; inert if none | discarded appends |
 * | `system_context_blocks_appended { appends }`   | per append: `empty` / `conflict` / `duplicate` / `already_present` (record applied) / `rendered` (record applied, block appended to the prompt); inert if nothing changes | dispositions |
 * | `system_context_boundary`                      | blocks_appended of `pending`, then marked_applied, in one step                                          | `{ dispositions, appends }` |
 * | `runtime_steer_context_discarded`              | steer blocks leave the prompt; steer entries leave `pending`, `applied`, `seen`; active keys without a pending append dropped; inert when both counts are 0 | `{ promptBlocksRemoved, entriesRemoved }` |
 *
 * Choices beyond the spec text (to be recorded in ARCHITECTURE.md):
 * - A rendered block must neither contain the separator nor end in `"\n\n---"`
 *   (a block ending so would merge with the following separator on the next
 *   split); both are `SystemContextInvalid { reason: 'contains_separator' }`.
 * - Staging also conflicts when an `applied` entry holds K with other content
 *   (a steer applied at a boundary keeps its block and `applied` entry after its
 *   `seen` entry is dropped, until steer cleanup).
 * - Within one `system_context_blocks_appended`, a keyed append whose block an
 *   earlier append of the same command rendered is `already_present`.
 * - Malformed appends given to `system_context_blocks_appended` fail the command
 *   with `SystemContextInvalid`; steer cleanup keeps a segment that is also the
 *   block of a normal `applied` entry.
 */
import type * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { produce } from 'immer';
import { arrayOf, bool, decodeWith, dispatch, isPlainObject, literal, nat, oneOf, str, strict } from '../model/decode.ts';
import { canonicalJsonUnsafe, JsonCodec, type Json } from '../model/json.ts';
import { transcriptMessageAt } from '../transcript/index.ts';
import {
  LAW_SAMPLE_TEXTS,
  machineStateInvalid,
  stateDecodeFailed,
  stepOk,
  type LawPick,
  type LawSamples,
  type MachineOutput,
  type MachineStateInvalid,
  type SessionView,
  type StepContext,
  type StepResult,
} from './common.ts';

// ---------------------------------------------------------------------------
// Types

/** Context content: plain text, or a typed JSON value rendered with sorted keys. */
export const SystemContextContentCodec = dispatch('SystemContextContent', 'type', {
  text: strict('SystemContextText', { type: literal('text'), text: str }),
  json: strict('SystemContextJson', { type: literal('json'), value: JsonCodec }),
});
/** Context content: plain text, or a typed JSON value. */
export type SystemContextContent = t.TypeOf<typeof SystemContextContentCodec>;

/** Provenance: `runtime_steer` marks a transient steer that serves one turn and never becomes durable. */
export const SystemContextSourceKindCodec = oneOf('SystemContextSourceKind', ['normal', 'runtime_steer'] as const);
/** Provenance of an append. */
export type SystemContextSourceKind = t.TypeOf<typeof SystemContextSourceKindCodec>;

/** What a caller asks to stage; `sourceKind` defaults to `'normal'` (see `normalizeAppendRequests`). */
export const SystemContextAppendRequestCodec = strict(
  'SystemContextAppendRequest',
  { content: SystemContextContentCodec },
  { source: str, idempotencyKey: str, sourceKind: SystemContextSourceKindCodec },
);
/** What a caller asks to stage. */
export type SystemContextAppendRequest = t.TypeOf<typeof SystemContextAppendRequestCodec>;

/** A request as recorded in `system_context_staged`: `sourceKind` explicit, nothing defaulted on replay. */
export const NormalizedAppendRequestCodec = strict(
  'NormalizedAppendRequest',
  { content: SystemContextContentCodec, sourceKind: SystemContextSourceKindCodec },
  { source: str, idempotencyKey: str },
);
/** A request as recorded: `sourceKind` explicit. */
export type NormalizedAppendRequest = t.TypeOf<typeof NormalizedAppendRequestCodec>;

/** An accepted append. */
export const SystemContextAppendCodec = strict(
  'SystemContextAppend',
  { content: SystemContextContentCodec, sourceKind: SystemContextSourceKindCodec, acceptedAt: nat },
  { source: str, idempotencyKey: str },
);
/** An accepted append. */
export type SystemContextAppend = t.TypeOf<typeof SystemContextAppendCodec>;

/** Idempotency memory for one key. */
export const SeenKeyCodec = strict(
  'SeenKey',
  { idempotencyKey: str, content: SystemContextContentCodec, sourceKind: SystemContextSourceKindCodec, state: oneOf('SeenKeyState', ['pending', 'applied'] as const) },
  { source: str },
);
/** Idempotency memory for one key. */
export type SeenKey = t.TypeOf<typeof SeenKeyCodec>;

/** The system-context state (machines.md §2.1). */
export const SystemContextStateCodec = strict('SystemContextState', {
  pending: arrayOf(SystemContextAppendCodec),
  applied: arrayOf(SystemContextAppendCodec),
  seen: arrayOf(SeenKeyCodec),
  activeTurnPendingKeys: arrayOf(str),
});
/** The system-context state (machines.md §2.1). */
export type SystemContextState = t.TypeOf<typeof SystemContextStateCodec>;

const emptyArray = <A>(): A[] => Object.freeze([]) as unknown as A[];
/** Nothing staged, applied or remembered. */
export const initialSystemContext: SystemContextState = Object.freeze({
  pending: emptyArray<SystemContextAppend>(),
  applied: emptyArray<SystemContextAppend>(),
  seen: emptyArray<SeenKey>(),
  activeTurnPendingKeys: emptyArray<string>(),
});

/** The outcome of one request of `system_context_staged`. */
export type StagingOutcome = 'staged' | 'duplicate';
/** The outcome of one append of `system_context_blocks_appended` (machines.md §2.5). */
export type SystemContextDisposition = 'empty' | 'conflict' | 'duplicate' | 'already_present' | 'rendered';

// ---------------------------------------------------------------------------
// Rendering and matching

/** The first line of every rendered block. */
export const SYSTEM_CONTEXT_LABEL = '[Session Context]';
/** What joins the segments of the system prompt. */
export const SYSTEM_CONTEXT_SEPARATOR = '\n\n---\n\n';
/** A block may not end with this: it would merge with the next separator. */
const SEPARATOR_HEAD = '\n\n---';

/**
 * A JSON value with object keys sorted (UTF-16 code units, recursively), printed
 * with two-space indentation in `JSON.stringify(v, null, 2)` layout. Iterative, so
 * depth is bounded by memory; integer-like keys keep the sorted order too.
 */
const prettySorted = (value: Json): string => {
  type Item = string | { readonly v: Json; readonly indent: string };
  const out: string[] = [];
  const stack: Item[] = [{ v: value, indent: '' }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item === 'string') {
      out.push(item);
      continue;
    }
    const { v, indent } = item;
    if (v === null || typeof v !== 'object') {
      out.push(JSON.stringify(v));
      continue;
    }
    const inner = `${indent}  `;
    const parts: Item[] = [];
    if (Array.isArray(v)) {
      if (v.length === 0) {
        out.push('[]');
        continue;
      }
      parts.push('[\n');
      v.forEach((x, i) => parts.push(inner, { v: x, indent: inner }, i < v.length - 1 ? ',\n' : '\n'));
      parts.push(`${indent}]`);
    } else {
      const keys = Object.keys(v)
        .filter((k) => v[k] !== undefined)
        .sort();
      if (keys.length === 0) {
        out.push('{}');
        continue;
      }
      parts.push('{\n');
      keys.forEach((k, i) => parts.push(`${inner}${JSON.stringify(k)}: `, { v: v[k]!, indent: inner }, i < keys.length - 1 ? ',\n' : '\n'));
      parts.push(`${indent}}`);
    }
    for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i]!);
  }
  return out.join('');
};

/** The text of a content: the text itself, or the JSON value with keys sorted recursively, two-space indented. */
export const renderText = (content: SystemContextContent): string => (content.type === 'text' ? content.text : prettySorted(content.value));

/** `LABEL + ("\nsource: " + source)? + "\n\n" + renderText(content).trim()`: one prompt segment. */
export const renderBlock = (a: { readonly content: SystemContextContent; readonly source?: string | undefined }): string =>
  SYSTEM_CONTEXT_LABEL + (a.source !== undefined ? `\nsource: ${a.source}` : '') + '\n\n' + renderText(a.content).trim();

/** The segments of a system prompt: `[]` for absent or `""`, else the text split on the separator. */
export const promptSegments = (prompt: string | undefined): string[] =>
  prompt === undefined || prompt === '' ? [] : prompt.split(SYSTEM_CONTEXT_SEPARATOR);

/** Whether two contents are equal: same type and text, or canonically equal JSON. */
export const contentsEqual = (a: SystemContextContent, b: SystemContextContent): boolean => {
  if (a.type === 'text') return b.type === 'text' && a.text === b.text;
  return b.type === 'json' && canonicalJsonUnsafe(a.value) === canonicalJsonUnsafe(b.value);
};

/** What matching compares: content, source, provenance. */
export interface Matchable {
  readonly content: SystemContextContent;
  readonly source?: string | undefined;
  readonly sourceKind: SystemContextSourceKind;
}

/**
 * Two appends (or an append and a seen entry) *match* when their contents are
 * equal, their `source`s are equal (both absent counts) and their `sourceKind`s
 * are equal (machines.md §2.1).
 */
export const appendsMatch = (a: Matchable, b: Matchable): boolean =>
  a.sourceKind === b.sourceKind && a.source === b.source && contentsEqual(a.content, b.content);

/** *Equal* appends match and also share `idempotencyKey` (both absent counts) and `acceptedAt`. */
export const appendsEqual = (a: SystemContextAppend, b: SystemContextAppend): boolean =>
  a.idempotencyKey === b.idempotencyKey && a.acceptedAt === b.acceptedAt && appendsMatch(a, b);

// ---------------------------------------------------------------------------
// Errors

/** Why an append request is malformed. */
export type SystemContextInvalidReason =
  | 'source_empty'
  | 'source_line_break'
  | 'idempotency_key_empty'
  | 'contains_separator'
  | 'active_turn_requires_key';

/** A malformed append request (`index` in the command's `appends`). */
export interface SystemContextInvalid {
  readonly _tag: 'SystemContextInvalid';
  readonly index: number;
  readonly reason: SystemContextInvalidReason;
  readonly message: string;
}
/** An append whose trimmed rendered text is empty. */
export interface SystemContextEmpty {
  readonly _tag: 'SystemContextEmpty';
  readonly index: number;
  readonly message: string;
}
/** An idempotency key reused with other content, source or provenance. */
export interface SystemContextConflict {
  readonly _tag: 'SystemContextConflict';
  readonly index: number;
  readonly idempotencyKey: string;
  readonly existingText: string;
  readonly existingSource?: string;
  readonly message: string;
}
/** Every error a system-context step returns. */
export type SystemContextError = SystemContextInvalid | SystemContextEmpty | SystemContextConflict;

const invalidMessages: Record<SystemContextInvalidReason, string> = {
  source_empty: 'source must be non-empty',
  source_line_break: 'source must not contain a line break',
  idempotency_key_empty: 'idempotencyKey must be non-empty',
  contains_separator: `the rendered block must not contain the separator ${JSON.stringify(SYSTEM_CONTEXT_SEPARATOR)} nor end with ${JSON.stringify(SEPARATOR_HEAD)}`,
  active_turn_requires_key: 'an active-turn append needs an idempotencyKey (otherwise it could never be discarded)',
};

/** Builds a `SystemContextInvalid`. */
export const systemContextInvalid = (index: number, reason: SystemContextInvalidReason): SystemContextInvalid => ({
  _tag: 'SystemContextInvalid',
  index,
  reason,
  message: `invalid system-context append at index ${index}: ${invalidMessages[reason]}`,
});
/** Builds a `SystemContextEmpty`. */
export const systemContextEmpty = (index: number): SystemContextEmpty => ({
  _tag: 'SystemContextEmpty',
  index,
  message: `system-context append at index ${index} has no text`,
});
/** Builds a `SystemContextConflict` from the entry that already holds the key. */
export const systemContextConflict = (index: number, idempotencyKey: string, existing: Matchable): SystemContextConflict => ({
  _tag: 'SystemContextConflict',
  index,
  idempotencyKey,
  existingText: renderText(existing.content),
  ...(existing.source === undefined ? {} : { existingSource: existing.source }),
  message: `system-context append at index ${index} reuses idempotency key ${JSON.stringify(idempotencyKey)} with other content, source or sourceKind`,
});

const lineBreak = /[\n\r\u0085\u2028\u2029]/;

/**
 * Why an append (request) is malformed, or `undefined`: `source` non-empty without
 * line breaks, `idempotencyKey` non-empty, and the rendered block free of the
 * separator (and not ending with its head `"\n\n---"`).
 */
export const appendProblem = (a: {
  readonly content: SystemContextContent;
  readonly source?: string | undefined;
  readonly idempotencyKey?: string | undefined;
}): SystemContextInvalidReason | undefined => {
  if (a.source !== undefined) {
    if (a.source === '') return 'source_empty';
    if (lineBreak.test(a.source)) return 'source_line_break';
  }
  if (a.idempotencyKey !== undefined && a.idempotencyKey === '') return 'idempotency_key_empty';
  const block = renderBlock(a);
  if (block.includes(SYSTEM_CONTEXT_SEPARATOR) || block.endsWith(SEPARATOR_HEAD)) return 'contains_separator';
  return undefined;
};

const isBlank = (content: SystemContextContent): boolean => renderText(content).trim() === '';

// ---------------------------------------------------------------------------
// Commands

/**
 * Fills `sourceKind: 'normal'` into requests that omit it (machines.md §2.2). The
 * session calls it before recording, so a recorded `system_context_staged` always
 * carries `sourceKind` and nothing is defaulted on replay. Never throws; anything
 * that is not a plain-object request passes through for the codec to refuse.
 */
export const normalizeAppendRequests = (appends: readonly SystemContextAppendRequest[]): NormalizedAppendRequest[] => {
  if (!Array.isArray(appends)) return appends as unknown as NormalizedAppendRequest[];
  return appends.map((r: unknown) => (isPlainObject(r) && r['sourceKind'] === undefined ? { ...r, sourceKind: 'normal' } : r)) as NormalizedAppendRequest[];
};

/** Strict codecs of the system-context commands, by `type`. */
export const systemContextCommandCodecs = {
  system_context_staged: strict('SystemContextStaged', {
    type: literal('system_context_staged'),
    appends: arrayOf(NormalizedAppendRequestCodec),
    activeTurn: bool,
  }),
  system_context_marked_applied: strict('SystemContextMarkedApplied', { type: literal('system_context_marked_applied') }),
  system_context_active_turn_discarded: strict(
    'SystemContextActiveTurnDiscarded',
    { type: literal('system_context_active_turn_discarded') },
    { keys: arrayOf(str) },
  ),
  system_context_blocks_appended: strict('SystemContextBlocksAppended', {
    type: literal('system_context_blocks_appended'),
    appends: arrayOf(SystemContextAppendCodec),
  }),
  system_context_boundary: strict('SystemContextBoundary', { type: literal('system_context_boundary') }),
  runtime_steer_context_discarded: strict('RuntimeSteerContextDiscarded', { type: literal('runtime_steer_context_discarded') }),
} as const;

/** Any system-context command, decoded by dispatch on `type`. */
export const SystemContextCommandCodec = dispatch('SystemContextCommand', 'type', systemContextCommandCodecs);
/** Any system-context command. */
export type SystemContextCommand = t.TypeOf<(typeof systemContextCommandCodecs)[keyof typeof systemContextCommandCodecs]>;
/** The system-context command types. */
export type SystemContextCommandType = SystemContextCommand['type'];

/** The result of each command. */
export interface SystemContextResults {
  readonly system_context_staged: StagingOutcome[];
  /** The former `pending`. */
  readonly system_context_marked_applied: SystemContextAppend[];
  /** The discarded appends. */
  readonly system_context_active_turn_discarded: SystemContextAppend[];
  readonly system_context_blocks_appended: SystemContextDisposition[];
  readonly system_context_boundary: { readonly dispositions: SystemContextDisposition[]; readonly appends: SystemContextAppend[] };
  readonly runtime_steer_context_discarded: { readonly promptBlocksRemoved: number; readonly entriesRemoved: number };
}
/** The result of command `C`. */
export type SystemContextResult<C extends SystemContextCommand = SystemContextCommand> = SystemContextResults[C['type']];

/**
 * A step's output: the caller's `result`, and `systemPrompt` when the leading
 * system message's text must become this (inserted when there is none).
 */
export interface SystemContextOutput<R> {
  readonly result: R;
  readonly systemPrompt?: string;
}

/** What the system-context step needs to know about the transcript. */
export interface SystemContextView {
  /** The text of `messages[0]` if it is a `system` message, else `undefined`. */
  readonly systemPrompt: string | undefined;
}

// ---------------------------------------------------------------------------
// Working copy: decisions run on plain arrays; immer builds the next state only if something changed.

interface Work {
  pending: SystemContextAppend[];
  applied: SystemContextAppend[];
  seen: SeenKey[];
  active: string[];
  changed: boolean;
}

const startWork = (s: SystemContextState): Work => ({
  pending: s.pending,
  applied: s.applied,
  seen: s.seen,
  active: s.activeTurnPendingKeys,
  changed: false,
});

const finish = (s: SystemContextState, w: Work): SystemContextState =>
  !w.changed
    ? s
    : produce(s, (d) => {
        if (w.pending !== s.pending) d.pending = w.pending;
        if (w.applied !== s.applied) d.applied = w.applied;
        if (w.seen !== s.seen) d.seen = w.seen;
        if (w.active !== s.activeTurnPendingKeys) d.activeTurnPendingKeys = w.active;
      });

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const findSeen = (w: Work, key: string): SeenKey | undefined => w.seen.find((s) => s.idempotencyKey === key);
const findApplied = (w: Work, key: string): SystemContextAppend | undefined => w.applied.find((a) => a.idempotencyKey === key);

const upsertSeen = (w: Work, entry: SeenKey): void => {
  const i = w.seen.findIndex((s) => s.idempotencyKey === entry.idempotencyKey);
  if (i >= 0) {
    if (w.seen[i]!.state === entry.state) return;
    const next = [...w.seen];
    next[i] = { ...w.seen[i]!, state: entry.state };
    w.seen = next;
  } else {
    w.seen = [...w.seen, entry].sort((a, b) => cmp(a.idempotencyKey, b.idempotencyKey));
  }
  w.changed = true;
};

const seenOf = (a: SystemContextAppend, state: SeenKey['state']): SeenKey => ({
  idempotencyKey: a.idempotencyKey!,
  content: a.content,
  ...(a.source === undefined ? {} : { source: a.source }),
  sourceKind: a.sourceKind,
  state,
});

/** The entry holding `key` with other content, if any (seen first, then applied). */
const keyHolderConflict = (w: Work, key: string, a: Matchable): Matchable | undefined => {
  const seen = findSeen(w, key);
  if (seen !== undefined && !appendsMatch(seen, a)) return seen;
  const applied = findApplied(w, key);
  if (applied !== undefined && !appendsMatch(applied, a)) return applied;
  return undefined;
};

/** §2.5 "record applied". */
const recordApplied = (w: Work, a: SystemContextAppend): void => {
  if (a.idempotencyKey !== undefined) {
    upsertSeen(w, seenOf(a, 'applied'));
    if (findApplied(w, a.idempotencyKey) === undefined) {
      w.applied = [...w.applied, a];
      w.changed = true;
    }
  } else if (!w.applied.some((x) => appendsEqual(x, a))) {
    w.applied = [...w.applied, a];
    w.changed = true;
  }
};

/** §2.5: dispositions, and the blocks to add to the prompt. */
const renderAppends = (w: Work, appends: readonly SystemContextAppend[], segments: readonly string[]): { dispositions: SystemContextDisposition[]; blocks: string[] } => {
  const present = new Set(segments);
  const batch: SystemContextAppend[] = [];
  const blocks: string[] = [];
  const dispositions: SystemContextDisposition[] = [];
  for (const a of appends) {
    if (isBlank(a.content)) {
      dispositions.push('empty');
      continue;
    }
    const block = renderBlock(a);
    const key = a.idempotencyKey;
    if (key !== undefined) {
      if (keyHolderConflict(w, key, a) !== undefined) {
        dispositions.push('conflict');
        continue;
      }
      const earlier = batch.find((b) => b.idempotencyKey === key);
      if (earlier !== undefined) {
        dispositions.push(appendsMatch(earlier, a) ? 'duplicate' : 'conflict');
        continue;
      }
    } else if (blocks.includes(block)) {
      dispositions.push('duplicate');
      continue;
    }
    recordApplied(w, a);
    if (present.has(block)) {
      dispositions.push('already_present');
      continue;
    }
    present.add(block);
    batch.push(a);
    blocks.push(block);
    dispositions.push('rendered');
  }
  return { dispositions, blocks };
};

/** §2.3 on the working copy; returns the former pending. */
const markApplied = (w: Work): SystemContextAppend[] => {
  const former = w.pending;
  if (former.length === 0 && w.active.length === 0) return former;
  for (const a of former) {
    const key = a.idempotencyKey;
    if (a.sourceKind === 'normal') {
      if (key !== undefined) {
        if (findApplied(w, key) === undefined) w.applied = [...w.applied, a];
        const seen = findSeen(w, key);
        if (seen !== undefined) upsertSeen(w, { ...seen, state: 'applied' });
      } else if (!w.applied.some((x) => appendsEqual(x, a))) {
        w.applied = [...w.applied, a];
      }
    } else if (key !== undefined) {
      w.seen = w.seen.filter((s) => s.idempotencyKey !== key);
    }
  }
  w.pending = [];
  w.active = [];
  w.changed = true;
  return former;
};

type Out<R> = E.Either<SystemContextError, StepResult<SystemContextState, SystemContextOutput<R>>>;

const withPrompt = <R>(result: R, systemPrompt: string | undefined): SystemContextOutput<R> =>
  systemPrompt === undefined ? { result } : { result, systemPrompt };

const stage = (state: SystemContextState, appends: readonly NormalizedAppendRequest[], activeTurn: boolean, at: number): Out<StagingOutcome[]> => {
  for (let i = 0; i < appends.length; i++) {
    const r = appends[i]!;
    const problem = appendProblem(r);
    if (problem !== undefined) return E.left(systemContextInvalid(i, problem));
    if (activeTurn && r.idempotencyKey === undefined) return E.left(systemContextInvalid(i, 'active_turn_requires_key'));
  }
  const w = startWork(state);
  const outcomes: StagingOutcome[] = [];
  for (let i = 0; i < appends.length; i++) {
    const r = appends[i]!;
    if (isBlank(r.content)) return E.left(systemContextEmpty(i));
    const key = r.idempotencyKey;
    if (key !== undefined) {
      const holder = keyHolderConflict(w, key, r);
      if (holder !== undefined) return E.left(systemContextConflict(i, key, holder));
      if (findSeen(w, key) !== undefined) {
        outcomes.push('duplicate');
        continue;
      }
    }
    const append: SystemContextAppend = {
      content: r.content,
      ...(r.source === undefined ? {} : { source: r.source }),
      ...(key === undefined ? {} : { idempotencyKey: key }),
      sourceKind: r.sourceKind,
      acceptedAt: at,
    };
    w.pending = [...w.pending, append];
    w.changed = true;
    if (key !== undefined) {
      upsertSeen(w, seenOf(append, 'pending'));
      if (activeTurn && !w.active.includes(key)) w.active = [...w.active, key].sort(cmp);
    }
    outcomes.push('staged');
  }
  return stepOk(finish(state, w), { result: outcomes });
};

const discardActive = (state: SystemContextState, keys: readonly string[] | undefined): Out<SystemContextAppend[]> => {
  const requested = keys === undefined ? undefined : new Set(keys);
  const remove = new Set(state.activeTurnPendingKeys.filter((k) => requested === undefined || requested.has(k)));
  if (remove.size === 0) return stepOk(state, { result: [] });
  const isRemoved = (a: SystemContextAppend): boolean => a.idempotencyKey !== undefined && remove.has(a.idempotencyKey);
  const discarded = state.pending.filter(isRemoved);
  const w = startWork(state);
  w.pending = state.pending.filter((a) => !isRemoved(a));
  w.active = state.activeTurnPendingKeys.filter((k) => !remove.has(k));
  w.seen = state.seen.filter((s) => !(s.state === 'pending' && remove.has(s.idempotencyKey)));
  w.changed = true;
  return stepOk(finish(state, w), { result: discarded });
};

const discardSteers = (state: SystemContextState, prompt: string | undefined): Out<SystemContextResults['runtime_steer_context_discarded']> => {
  const steers = [...state.pending, ...state.applied].filter((a) => a.sourceKind === 'runtime_steer');
  const durable = new Set(state.applied.filter((a) => a.sourceKind === 'normal').map(renderBlock));
  const steerBlocks = new Set(steers.map(renderBlock).filter((b) => !durable.has(b)));
  const segments = promptSegments(prompt);
  const kept = segments.filter((s) => !steerBlocks.has(s));
  const promptBlocksRemoved = segments.length - kept.length;
  const entriesRemoved = steers.length;
  if (promptBlocksRemoved === 0 && entriesRemoved === 0) return stepOk(state, { result: { promptBlocksRemoved, entriesRemoved } });
  const w = startWork(state);
  if (entriesRemoved > 0) {
    w.pending = state.pending.filter((a) => a.sourceKind === 'normal');
    w.applied = state.applied.filter((a) => a.sourceKind === 'normal');
    w.seen = state.seen.filter((s) => s.sourceKind === 'normal');
    const stillPending = new Set(w.pending.flatMap((a) => (a.idempotencyKey === undefined ? [] : [a.idempotencyKey])));
    w.active = state.activeTurnPendingKeys.filter((k) => stillPending.has(k));
    w.changed = true;
  }
  return stepOk(finish(state, w), withPrompt({ promptBlocksRemoved, entriesRemoved }, promptBlocksRemoved > 0 ? kept.join(SYSTEM_CONTEXT_SEPARATOR) : undefined));
};

const appendBlocks = (
  state: SystemContextState,
  appends: readonly SystemContextAppend[],
  prompt: string | undefined,
  thenMark: boolean,
): E.Either<SystemContextError, { state: SystemContextState; dispositions: SystemContextDisposition[]; former: SystemContextAppend[]; systemPrompt: string | undefined }> => {
  for (let i = 0; i < appends.length; i++) {
    const problem = appendProblem(appends[i]!);
    if (problem !== undefined) return E.left(systemContextInvalid(i, problem));
  }
  const segments = promptSegments(prompt);
  const w = startWork(state);
  const { dispositions, blocks } = renderAppends(w, appends, segments);
  const former = thenMark ? markApplied(w) : [];
  const systemPrompt = blocks.length === 0 ? undefined : [...segments, ...blocks].join(SYSTEM_CONTEXT_SEPARATOR);
  return E.right({ state: finish(state, w), dispositions, former, systemPrompt });
};

/**
 * Applies one decoded system-context command (machines.md §2.2–§2.6). Pure; the
 * lifecycle guard is the caller's. `view.systemPrompt` is the current text of a
 * leading system message; a returned `systemPrompt` is its new text. Inert: the
 * input state object comes back and no `systemPrompt` is returned.
 */
export const stepSystemContext = <C extends SystemContextCommand>(
  state: SystemContextState,
  command: C,
  ctx: StepContext,
  view: SystemContextView,
): Out<SystemContextResult<C>> => stepAny(state, command, ctx, view) as Out<SystemContextResult<C>>;

const stepAny = (state: SystemContextState, command: SystemContextCommand, ctx: StepContext, view: SystemContextView): Out<SystemContextResult> => {
  switch (command.type) {
    case 'system_context_staged':
      return stage(state, command.appends, command.activeTurn, ctx.at);
    case 'system_context_marked_applied': {
      const w = startWork(state);
      const former = markApplied(w);
      return stepOk(finish(state, w), { result: former });
    }
    case 'system_context_active_turn_discarded':
      return discardActive(state, command.keys);
    case 'system_context_blocks_appended': {
      const r = appendBlocks(state, command.appends, view.systemPrompt, false);
      if (E.isLeft(r)) return r;
      return stepOk(r.right.state, withPrompt(r.right.dispositions, r.right.systemPrompt));
    }
    case 'system_context_boundary': {
      const r = appendBlocks(state, state.pending, view.systemPrompt, true);
      if (E.isLeft(r)) return r;
      return stepOk(r.right.state, withPrompt({ dispositions: r.right.dispositions, appends: r.right.former }, r.right.systemPrompt));
    }
    case 'runtime_steer_context_discarded':
      return discardSteers(state, view.systemPrompt);
  }
};

// ---------------------------------------------------------------------------
// Restore

const strictlySorted = (xs: readonly string[]): boolean => xs.every((x, i) => i === 0 || xs[i - 1]! < x);

/**
 * Decodes a stored system-context state and checks its invariants (machines.md
 * §2.7): (1) every append and seen entry has non-empty trimmed text, a block free
 * of the separator, a valid `source` (and non-empty key), a non-negative integer
 * `acceptedAt`; (2) `seen` and `activeTurnPendingKeys` sorted and unique; (3) at
 * most one `pending` and one `applied` entry per key; (4) every keyed pending
 * append has a matching `seen` entry; (5) every `seen` entry matches a pending or
 * applied append with its key; (6) every active key has a pending append.
 */
export const restoreSystemContext = (u: unknown): E.Either<MachineStateInvalid, SystemContextState> => {
  const decoded = decodeWith(SystemContextStateCodec, u);
  if (E.isLeft(decoded)) return E.left(stateDecodeFailed('systemContext', decoded.left));
  const s = decoded.right;
  const bad = (reason: string): E.Either<MachineStateInvalid, SystemContextState> => E.left(machineStateInvalid('systemContext', reason));
  const entries: Array<[string, Matchable & { readonly idempotencyKey?: string | undefined }]> = [
    ...s.pending.map((a, i): [string, SystemContextAppend] => [`pending[${i}]`, a]),
    ...s.applied.map((a, i): [string, SystemContextAppend] => [`applied[${i}]`, a]),
    ...s.seen.map((a, i): [string, SeenKey] => [`seen[${i}]`, a]),
  ];
  for (const [where, a] of entries) {
    if (isBlank(a.content)) return bad(`${where} has no text`);
    const problem = appendProblem(a);
    if (problem !== undefined) return bad(`${where}: ${invalidMessages[problem]}`);
  }
  if (!strictlySorted(s.seen.map((x) => x.idempotencyKey))) return bad('seen is not sorted by idempotencyKey with unique keys');
  if (!strictlySorted(s.activeTurnPendingKeys)) return bad('activeTurnPendingKeys is not sorted and unique');
  for (const [name, list] of [
    ['pending', s.pending],
    ['applied', s.applied],
  ] as const) {
    const keys = new Set<string>();
    for (const a of list) {
      if (a.idempotencyKey === undefined) continue;
      if (keys.has(a.idempotencyKey)) return bad(`${name} holds idempotency key ${JSON.stringify(a.idempotencyKey)} more than once`);
      keys.add(a.idempotencyKey);
    }
  }
  const seenByKey = new Map(s.seen.map((x) => [x.idempotencyKey, x] as const));
  for (const a of s.pending) {
    if (a.idempotencyKey === undefined) continue;
    const seen = seenByKey.get(a.idempotencyKey);
    if (seen === undefined || !appendsMatch(seen, a)) return bad(`pending key ${JSON.stringify(a.idempotencyKey)} has no matching seen entry`);
  }
  for (const seen of s.seen) {
    const key = seen.idempotencyKey;
    const holder = [...s.pending, ...s.applied].find((a) => a.idempotencyKey === key && appendsMatch(a, seen));
    if (holder === undefined) return bad(`seen key ${JSON.stringify(key)} matches no pending or applied append`);
  }
  const pendingKeys = new Set(s.pending.flatMap((a) => (a.idempotencyKey === undefined ? [] : [a.idempotencyKey])));
  for (const k of s.activeTurnPendingKeys) {
    if (!pendingKeys.has(k)) return bad(`active key ${JSON.stringify(k)} has no pending append`);
  }
  return E.right(s);
};

// ---------------------------------------------------------------------------
// In the session (the registry entry's view, fold and law samples)

/** The view `stepSystemContext` gets from the session: the text of a leading system message. */
export const systemContextView = (session: SessionView): SystemContextView => {
  const first = transcriptMessageAt(session.transcript, 0);
  return { systemPrompt: first?.role === 'system' ? first.text : undefined };
};

/** Folds a step's output into the session: a rendered prompt becomes the leading system message's text in the same record. */
export const systemContextSessionOutput = <R>(o: SystemContextOutput<R>): MachineOutput<R> =>
  o.systemPrompt === undefined ? { result: o.result } : { result: o.result, effects: { systemPrompt: o.systemPrompt } };

const sampleRequest = (pick: LawPick): NormalizedAppendRequest => ({
  content: pick.bool() ? { type: 'text', text: pick.one(LAW_SAMPLE_TEXTS) } : { type: 'json', value: { v: pick.one([1, 2]) } },
  sourceKind: pick.one(['normal', 'runtime_steer'] as const),
  ...(pick.bool() ? { idempotencyKey: pick.one(['alpha', 'beta', '__proto__', '']) } : {}),
  ...(pick.bool() ? { source: pick.one(['operator', 'monitor/disk', '']) } : {}),
});

/** Law samples (`LawSamples`): requests over colliding idempotency keys, both source kinds, prompts with and without a leading system message. */
export const systemContextLawSamples: LawSamples<SystemContextCommand, SystemContextView> = {
  command: (pick) => {
    switch (pick.one(['system_context_staged', 'system_context_marked_applied', 'system_context_active_turn_discarded', 'system_context_blocks_appended', 'system_context_boundary', 'runtime_steer_context_discarded'] as const)) {
      case 'system_context_staged':
        return { type: 'system_context_staged', appends: pick.many(() => sampleRequest(pick), { min: 1, max: 3 }), activeTurn: pick.bool() };
      case 'system_context_marked_applied':
        return { type: 'system_context_marked_applied' };
      case 'system_context_active_turn_discarded':
        return pick.bool() ? { type: 'system_context_active_turn_discarded' } : { type: 'system_context_active_turn_discarded', keys: pick.some(['alpha', 'beta', 'zzz']) };
      case 'system_context_blocks_appended':
        return { type: 'system_context_blocks_appended', appends: pick.many(() => ({ ...sampleRequest(pick), acceptedAt: pick.int(1, 3) }), { max: 3 }) };
      case 'system_context_boundary':
        return { type: 'system_context_boundary' };
      case 'runtime_steer_context_discarded':
        return { type: 'runtime_steer_context_discarded' };
    }
  },
  view: (pick) => ({ systemPrompt: pick.bool() ? undefined : pick.one(['', 'You are a release assistant.']) }),
};
