/**
 * Content blocks, assistant blocks, tool results and stop reasons (model.md §3).
 */
import type * as t from 'io-ts';
import { arrayOf, bool, dispatch, literal, nonEmptyStr, oneOf, refine, str, strict } from './decode.ts';
import { JsonCodec } from './json.ts';
import { BlobIdCodec } from './scalars.ts';

const mediaTypeRe = /^image\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;
const anyMediaTypeRe = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;

/** Canonical media type of a stored blob: `<type>/<subtype>`, lowercase, no parameters (images, and e.g. `application/json` for an importer's source copy). */
export const BlobMediaTypeCodec = refine(str, 'BlobMediaType', (s) =>
  anyMediaTypeRe.test(s) ? undefined : `expected a canonical media type like image/png or application/json, found ${JSON.stringify(s)}`,
);

/** Canonical image media type: `image/<subtype>`, lowercase, no parameters. */
export const MediaTypeCodec = refine(str, 'MediaType', (s) =>
  mediaTypeRe.test(s) ? undefined : `expected a canonical image media type like image/png, found ${JSON.stringify(s)}`,
);

/** Canonicalizes a media type the way constructors do: trim, cut at `;`, lowercase. */
export const canonicalMediaType = (mediaType: string): string => (mediaType.split(';')[0] ?? '').trim().toLowerCase();

const base64Re = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Whether `s` is non-empty, padded, whitespace-free standard base64 that
 * re-encodes to itself (RFC 4648 §4): the alphabet, a length that is a
 * multiple of 4, at most two `=` at the end, and zero in the bits the last
 * character before the padding leaves unused (4 bits before `==`, 2 before
 * `=`, §3.5). Checked on the text, without decoding it (a 16 MB image
 * decoded and re-encoded held 29 MB more).
 */
export const isCanonicalBase64 = (s: string): boolean => {
  if (s.length === 0 || s.length % 4 !== 0 || !base64Re.test(s)) return false;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  if (pad === 0) return true;
  const last = BASE64_ALPHABET.indexOf(s.charAt(s.length - pad - 1));
  return last % (pad === 2 ? 16 : 4) === 0;
};

/** Canonical standard base64 text. */
export const Base64Codec = refine(str, 'Base64', (s) => (isCanonicalBase64(s) ? undefined : 'expected non-empty canonical padded standard base64'));

/** Where an image's bytes are: inline base64, or a blob in the store by id. */
export const ImageSourceCodec = dispatch(
  'ImageSource',
  'type',
  {
    inline: strict('InlineImageSource', { type: literal('inline'), data: Base64Codec }),
    blob: strict('BlobImageSource', { type: literal('blob'), blobId: BlobIdCodec }),
  },
  'unknown_block_type',
);
/** Where an image's bytes are. */
export type ImageSource = t.TypeOf<typeof ImageSourceCodec>;

/** `{ type: 'text', text }` */
export const TextBlockCodec = strict('TextBlock', { type: literal('text'), text: str });
/** `{ type: 'image', mediaType, source }` */
export const ImageBlockCodec = strict('ImageBlock', { type: literal('image'), mediaType: MediaTypeCodec, source: ImageSourceCodec });
/** `{ type: 'structured', data }`: structured tool output kept as JSON. */
export const StructuredBlockCodec = strict('StructuredBlock', { type: literal('structured'), data: JsonCodec });

/** A block of user content or tool-result content. */
export const ContentBlockCodec = dispatch(
  'ContentBlock',
  'type',
  { text: TextBlockCodec, image: ImageBlockCodec, structured: StructuredBlockCodec },
  'unknown_block_type',
);
/** A block of user content or tool-result content. */
export type ContentBlock = t.TypeOf<typeof ContentBlockCodec>;
/** An image block. */
export type ImageBlock = t.TypeOf<typeof ImageBlockCodec>;

/** User content: at least one block. */
export const UserContentCodec = arrayOf(ContentBlockCodec, { minLength: 1, name: 'UserContent' });
/** User content: at least one block. */
export type UserContent = t.TypeOf<typeof UserContentCodec>;

/** A block of an assistant turn. */
export const AssistantBlockCodec = dispatch(
  'AssistantBlock',
  'type',
  {
    text: strict('OutputTextBlock', { type: literal('text'), text: str }, { signature: str }),
    transcript: strict('TranscriptBlock', { type: literal('transcript'), text: str, source: literal('spoken') }),
    reasoning: strict('ReasoningBlock', { type: literal('reasoning'), text: str }, { signature: str }),
    tool_use: strict('ToolUseBlock', { type: literal('tool_use'), id: nonEmptyStr, name: nonEmptyStr, args: JsonCodec }, { signature: str }),
  },
  'unknown_block_type',
);
/** A block of an assistant turn. */
export type AssistantBlock = t.TypeOf<typeof AssistantBlockCodec>;
/** A `tool_use` assistant block. */
export type ToolUseBlock = Extract<AssistantBlock, { type: 'tool_use' }>;

/** The answer to one tool use; `details` is display data never sent to a model. */
export const ToolResultCodec = strict(
  'ToolResult',
  { toolUseId: nonEmptyStr, content: arrayOf(ContentBlockCodec), isError: bool },
  { details: JsonCodec },
);
/** The answer to one tool use. */
export type ToolResult = t.TypeOf<typeof ToolResultCodec>;

/** Why an assistant turn ended. */
export const StopReasonCodec = oneOf('StopReason', ['end_turn', 'tool_use', 'max_tokens', 'stop_sequence', 'content_filter', 'cancelled', 'error'] as const);
/** Why an assistant turn ended. */
export type StopReason = t.TypeOf<typeof StopReasonCodec>;
