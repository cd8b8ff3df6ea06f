/**
 * fast-check arbitraries for the transcript model (model.md). Every value they
 * produce is valid: it decodes with the matching codec and survives
 * `JSON.parse(JSON.stringify(v))` unchanged (deep equality).
 *
 * Rules the generators respect:
 * - strings are well-formed UTF-16 (no lone surrogates), biased towards the
 *   characters canonical JSON treats specially (quotes, backslash, controls,
 *   U+007F, U+2028, non-BMP);
 * - numbers are finite and never `-0` (JSON turns `-0` into `0`, which breaks
 *   deep equality though not the digest);
 * - image media types match `^image/[a-z0-9][a-z0-9!#$&^_.+-]*$`, inline data is
 *   canonical padded base64 of at least one byte, blob ids are digests;
 * - usage keeps `(cacheCreationTokens ?? 0) + (cacheReadTokens ?? 0) <= inputTokens`;
 * - optional fields are absent (never `undefined`, never `null`) when not drawn.
 *
 * Objects may have a `null` prototype (the codecs accept those).
 */
import fc from 'fast-check';
import type {
  AssistantBlock,
  ContentBlock,
  Json,
  Message,
  MessageInput,
  Origin,
  StopReason,
  ToolResult,
  TranscriptRole,
  Usage,
} from '../../model/index.ts';

// ---------------------------------------------------------------------------
// Scalars

/** Characters canonical JSON escapes or must keep literal (model.md §6 rule 3). */
export const specialChars: readonly string[] = [
  '"', '\\', '/', '\b', '\f', '\n', '\r', '\t', '\u0000', '\u0001', '\u001f', '\u007f', '\u0080',
  '\u2028', '\u2029', '\ufeff', '\ufb33', 'é', 'e\u0301', '€', '😀', '\u{10ffff}', ' ', 'a', 'Z', '0',
];

/** A well-formed string (full Unicode, plus the characters of `specialChars`). */
export const arbText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...specialChars), maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 24 }) },
);

/** A well-formed, non-empty string. */
export const arbNonEmptyText: fc.Arbitrary<string> = arbText.filter((s) => s.length > 0);

/** Milliseconds since the epoch (any non-negative safe integer). */
export const arbMillis: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, 1, 1_700_000_000_000, Number.MAX_SAFE_INTEGER),
  fc.integer({ min: 0, max: 4_102_444_800_000 }),
  fc.maxSafeNat(),
);

/** A `sha256:<64 lowercase hex>` digest. */
export const arbDigest: fc.Arbitrary<string> = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => `sha256:${Buffer.from(b).toString('hex')}`);

/** A canonical image media type. */
export const arbMediaType: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/svg+xml', 'image/vnd.microsoft.icon', 'image/x-icon'),
  fc.stringMatching(/^image\/[a-z0-9][a-z0-9!#$&^_.+-]{0,12}$/),
);

/** Image bytes (at least one). */
export const arbImageBytes: fc.Arbitrary<Uint8Array> = fc.uint8Array({ minLength: 1, maxLength: 40 });

/** Canonical padded standard base64 of at least one byte. */
export const arbBase64: fc.Arbitrary<string> = arbImageBytes.map((b) => Buffer.from(b).toString('base64'));

// ---------------------------------------------------------------------------
// Json

/** A finite JSON number, never `-0`; includes the values JCS formats specially. */
export const arbJsonNumber: fc.Arbitrary<number> = fc
  .oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(0, 1, -1, 0.1 + 0.2, 1e21, 1e-7, 1e-6, 5e-324, -5e-324, 2 ** 53, 2 ** 53 + 2, Number.MAX_VALUE, -Number.MAX_VALUE, 123456789.125),
  )
  .map((n) => (Object.is(n, -0) ? 0 : n));

/** An object key (well-formed; includes keys differing in case or by prefix). */
export const arbJsonKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('a', 'A', 'b', 'B', 'aa', 'ab', 'a\u0000', '', '1', '10', '2', 'é', '€', '😀', '\ufb33', 'type', 'role', '__proto__', 'toJSON', 'constructor'),
  arbText,
);

/** Any JSON value (model.md §1); objects may have a `null` prototype. */
export const arbJson: fc.Arbitrary<Json> = fc.letrec<{ json: Json }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    arbJsonNumber,
    arbText,
    fc.array(tie('json'), { maxLength: 4 }),
    fc.dictionary(arbJsonKey, tie('json'), { maxKeys: 4 }),
  ),
})).json;

/** A JSON object (the usual shape of tool arguments). */
export const arbJsonObject: fc.Arbitrary<{ [key: string]: Json }> = fc.dictionary(arbJsonKey, arbJson, { maxKeys: 5 });

// ---------------------------------------------------------------------------
// Usage

/** A token count up to `max`. */
export const arbTokenCount = (max = Number.MAX_SAFE_INTEGER): fc.Arbitrary<number> =>
  max >= 2 ** 31 ? fc.oneof(fc.nat({ max: 100_000 }), fc.integer({ min: 0, max })) : fc.nat({ max });

/**
 * A valid `Usage` whose counts are at most `max`; each cache field present or
 * absent, their sum never above `inputTokens`.
 */
export const arbUsageWith = ({ max = Number.MAX_SAFE_INTEGER }: { readonly max?: number } = {}): fc.Arbitrary<Usage> =>
  fc
    .record({
      inputTokens: arbTokenCount(max),
      outputTokens: arbTokenCount(max),
      creation: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
      read: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    })
    .map(({ inputTokens, outputTokens, creation, read }) => {
      const u: Usage = { inputTokens, outputTokens };
      if (creation !== undefined) u.cacheCreationTokens = Math.floor(inputTokens * creation);
      if (read !== undefined) u.cacheReadTokens = Math.floor((inputTokens - (u.cacheCreationTokens ?? 0)) * read);
      return u;
    });

/** A valid `Usage` (counts up to `Number.MAX_SAFE_INTEGER`). */
export const arbUsage: fc.Arbitrary<Usage> = arbUsageWith();

// ---------------------------------------------------------------------------
// Content

/** An image source: inline canonical base64 or a blob id. */
export const arbImageSource = fc.oneof(
  arbBase64.map((data) => ({ type: 'inline' as const, data })),
  arbDigest.map((blobId) => ({ type: 'blob' as const, blobId })),
);

/** One arbitrary per `ContentBlock` type. */
export const arbContentBlockByType: { readonly [K in ContentBlock['type']]: fc.Arbitrary<Extract<ContentBlock, { type: K }>> } = {
  text: arbText.map((text) => ({ type: 'text' as const, text })),
  image: fc.record({ type: fc.constant('image' as const), mediaType: arbMediaType, source: arbImageSource }),
  structured: arbJson.map((data) => ({ type: 'structured' as const, data })),
};

/** Any `ContentBlock`. */
export const arbContentBlock: fc.Arbitrary<ContentBlock> = fc.oneof(
  arbContentBlockByType.text,
  arbContentBlockByType.image,
  arbContentBlockByType.structured,
);

/** User content: at least one block. */
export const arbUserContent: fc.Arbitrary<ContentBlock[]> = fc.array(arbContentBlock, { minLength: 1, maxLength: 4 });

const optional = { requiredKeys: [] as never[] };

/** One arbitrary per `AssistantBlock` type (optional `signature` present or absent). */
export const arbAssistantBlockByType: { readonly [K in AssistantBlock['type']]: fc.Arbitrary<Extract<AssistantBlock, { type: K }>> } = {
  text: fc
    .tuple(fc.record({ type: fc.constant('text' as const), text: arbText }), fc.record({ signature: arbText }, optional))
    .map(([b, o]) => ({ ...b, ...o })),
  transcript: fc.record({ type: fc.constant('transcript' as const), text: arbText, source: fc.constant('spoken' as const) }),
  reasoning: fc
    .tuple(fc.record({ type: fc.constant('reasoning' as const), text: arbText }), fc.record({ signature: arbText }, optional))
    .map(([b, o]) => ({ ...b, ...o })),
  tool_use: fc
    .tuple(
      fc.record({ type: fc.constant('tool_use' as const), id: arbNonEmptyText, name: arbNonEmptyText, args: fc.oneof(arbJsonObject, arbJson) }),
      fc.record({ signature: arbText }, optional),
    )
    .map(([b, o]) => ({ ...b, ...o })),
};

/** Any `AssistantBlock`. */
export const arbAssistantBlock: fc.Arbitrary<AssistantBlock> = fc.oneof(
  arbAssistantBlockByType.text,
  arbAssistantBlockByType.transcript,
  arbAssistantBlockByType.reasoning,
  arbAssistantBlockByType.tool_use,
);

/** A `ToolResult` (content may be empty; `details` present or absent). */
export const arbToolResult: fc.Arbitrary<ToolResult> = fc
  .tuple(
    fc.record({ toolUseId: arbNonEmptyText, content: fc.array(arbContentBlock, { maxLength: 3 }), isError: fc.boolean() }),
    fc.record({ details: arbJson }, optional),
  )
  .map(([r, o]) => ({ ...r, ...o }));

/** Every `StopReason`. */
export const stopReasons: readonly StopReason[] = ['end_turn', 'tool_use', 'max_tokens', 'stop_sequence', 'content_filter', 'cancelled', 'error'];
/** A `StopReason`. */
export const arbStopReason: fc.Arbitrary<StopReason> = fc.constantFrom(...stopReasons);

/** Every `TranscriptRole`. */
export const transcriptRoles: readonly TranscriptRole[] = ['conversational', 'compaction_summary', 'injected_context'];
/** A `TranscriptRole`. */
export const arbTranscriptRole: fc.Arbitrary<TranscriptRole> = fc.constantFrom(...transcriptRoles);

/** A notice kind: a known kind or any non-empty string. */
export const arbNoticeKind: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('generic', 'tool_scope', 'tool_scope_warning', 'background_job', 'mcp_pending', 'external_event', 'model_change'),
  arbNonEmptyText,
);

/** An `Origin` (`api`, `responseId` present or absent). */
export const arbOrigin: fc.Arbitrary<Origin> = fc
  .tuple(
    fc.record({ provider: fc.oneof(fc.constantFrom('anthropic', 'openai'), arbNonEmptyText), model: arbNonEmptyText }),
    fc.record({ api: fc.oneof(fc.constant('anthropic-messages'), arbNonEmptyText), responseId: arbNonEmptyText }, optional),
  )
  .map(([a, b]) => ({ ...a, ...b }));

// ---------------------------------------------------------------------------
// Messages

type Roles = Message['role'];
type Without<M> = M extends unknown ? Omit<M, 'createdAt'> : never;

const bodyByRole: { readonly [R in Roles]: fc.Arbitrary<Without<Extract<Message, { role: R }>>> } = {
  system: fc.record({ role: fc.constant('system' as const), text: arbText }),
  system_notice: fc
    .tuple(fc.record({ role: fc.constant('system_notice' as const), kind: arbNoticeKind, text: arbText }), fc.record({ data: arbJson }, optional))
    .map(([a, b]) => ({ ...a, ...b })),
  user: fc.record({ role: fc.constant('user' as const), content: arbUserContent, transcriptRole: arbTranscriptRole }),
  assistant: fc
    .tuple(
      fc.record({ role: fc.constant('assistant' as const), content: fc.array(arbAssistantBlock, { maxLength: 4 }), stopReason: arbStopReason }),
      fc.record({ errorMessage: arbText, origin: arbOrigin, usage: arbUsage }, optional),
    )
    .map(([a, b]) => ({ ...a, ...b })),
  tool_results: fc.record({ role: fc.constant('tool_results' as const), results: fc.array(arbToolResult, { minLength: 1, maxLength: 3 }) }),
};

/** The roles, in spec order. */
export const roles: readonly Roles[] = ['system', 'system_notice', 'user', 'assistant', 'tool_results'];

/** A `Message` of one role (with `createdAt`). */
export const arbMessageOf = <R extends Roles>(role: R): fc.Arbitrary<Extract<Message, { role: R }>> =>
  fc.tuple(bodyByRole[role], arbMillis).map(([body, createdAt]) => ({ ...body, createdAt }) as unknown as Extract<Message, { role: R }>);

/** One arbitrary per role. */
export const arbMessageByRole: { readonly [R in Roles]: fc.Arbitrary<Extract<Message, { role: R }>> } = {
  system: arbMessageOf('system'),
  system_notice: arbMessageOf('system_notice'),
  user: arbMessageOf('user'),
  assistant: arbMessageOf('assistant'),
  tool_results: arbMessageOf('tool_results'),
};

/** Any `Message`. */
export const arbMessage: fc.Arbitrary<Message> = fc.oneof(
  arbMessageByRole.system,
  arbMessageByRole.system_notice,
  arbMessageByRole.user,
  arbMessageByRole.assistant,
  arbMessageByRole.tool_results,
);

/** Any `MessageInput` (`createdAt` present or absent). */
export const arbMessageInput: fc.Arbitrary<MessageInput> = fc
  .tuple(arbMessage, fc.boolean())
  .map(([m, keep]) => {
    if (keep) return m;
    const { createdAt: _c, ...rest } = m;
    return rest as MessageInput;
  });

/** A transcript of up to `maxLength` messages. */
export const arbMessages = (maxLength = 8): fc.Arbitrary<Message[]> => fc.array(arbMessage, { maxLength });
