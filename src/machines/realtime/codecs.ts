/**
 * Codecs and types of the realtime transcript machine (realtime.md §1, §2).
 *
 * Every type here is `t.TypeOf` of a strict codec: unknown keys and missing keys
 * fail, `null` is never a spelling of absent, nothing is defaulted. Id fields are
 * plain well-formed strings in the codecs: the step normalizes them (realtime.md
 * §3.1) and `restoreRealtimeState` checks stored ids under the named rule
 * `ids_normalized` rather than as a bare decode failure.
 *
 * Records keyed by provider ids (`items`, `completions`) and segment maps decode
 * to null-prototype objects, so an id such as `__proto__` is an ordinary key,
 * both when read and when written through an immer draft.
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import {
  arrayOf,
  at,
  bool,
  codec,
  decodeWith,
  dispatch,
  fail,
  isPlainObject,
  keyPath,
  literal,
  nat,
  oneOf,
  refine,
  str,
  strict,
  type Codec,
} from '../../model/decode.ts';
import { StopReasonCodec } from '../../model/content.ts';
import { UsageCodec } from '../../model/usage.ts';

/** The largest `contentIndex` (2^32 - 1). */
export const MAX_CONTENT_INDEX = 4294967295;

/** A provider id as carried by events and state: a well-formed string (normalized by the step). */
export const RealtimeIdCodec: Codec<string> = str;

/** A content index: an integer in `[0, 4294967295]`. */
export const ContentIndexCodec: Codec<number> = refine(
  nat,
  'ContentIndex',
  (n) => (n <= MAX_CONTENT_INDEX ? undefined : `expected an integer in [0, ${MAX_CONTENT_INDEX}], found ${n}`),
  'invalid_number',
);

/** Where an assistant item's text came from: written text (`display`) or the transcript of audio (`spoken`). */
export const LaneCodec = oneOf('Lane', ['display', 'spoken'] as const);
/** `'display' | 'spoken'`. */
export type Lane = t.TypeOf<typeof LaneCodec>;

/** Who produced an item. */
export const RealtimeRoleCodec = oneOf('RealtimeRole', ['user', 'assistant'] as const);
/** `'user' | 'assistant'`. */
export type RealtimeRole = t.TypeOf<typeof RealtimeRoleCodec>;

/** A fresh null-prototype record. */
export const emptyDict = <A>(): Record<string, A> => Object.create(null) as Record<string, A>;

/**
 * A string-keyed record of `value` that decodes to a null-prototype object. The
 * input object is returned as is when it already has a null prototype and no
 * value changed while decoding; otherwise a null-prototype copy is built.
 */
export const dictOf = <A>(value: Codec<A>, name = `Dict<${value.name}>`): Codec<Record<string, A>> =>
  codec(name, (u, c) => {
    if (!isPlainObject(u)) return fail(u, c, 'wrong_type', name);
    const keys = Object.keys(u);
    let changed = Object.getPrototypeOf(u) !== null;
    const decoded: A[] = [];
    for (const k of keys) {
      const v = u[k];
      const r = value.validate(v, at(c, keyPath(k), value, v));
      if (E.isLeft(r)) return r;
      if (r.right !== v) changed = true;
      decoded.push(r.right);
    }
    if (!changed) return t.success(u as Record<string, A>);
    const out = emptyDict<A>();
    keys.forEach((k, i) => {
      out[k] = decoded[i] as A;
    });
    return t.success(out);
  });

// ---------------------------------------------------------------------------
// Events (realtime.md §1)

const id = RealtimeIdCodec;
const deltaShape = <T extends string>(type: T, name: string) =>
  strict(
    name,
    { type: literal(type), responseId: id, deltaId: id, itemId: id, contentIndex: ContentIndexCodec, delta: str },
    { previousItemId: id },
  );
const replacementShape = <T extends string>(type: T, name: string) =>
  strict(name, { type: literal(type), responseId: id, itemId: id, contentIndex: ContentIndexCodec, text: str });

/** Every realtime event, by `type`. */
export const realtimeEventCodecs = {
  item_observed: strict(
    'ItemObserved',
    { type: literal('item_observed'), itemId: id, role: RealtimeRoleCodec },
    { previousItemId: id, responseId: id },
  ),
  item_skipped: strict('ItemSkipped', { type: literal('item_skipped'), itemId: id }, { previousItemId: id }),
  user_transcript_final: strict(
    'UserTranscriptFinal',
    { type: literal('user_transcript_final'), itemId: id, contentIndex: ContentIndexCodec, text: str },
    { previousItemId: id },
  ),
  assistant_text_delta: deltaShape('assistant_text_delta', 'AssistantTextDelta'),
  assistant_transcript_delta: deltaShape('assistant_transcript_delta', 'AssistantTranscriptDelta'),
  assistant_transcript_truncated: replacementShape('assistant_transcript_truncated', 'AssistantTranscriptTruncated'),
  assistant_transcript_final_text: replacementShape('assistant_transcript_final_text', 'AssistantTranscriptFinalText'),
  assistant_turn_completed: strict(
    'AssistantTurnCompleted',
    { type: literal('assistant_turn_completed'), responseId: id, stopReason: StopReasonCodec },
    { usage: UsageCodec },
  ),
  assistant_turn_interrupted: strict('AssistantTurnInterrupted', { type: literal('assistant_turn_interrupted'), responseId: id }),
};

/** A realtime transcript event, dispatched on `type` (realtime.md §1). */
export const RealtimeTranscriptEventCodec = dispatch('RealtimeTranscriptEvent', 'type', realtimeEventCodecs);
/** A realtime transcript event. */
export type RealtimeTranscriptEvent = t.TypeOf<typeof RealtimeTranscriptEventCodec>;
/** The event of one `type`. */
export type RealtimeEventOf<T extends RealtimeTranscriptEvent['type']> = Extract<RealtimeTranscriptEvent, { type: T }>;

/** A realtime event failed its codec: `path` like `$.contentIndex`; nothing is recorded. */
export interface InvalidRealtimeEvent {
  readonly _tag: 'InvalidRealtimeEvent';
  readonly path: string;
  readonly message: string;
}

/** Decodes a caller-supplied event; a failure is `InvalidRealtimeEvent { path, message }`. */
export const decodeRealtimeEvent = (u: unknown): E.Either<InvalidRealtimeEvent, RealtimeTranscriptEvent> => {
  const r = decodeWith(RealtimeTranscriptEventCodec, u);
  return E.isRight(r) ? r : E.left({ _tag: 'InvalidRealtimeEvent', path: r.left.path, message: `invalid realtime event: ${r.left.message}` });
};

/** The two session commands of this machine, by `type` (realtime.md §1). */
export const realtimeCommandCodecs = {
  realtime_transcript_event: strict('RealtimeTranscriptEventCommand', {
    type: literal('realtime_transcript_event'),
    event: RealtimeTranscriptEventCodec,
  }),
  realtime_transcript_flush: strict('RealtimeTranscriptFlushCommand', { type: literal('realtime_transcript_flush') }),
};
/** `realtime_transcript_event { event }` or `realtime_transcript_flush`. */
export type RealtimeCommand = t.TypeOf<(typeof realtimeCommandCodecs)[keyof typeof realtimeCommandCodecs]>;

// ---------------------------------------------------------------------------
// State (realtime.md §2)

/** One conversation item as the machine remembers it. */
export const RealtimeItemCodec = strict(
  'RealtimeItem',
  {
    role: RealtimeRoleCodec,
    segments: dictOf(str, 'Segments'),
    lane: LaneCodec,
    skipped: bool,
    ready: bool,
    materialized: bool,
  },
  { previousItemId: id, responseId: id },
);
/** One conversation item: role, causal predecessor, response, text segments by content index, flags. */
export type RealtimeItem = t.TypeOf<typeof RealtimeItemCodec>;

/** The first non-`tool_use` completion of a response. */
export const RealtimeCompletionCodec = strict(
  'RealtimeCompletion',
  { stopReason: StopReasonCodec, usageConsumed: bool },
  { usage: UsageCodec },
);
/** `{ stopReason, usage?, usageConsumed }`. */
export type RealtimeCompletion = t.TypeOf<typeof RealtimeCompletionCodec>;

/** The realtime machine state (reserved key `palimpsest.realtime`). */
export const RealtimeStateCodec = strict('RealtimeState', {
  items: dictOf(RealtimeItemCodec, 'RealtimeItems'),
  firstSeenOrder: arrayOf(id, { name: 'FirstSeenOrder' }),
  seenDeltaIds: arrayOf(id, { name: 'SeenDeltaIds' }),
  completions: dictOf(RealtimeCompletionCodec, 'RealtimeCompletions'),
  discardedResponseIds: arrayOf(id, { name: 'DiscardedResponseIds' }),
});
/** The realtime machine state. */
export type RealtimeState = t.TypeOf<typeof RealtimeStateCodec>;

/** A fresh initial state: nothing seen (also the state of every fork). */
export const makeInitialRealtimeState = (): RealtimeState => ({
  items: emptyDict(),
  firstSeenOrder: [],
  seenDeltaIds: [],
  completions: emptyDict(),
  discardedResponseIds: [],
});

/** The initial state (deeply frozen; steps never mutate a state, they return a new one). */
export const initialRealtimeState: RealtimeState = (() => {
  const s = makeInitialRealtimeState();
  Object.freeze(s.items);
  Object.freeze(s.firstSeenOrder);
  Object.freeze(s.seenDeltaIds);
  Object.freeze(s.completions);
  Object.freeze(s.discardedResponseIds);
  return Object.freeze(s);
})();

// ---------------------------------------------------------------------------
// Results

/** Why an event, or part of it, did nothing (realtime.md §1). */
export const REALTIME_NOTES = [
  'invalid_item_id',
  'invalid_response_id',
  'causal_cycle',
  'duplicate_delta',
  'item_skipped',
  'item_materialized',
  'role_conflict',
  'response_conflict',
  'response_discarded',
  'lane_conflict',
  'user_text_kept',
  'completion_exists',
  'completion_consumed',
  'transcript_awaiting_tool_results',
] as const;
/** A note in a `Right` result: the machine's refusals and no-ops are not errors. */
export type RealtimeNote = (typeof REALTIME_NOTES)[number];

/** One committed item, in commit order; `usage` only on the item that consumed its response's usage. */
export type RealtimeMaterializedMessage =
  | { readonly role: 'user'; readonly itemId: string; readonly text: string }
  | {
      readonly role: 'assistant';
      readonly itemId: string;
      readonly responseId: string;
      readonly text: string;
      readonly lane: Lane;
      readonly stopReason: RealtimeCompletion['stopReason'];
      readonly usage?: RealtimeCompletion['usage'];
    };

/** What the session reports for a realtime command. */
export interface RealtimeApplyOutcome {
  /** One per committed item, in commit order. */
  readonly materializedMessages: RealtimeMaterializedMessage[];
  /** `materializedMessages.length === 0` (a recorded delta that only stages text is inert in this sense). */
  readonly isInert: boolean;
  /** Why the event, or part of it, did nothing. */
  readonly notes: RealtimeNote[];
}
