/**
 * OpenAI Realtime server events → palimpsest realtime transcript events
 * (realtime.md §8). Pure apart from the mapper's own memory: no clock, no I/O.
 *
 * `createOpenAIRealtimeMapper(opts)` returns a stateful mapper (a closure); feed
 * it every server event in arrival order, `map(event)` returns zero or more
 * `RealtimeTranscriptEvent`s to append with `session.appendRealtimeTranscriptEvent`
 * (or the engine) in the order returned. Redelivered events are harmless: the
 * machine is idempotent per item, segment and delta id (`event_id` is the delta
 * id), and the mapper drops a redelivered `event_id` of the three events that
 * move its own state (`response.created`, `response.done`,
 * `input_audio_buffer.speech_started`).
 *
 * What the mapper remembers: each item's `previous_item_id` (first non-null one
 * wins, from `conversation.item.*` or `input_audio_buffer.committed`) and
 * response id (from `response.output_item.added` and the deltas), which items
 * showed non-blank text, the responses in progress (`response.created` or the
 * first output event, until `response.done`), which responses produced audio,
 * the heard prefixes passed to `truncate`, and the completions held for playback.
 *
 * | server event | palimpsest events |
 * | --- | --- |
 * | `conversation.item.added`, `.created`, `.done`: `message`, role `user` | `item_observed` (user), then `user_transcript_final` per `input_text` part (`contentIndex` = part index); `item_skipped` when no `input_text` part has non-blank text and no part is `input_audio` |
 * | same, role `assistant` | `item_observed` (assistant), `responseId` = the remembered response, if any |
 * | same, role `system`; `function_call`, `function_call_output`, `mcp_*`, any other item type | `item_skipped` |
 * | `response.output_item.added` | `item_observed` (assistant, `responseId` = `response_id`) for a `message`, else `item_skipped` |
 * | `conversation.item.input_audio_transcription.completed` | `user_transcript_final`, or `item_skipped` when `transcript` is blank |
 * | `conversation.item.input_audio_transcription.failed` | `item_skipped` |
 * | `response.output_text.delta` | `assistant_text_delta` (`deltaId` = `event_id`) |
 * | `response.output_audio_transcript.delta` | `assistant_transcript_delta` (`deltaId` = `event_id`) |
 * | `response.output_audio_transcript.done` | `assistant_transcript_final_text` (`text` = `transcript`) |
 * | `conversation.item.truncated` | `assistant_transcript_truncated` with the heard prefix given to `truncate` (`responseId` = the remembered one; nothing when the mapper never learnt the item's response); `item_skipped` when the prefix is blank or was never given |
 * | `response.done` (with `response.id`) | `item_skipped` per output item without text, then `assistant_turn_completed` (held until `playbackEnded()` with `awaitPlaybackEnd`, for an audio response that was not cancelled) |
 * | `input_audio_buffer.speech_started` | `assistant_turn_interrupted` per response in progress or held for playback |
 * | everything else (`response.output_text.done`, audio chunks, …) | nothing |
 *
 * Out-of-band responses (`response.create` with `conversation: 'none'`, reported
 * with `conversation_id: null` on `response.created` / `response.done`) are not
 * part of the conversation (a classification, a summary): every event about them
 * maps to nothing and a barge-in does not interrupt them. When the mapper missed
 * their `response.created` (it was created after a reconnect), their
 * `response.done` maps to `item_skipped` for each output item instead of a
 * completion, so text already staged for them never commits. realtime.md §8 does
 * not cover them; this is palimpsest's decision.
 *
 * Every event carrying `previousItemId` gets the event's own `previous_item_id`
 * or else the remembered one; `null`, blank and seeded predecessors are dropped.
 * Events about a seeded item map to nothing. Ids are trimmed (realtime.md §3.1).
 *
 * `response.done` status (realtime.md §8): `completed` → `tool_use` when
 * `response.output` holds a `function_call` or `mcp_call`, else `end_turn`;
 * `incomplete` → `max_tokens` (reason `max_output_tokens`), `content_filter`
 * (reason `content_filter`), else `end_turn`; `cancelled`, `failed` → `cancelled`.
 * A missing `status` counts as `completed`; any other value is `InvalidServerEvent`.
 * Usage: `input_tokens` → `inputTokens`, `output_tokens` → `outputTokens`,
 * `input_token_details.cached_tokens` → `cacheReadTokens` (a missing count is 0;
 * no `usage` object, no usage). A cached count above the input count cannot be a
 * subset of it (model.md §4): `cacheReadTokens` is then left out and the input and
 * output counts are kept, rather than refusing the event (a refused `response.done`
 * would leave the response's items waiting for ever).
 *
 * An output item is "without text" when neither the mapper saw a non-blank
 * delta or final transcript for it nor its `response.done` content holds a
 * non-blank `text` or `transcript`: a mapper created after a reconnect never
 * skips an item whose text the session already staged.
 *
 * A response is an audio response when the mapper saw an audio transcript or an
 * `response.output_audio.delta` for it, when `output_modalities` includes
 * `audio`, or when an output item has an `output_audio` part.
 */
import * as E from 'fp-ts/lib/Either.js';
import { ContentIndexCodec, MAX_CONTENT_INDEX, type RealtimeTranscriptEvent } from '../../machines/realtime.ts';
import { arrayOf, isWellFormed, str, type Codec } from '../../model/decode.ts';
import type { StopReason } from '../../model/content.ts';
import type { Usage } from '../../model/usage.ts';
import { count, decodeWire, isObject, loose, openAIUsage, orNull } from './common.ts';
import { invalidServerEvent, type InvalidServerEvent } from './errors.ts';
import { invalidArgument, type InvalidArgument } from '../../store/errors.ts';

/** Options of `createOpenAIRealtimeMapper`. */
export interface OpenAIRealtimeMapperOptions {
  /** Ids of items already in the palimpsest transcript (history sent to the server): not mapped, dropped as predecessors. */
  readonly seedItemIds?: Iterable<string>;
  /**
   * Hold the `assistant_turn_completed` of an audio response until `playbackEnded()`,
   * so a barge-in during playback interrupts the response instead of meeting
   * committed text (default `false`).
   */
  readonly awaitPlaybackEnd?: boolean;
}

/** The stateful OpenAI Realtime mapper (realtime.md §8). */
export interface OpenAIRealtimeMapper {
  /**
   * Maps one server event (as received: `unknown`) to palimpsest realtime events,
   * in the order to append them. A mapped event missing a field the mapping needs
   * (or holding a wrong type) is `InvalidServerEvent { path, eventType, message }`
   * and leaves the mapper unchanged; unmapped event types return `[]` unread.
   */
  map(serverEvent: unknown): E.Either<InvalidServerEvent, RealtimeTranscriptEvent[]>;
  /**
   * Records the prefix of an assistant audio segment the user actually heard,
   * when the application cuts playback and sends `conversation.item.truncate`
   * (`contentIndex` as sent). The server's `conversation.item.truncated` then maps
   * to `assistant_transcript_truncated` with this text (blank → `item_skipped`).
   * Bad arguments are `InvalidArgument`.
   */
  truncate(itemId: string, contentIndex: number, heardText: string): E.Either<InvalidArgument, void>;
  /**
   * The application finished playing audio (all of it, or of `responseId`):
   * returns the held `assistant_turn_completed` events to append, in the order
   * they were held. Without `awaitPlaybackEnd` nothing is ever held and this returns `[]`.
   */
  playbackEnded(responseId?: string): RealtimeTranscriptEvent[];
  /** Adds item ids to the seeded set (items the application wrote to the transcript itself). */
  seed(itemIds: Iterable<string>): void;
  /** Responses in progress (`response.created` or first output, until `response.done`, not interrupted), oldest first. */
  inProgressResponseIds(): string[];
  /** Responses whose completion waits for `playbackEnded()`, oldest first. */
  awaitingPlaybackResponseIds(): string[];
}

// ---------------------------------------------------------------------------
// Wire codecs (fields per `openai@6.49` `resources/realtime/realtime.d.ts`)

const Id: Codec<string> = str;
const eventId = { event_id: str };
const prevOpt = { previous_item_id: orNull(str) };
const Part = loose('Content', {}, { type: str, text: orNull(str), transcript: orNull(str) });
const Item = loose('ConversationItem', { type: str }, { id: Id, role: str, content: orNull(arrayOf(Part)) });

const codecs = {
  conversationItem: loose('ConversationItemEvent', { ...eventId, item: Item }, prevOpt),
  committed: loose('InputAudioBufferCommittedEvent', { item_id: Id }, prevOpt),
  outputItemAdded: loose('ResponseOutputItemAddedEvent', { ...eventId, response_id: Id, item: Item }),
  transcriptionCompleted: loose('ConversationItemInputAudioTranscriptionCompletedEvent', {
    ...eventId,
    item_id: Id,
    content_index: ContentIndexCodec,
    transcript: str,
  }),
  transcriptionFailed: loose('ConversationItemInputAudioTranscriptionFailedEvent', { ...eventId, item_id: Id }),
  delta: loose('ResponseDeltaEvent', { event_id: str, response_id: Id, item_id: Id, content_index: ContentIndexCodec, delta: str }),
  transcriptDone: loose('ResponseAudioTranscriptDoneEvent', { ...eventId, response_id: Id, item_id: Id, content_index: ContentIndexCodec, transcript: str }),
  audioDelta: loose('ResponseAudioDeltaEvent', { ...eventId, response_id: Id }),
  truncated: loose('ConversationItemTruncatedEvent', { ...eventId, item_id: Id, content_index: ContentIndexCodec }),
  responseCreated: loose('ResponseCreatedEvent', {
    ...eventId,
    response: loose('RealtimeResponse', {}, { id: Id, conversation_id: orNull(str), output_modalities: orNull(arrayOf(str)) }),
  }),
  responseDone: loose('ResponseDoneEvent', {
    ...eventId,
    response: loose(
      'RealtimeResponse',
      {},
      {
        id: Id,
        conversation_id: orNull(str),
        status: str,
        status_details: orNull(loose('RealtimeResponseStatus', {}, { reason: orNull(str) })),
        output: orNull(arrayOf(Item)),
        output_modalities: orNull(arrayOf(str)),
        usage: orNull(
          loose(
            'RealtimeResponseUsage',
            {},
            {
              input_tokens: orNull(count),
              output_tokens: orNull(count),
              input_token_details: orNull(loose('RealtimeResponseUsageInputTokenDetails', {}, { cached_tokens: orNull(count) })),
            },
          ),
        ),
      },
    ),
  }),
  speechStarted: loose('InputAudioBufferSpeechStartedEvent', eventId),
};

type Decoded<K extends keyof typeof codecs> = (typeof codecs)[K] extends Codec<infer A> ? A : never;
type WireItem = Decoded<'conversationItem'>['item'];

const blank = (s: string | null | undefined): boolean => s === undefined || s === null || s.trim() === '';
const norm = (s: string | null | undefined): string | undefined => (s === undefined || s === null || s.trim() === '' ? undefined : s.trim());

/** Whether a wire item's content holds non-blank `text` or `transcript`. */
const itemHasText = (item: WireItem): boolean => (item.content ?? []).some((p) => !blank(p.text) || !blank(p.transcript));

/** `response.done` status → `StopReason` (realtime.md §8); `undefined` for a status outside the documented set. */
export const realtimeStopReason = (
  status: string | undefined,
  reason: string | null | undefined,
  output: ReadonlyArray<{ readonly type: string }>,
): StopReason | undefined => {
  switch (status ?? 'completed') {
    case 'completed':
      return output.some((o) => o.type === 'function_call' || o.type === 'mcp_call') ? 'tool_use' : 'end_turn';
    case 'incomplete':
      return reason === 'max_output_tokens' ? 'max_tokens' : reason === 'content_filter' ? 'content_filter' : 'end_turn';
    case 'cancelled':
    case 'failed':
      return 'cancelled';
    default:
      return undefined;
  }
};

interface ItemMemory {
  prev?: string;
  responseId?: string;
  text: boolean;
}
interface ResponseMemory {
  done: boolean;
  interrupted: boolean;
  audio: boolean;
  /** `conversation_id: null` on `response.created`: not part of the conversation. */
  outOfBand: boolean;
}

/**
 * Creates an OpenAI Realtime mapper (realtime.md §8; table in the module doc).
 * `seedItemIds` are items already in the transcript; `awaitPlaybackEnd` holds
 * audio completions until `playbackEnded()`.
 */
export const createOpenAIRealtimeMapper = (opts: OpenAIRealtimeMapperOptions = {}): OpenAIRealtimeMapper => {
  const awaitPlayback = opts.awaitPlaybackEnd ?? false;
  const seeded = new Set<string>();
  for (const id of opts.seedItemIds ?? []) {
    const n = norm(id);
    if (n !== undefined) seeded.add(n);
  }
  const items = new Map<string, ItemMemory>();
  const responses = new Map<string, ResponseMemory>();
  const inProgress: string[] = [];
  const held: Array<{ responseId: string; event: RealtimeTranscriptEvent }> = [];
  const heard = new Map<string, string>();
  const seenControl = new Set<string>();

  const itemOf = (id: string): ItemMemory => {
    let m = items.get(id);
    if (m === undefined) {
      m = { text: false };
      items.set(id, m);
    }
    return m;
  };
  const responseOf = (id: string): ResponseMemory => {
    let r = responses.get(id);
    if (r === undefined) {
      r = { done: false, interrupted: false, audio: false, outOfBand: false };
      responses.set(id, r);
    }
    return r;
  };
  /** A response we hear about is in progress until its `response.done` (or an interruption). */
  const touchResponse = (id: string): ResponseMemory => {
    const r = responseOf(id);
    if (!r.done && !r.interrupted && !r.outOfBand && !inProgress.includes(id)) inProgress.push(id);
    return r;
  };
  /** Whether `id` names a response the mapper knows to be out of band. */
  const outOfBand = (id: string): boolean => responses.get(id)?.outOfBand === true;
  const endResponse = (id: string): void => {
    const i = inProgress.indexOf(id);
    if (i >= 0) inProgress.splice(i, 1);
  };
  /** Remembers the first non-seeded predecessor and the response of an item; returns the predecessor to emit. */
  const remember = (itemId: string, prev: string | null | undefined, responseId?: string): string | undefined => {
    const m = itemOf(itemId);
    const p = norm(prev);
    if (m.prev === undefined && p !== undefined && !seeded.has(p) && p !== itemId) m.prev = p;
    if (m.responseId === undefined && responseId !== undefined) m.responseId = responseId;
    return m.prev;
  };
  const withPrev = <T extends object>(e: T, prev: string | undefined): T & { previousItemId?: string } =>
    prev === undefined ? e : { ...e, previousItemId: prev };
  const skipped = (itemId: string, prev: string | undefined): RealtimeTranscriptEvent => withPrev({ type: 'item_skipped' as const, itemId }, prev);

  const fail = (path: string, message: string, type: string): E.Either<InvalidServerEvent, never> =>
    E.left(invalidServerEvent(path, `${type}: ${message}`, type));
  /** Decodes with `c`; a required id that is blank after trimming is reported at its path. */
  const decode = <A>(c: Codec<A>, u: unknown, type: string, ids: ReadonlyArray<readonly [string, (a: A) => string | undefined]>): E.Either<InvalidServerEvent, A> => {
    const r = decodeWire(c, u);
    if (E.isLeft(r)) return fail(r.left.path, r.left.message, type);
    for (const [path, get] of ids) if (blank(get(r.right))) return fail(path, `${path} must be a non-blank id`, type);
    return E.right(r.right);
  };
  const idOf = (s: string): string => s.trim();

  const mapConversationItem = (u: unknown, type: string): E.Either<InvalidServerEvent, RealtimeTranscriptEvent[]> => {
    const d = decode(codecs.conversationItem, u, type, [['$.item.id', (e) => e.item.id]]);
    if (E.isLeft(d)) return d;
    const { item } = d.right;
    const itemId = idOf(item.id!);
    if (seeded.has(itemId)) return E.right([]);
    const prev = remember(itemId, d.right.previous_item_id);
    if (item.type !== 'message' || (item.role !== 'user' && item.role !== 'assistant')) return E.right([skipped(itemId, prev)]);
    if (item.role === 'assistant') {
      const responseId = items.get(itemId)?.responseId;
      if (itemHasText(item)) itemOf(itemId).text = true;
      const observed = withPrev({ type: 'item_observed' as const, itemId, role: 'assistant' as const }, prev);
      return E.right([responseId === undefined ? observed : { ...observed, responseId }]);
    }
    const parts = item.content ?? [];
    const out: RealtimeTranscriptEvent[] = [withPrev({ type: 'item_observed' as const, itemId, role: 'user' as const }, prev)];
    let text = false;
    let audio = false;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (p.type === 'input_audio') audio = true;
      if (p.type !== 'input_text' || typeof p.text !== 'string') continue;
      if (!blank(p.text)) text = true;
      out.push(withPrev({ type: 'user_transcript_final' as const, itemId, contentIndex: i, text: p.text }, prev));
    }
    if (!text && !audio) out.push(skipped(itemId, prev));
    if (text) itemOf(itemId).text = true;
    return E.right(out);
  };

  const mapOutputItemAdded = (u: unknown, type: string): E.Either<InvalidServerEvent, RealtimeTranscriptEvent[]> => {
    const d = decode(codecs.outputItemAdded, u, type, [
      ['$.response_id', (e) => e.response_id],
      ['$.item.id', (e) => e.item.id],
    ]);
    if (E.isLeft(d)) return d;
    const responseId = idOf(d.right.response_id);
    const itemId = idOf(d.right.item.id!);
    if (outOfBand(responseId)) return E.right([]);
    const r = touchResponse(responseId);
    if ((d.right.item.content ?? []).some((p) => p.type === 'output_audio')) r.audio = true;
    if (seeded.has(itemId)) return E.right([]);
    const prev = remember(itemId, undefined, responseId);
    const item = d.right.item;
    if (item.type === 'message' && (item.role === undefined || item.role === 'assistant')) {
      if (itemHasText(item)) itemOf(itemId).text = true;
      return E.right([withPrev({ type: 'item_observed' as const, itemId, role: 'assistant' as const, responseId }, prev)]);
    }
    return E.right([skipped(itemId, prev)]);
  };

  const mapDelta = (u: unknown, type: string, spoken: boolean): E.Either<InvalidServerEvent, RealtimeTranscriptEvent[]> => {
    const d = decode(codecs.delta, u, type, [
      ['$.event_id', (e) => e.event_id],
      ['$.response_id', (e) => e.response_id],
      ['$.item_id', (e) => e.item_id],
    ]);
    if (E.isLeft(d)) return d;
    const responseId = idOf(d.right.response_id);
    const itemId = idOf(d.right.item_id);
    if (outOfBand(responseId)) return E.right([]);
    const r = touchResponse(responseId);
    if (spoken) r.audio = true;
    if (seeded.has(itemId)) return E.right([]);
    const prev = remember(itemId, undefined, responseId);
    if (!blank(d.right.delta)) itemOf(itemId).text = true;
    const event = {
      type: spoken ? ('assistant_transcript_delta' as const) : ('assistant_text_delta' as const),
      responseId,
      deltaId: d.right.event_id.trim(),
      itemId,
      contentIndex: d.right.content_index,
      delta: d.right.delta,
    };
    return E.right([withPrev(event, prev)]);
  };

  const mapResponseDone = (u: unknown, type: string): E.Either<InvalidServerEvent, RealtimeTranscriptEvent[]> => {
    const d = decode(codecs.responseDone, u, type, []);
    if (E.isLeft(d)) return d;
    const res = d.right.response;
    const responseId = norm(res.id);
    if (responseId === undefined) return E.right([]);
    const output = res.output ?? [];
    const stopReason = realtimeStopReason(res.status, res.status_details?.reason, output);
    if (stopReason === undefined) return fail('$.response.status', `unknown response status ${JSON.stringify(res.status)}`, type);
    let usage: Usage | undefined;
    if (res.usage) {
      const input = res.usage.input_tokens ?? 0;
      const output = res.usage.output_tokens ?? 0;
      const u2 = openAIUsage(input, output, res.usage.input_token_details?.cached_tokens);
      usage = E.isRight(u2) ? u2.right : { inputTokens: input, outputTokens: output };
    }
    if (seenControl.has(d.right.event_id)) return E.right([]);
    seenControl.add(d.right.event_id);
    const r = responseOf(responseId);
    r.done = true;
    endResponse(responseId);
    if (r.outOfBand) return E.right([]);
    if (res.conversation_id === null) {
      // out of band, and its response.created was missed: pass whatever may have been staged for it
      r.outOfBand = true;
      const anchors: RealtimeTranscriptEvent[] = [];
      for (const o of output) {
        const itemId = norm(o.id);
        if (itemId !== undefined && !seeded.has(itemId)) anchors.push({ type: 'item_skipped', itemId });
      }
      return E.right(anchors);
    }
    if ((res.output_modalities ?? []).includes('audio') || output.some((o) => (o.content ?? []).some((p) => p.type === 'output_audio'))) r.audio = true;
    const out: RealtimeTranscriptEvent[] = [];
    for (const o of output) {
      const itemId = norm(o.id);
      if (itemId === undefined || seeded.has(itemId)) continue;
      if (itemHasText(o) || items.get(itemId)?.text === true) continue;
      out.push(skipped(itemId, remember(itemId, undefined, o.type === 'message' ? responseId : undefined)));
    }
    const completed: RealtimeTranscriptEvent = usage
      ? { type: 'assistant_turn_completed', responseId, stopReason, usage }
      : { type: 'assistant_turn_completed', responseId, stopReason };
    if (awaitPlayback && r.audio && stopReason !== 'cancelled' && !r.interrupted) held.push({ responseId, event: completed });
    else out.push(completed);
    return E.right(out);
  };

  const mapSpeechStarted = (u: unknown, type: string): E.Either<InvalidServerEvent, RealtimeTranscriptEvent[]> => {
    const d = decode(codecs.speechStarted, u, type, []);
    if (E.isLeft(d)) return d;
    if (seenControl.has(d.right.event_id)) return E.right([]);
    seenControl.add(d.right.event_id);
    const targets: string[] = [];
    for (const h of held) if (!targets.includes(h.responseId)) targets.push(h.responseId);
    for (const id of inProgress) if (!targets.includes(id)) targets.push(id);
    held.length = 0;
    inProgress.length = 0;
    for (const id of targets) responseOf(id).interrupted = true;
    return E.right(targets.map((responseId): RealtimeTranscriptEvent => ({ type: 'assistant_turn_interrupted', responseId })));
  };

  const map = (serverEvent: unknown): E.Either<InvalidServerEvent, RealtimeTranscriptEvent[]> => {
    if (!isObject(serverEvent)) return E.left(invalidServerEvent('$', 'a server event must be an object'));
    const type = serverEvent['type'];
    if (typeof type !== 'string') return E.left(invalidServerEvent('$.type', 'a server event needs a string type'));
    switch (type) {
      case 'conversation.item.added':
      case 'conversation.item.created':
      case 'conversation.item.done':
        return mapConversationItem(serverEvent, type);
      case 'input_audio_buffer.committed': {
        const d = decode(codecs.committed, serverEvent, type, [['$.item_id', (e) => e.item_id]]);
        if (E.isLeft(d)) return d;
        const itemId = idOf(d.right.item_id);
        if (!seeded.has(itemId)) remember(itemId, d.right.previous_item_id);
        return E.right([]);
      }
      case 'response.output_item.added':
        return mapOutputItemAdded(serverEvent, type);
      case 'conversation.item.input_audio_transcription.completed': {
        const d = decode(codecs.transcriptionCompleted, serverEvent, type, [['$.item_id', (e) => e.item_id]]);
        if (E.isLeft(d)) return d;
        const itemId = idOf(d.right.item_id);
        if (seeded.has(itemId)) return E.right([]);
        const prev = remember(itemId, undefined);
        if (blank(d.right.transcript)) return E.right([skipped(itemId, prev)]);
        itemOf(itemId).text = true;
        return E.right([withPrev({ type: 'user_transcript_final' as const, itemId, contentIndex: d.right.content_index, text: d.right.transcript }, prev)]);
      }
      case 'conversation.item.input_audio_transcription.failed': {
        const d = decode(codecs.transcriptionFailed, serverEvent, type, [['$.item_id', (e) => e.item_id]]);
        if (E.isLeft(d)) return d;
        const itemId = idOf(d.right.item_id);
        if (seeded.has(itemId)) return E.right([]);
        return E.right([skipped(itemId, remember(itemId, undefined))]);
      }
      case 'response.output_text.delta':
        return mapDelta(serverEvent, type, false);
      case 'response.output_audio_transcript.delta':
        return mapDelta(serverEvent, type, true);
      case 'response.output_audio_transcript.done': {
        const d = decode(codecs.transcriptDone, serverEvent, type, [
          ['$.response_id', (e) => e.response_id],
          ['$.item_id', (e) => e.item_id],
        ]);
        if (E.isLeft(d)) return d;
        const responseId = idOf(d.right.response_id);
        const itemId = idOf(d.right.item_id);
        if (outOfBand(responseId)) return E.right([]);
        touchResponse(responseId).audio = true;
        if (seeded.has(itemId)) return E.right([]);
        remember(itemId, undefined, responseId);
        if (!blank(d.right.transcript)) itemOf(itemId).text = true;
        return E.right([{ type: 'assistant_transcript_final_text', responseId, itemId, contentIndex: d.right.content_index, text: d.right.transcript }]);
      }
      case 'response.output_audio.delta': {
        const d = decode(codecs.audioDelta, serverEvent, type, [['$.response_id', (e) => e.response_id]]);
        if (E.isLeft(d)) return d;
        const responseId = idOf(d.right.response_id);
        if (!outOfBand(responseId)) touchResponse(responseId).audio = true;
        return E.right([]);
      }
      case 'conversation.item.truncated': {
        const d = decode(codecs.truncated, serverEvent, type, [['$.item_id', (e) => e.item_id]]);
        if (E.isLeft(d)) return d;
        const itemId = idOf(d.right.item_id);
        if (seeded.has(itemId)) return E.right([]);
        const text = heard.get(`${itemId}\u0000${d.right.content_index}`) ?? '';
        const memory = itemOf(itemId);
        if (blank(text)) return E.right([skipped(itemId, memory.prev)]);
        if (memory.responseId === undefined) return E.right([]);
        return E.right([{ type: 'assistant_transcript_truncated', responseId: memory.responseId, itemId, contentIndex: d.right.content_index, text }]);
      }
      case 'response.created': {
        const d = decode(codecs.responseCreated, serverEvent, type, []);
        if (E.isLeft(d)) return d;
        const responseId = norm(d.right.response.id);
        if (responseId === undefined || seenControl.has(d.right.event_id)) return E.right([]);
        seenControl.add(d.right.event_id);
        if (d.right.response.conversation_id === null) {
          const known = responses.get(responseId);
          // an out-of-band response; one the mapper already mapped events of (created seen late) stays in band
          if (known === undefined) responseOf(responseId).outOfBand = true;
          return E.right([]);
        }
        const r = touchResponse(responseId);
        if ((d.right.response.output_modalities ?? []).includes('audio')) r.audio = true;
        return E.right([]);
      }
      case 'response.done':
        return mapResponseDone(serverEvent, type);
      case 'input_audio_buffer.speech_started':
        return mapSpeechStarted(serverEvent, type);
      default:
        return E.right([]);
    }
  };

  return {
    map,
    truncate: (itemId, contentIndex, heardText) => {
      if (typeof itemId !== 'string' || blank(itemId)) return E.left(invalidArgument('itemId', 'must be a non-blank string'));
      if (!Number.isSafeInteger(contentIndex) || contentIndex < 0 || contentIndex > MAX_CONTENT_INDEX) {
        return E.left(invalidArgument('contentIndex', `must be an integer in [0, ${MAX_CONTENT_INDEX}]`));
      }
      if (typeof heardText !== 'string' || !isWellFormed(heardText)) return E.left(invalidArgument('heardText', 'must be a well-formed string (no lone surrogates)'));
      heard.set(`${itemId.trim()}\u0000${contentIndex}`, heardText);
      return E.right(undefined);
    },
    playbackEnded: (responseId) => {
      const out: RealtimeTranscriptEvent[] = [];
      for (let i = 0; i < held.length; ) {
        const h = held[i]!;
        if (responseId === undefined || h.responseId === responseId.trim()) {
          out.push(h.event);
          held.splice(i, 1);
        } else i++;
      }
      return out;
    },
    seed: (itemIds) => {
      for (const id of itemIds) {
        const n = norm(id);
        if (n !== undefined) seeded.add(n);
      }
    },
    inProgressResponseIds: () => [...inProgress],
    awaitingPlaybackResponseIds: () => held.map((h) => h.responseId),
  };
};

