/**
 * Small pure helpers of the local OpenAI-compatible test server: id minting,
 * delta splitting and usage estimation.
 */
import { randomBytes } from 'node:crypto';
import type { ScriptedCompletion, ScriptedUsage } from './types.ts';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A fresh random id shaped like OpenAI's: `chatcmpl-` + 29 base-62 characters; any other prefix
 * (`resp_`, `msg_`, `fc_`, `req_`) + 48 lowercase hex digits. Not cryptographically meaningful.
 */
export function newOpenAIId(prefix: string): string {
  if (prefix === 'chatcmpl-') {
    const bytes = randomBytes(29);
    let out = prefix;
    for (const b of bytes) out += BASE62[b % 62] ?? 'A';
    return out;
  }
  return prefix + randomBytes(24).toString('hex');
}

/**
 * Splits assistant text into word-sized deltas (`"Hello big world"` → `["Hello ", "big ", "world"]`);
 * leading whitespace is its own delta. The deltas concatenate to `text` exactly; `''` gives `[]`.
 */
export function splitTextDeltas(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/**
 * Splits tool-call argument text into deltas of at most `size` code points (default 8; never splits
 * a surrogate pair). The deltas concatenate to `args` exactly; `''` gives `[]`.
 */
export function splitArgumentDeltas(args: string, size = 8): string[] {
  const points = Array.from(args);
  const out: string[] = [];
  for (let i = 0; i < points.length; i += size) out.push(points.slice(i, i + size).join(''));
  return out;
}

/** The text and argument characters a completion outputs (what the default usage estimate counts). */
function outputChars(reply: ScriptedCompletion): number {
  if (reply.kind === 'text') return reply.text.length;
  let n = reply.text?.length ?? 0;
  for (const c of reply.calls) n += c.name.length + c.arguments.length;
  return n;
}

/**
 * The usage to report for `reply`: its scripted `usage`, or an estimate — input tokens
 * ceil(JSON length of the request's `messages` (Chat) or `input` (Responses), else of the whole body, ÷ 4),
 * output tokens ceil(output characters ÷ 4), each at least 1; `cachedTokens` 0.
 */
export function resolveUsage(reply: ScriptedCompletion, body: unknown): Required<ScriptedUsage> {
  if (reply.usage) return { cachedTokens: 0, ...reply.usage };
  const record = isRecord(body) ? body : {};
  const prompt = record['messages'] ?? record['input'] ?? body;
  const promptChars = JSON.stringify(prompt ?? '')?.length ?? 0;
  return {
    inputTokens: Math.max(1, Math.ceil(promptChars / 4)),
    outputTokens: Math.max(1, Math.ceil(outputChars(reply) / 4)),
    cachedTokens: 0,
  };
}

/** True for a non-null, non-array object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
