/**
 * Line diffs of the message texts a message-level diff changed (pure), as
 * unified patches made by the `diff` package (`structuredPatch`).
 *
 * Each changed hunk (removed, added, replaced) becomes one patch of the texts
 * of its old span against the texts of its new span; each message is rendered
 * as a `#<index> <role>` header line followed by its text (tool calls as
 * `[tool_use <name> <canonical JSON arguments>]`, tool results as
 * `[tool_result <id>]` lines). Kept hunks have no patch.
 */
import { formatPatch, structuredPatch, type StructuredPatchHunk } from 'diff';
import { canonicalJsonUnsafe, messageText, toolUses } from '../model/index.ts';
import type { Message } from '../model/message.ts';
import type { DiffHunk, SpanHunk } from './diff.ts';

/** The line diff of one changed hunk (its index in `MessageDiff.hunks`). */
export interface HunkTextDiff {
  readonly hunk: number;
  readonly kind: Exclude<DiffHunk['kind'], 'kept'>;
  /** Unified-diff hunks (`@@ -l,s +l,s @@` with `+`/`-`/` ` lines), 3 lines of context. */
  readonly patch: readonly StructuredPatchHunk[];
}

/** The label of a message in rendered texts: `#<index> <role>` (user messages that are not conversational add their transcript role). */
export const messageHeader = (m: Message, index: number): string =>
  `#${index} ${m.role === 'user' && m.transcriptRole !== 'conversational' ? `user/${m.transcriptRole}` : m.role === 'system_notice' ? `system_notice/${m.kind}` : m.role}`;

/** The lines of one message as a line diff shows them. */
export const messageLines = (m: Message, index: number): string[] => {
  const lines = [messageHeader(m, index)];
  const text = messageText(m);
  if (text !== '') lines.push(...text.split('\n'));
  for (const u of toolUses(m)) lines.push(`[tool_use ${u.name} ${canonicalJsonUnsafe(u.args)}]`);
  if (m.role === 'tool_results') for (const r of m.results) lines.push(`[tool_result ${r.toolUseId}${r.isError === true ? ' error' : ''}]`);
  return lines;
};

const spanText = (messages: readonly Message[], start: number, end: number): string => {
  const out: string[] = [];
  for (let i = start; i < end; i++) out.push(...messageLines(messages[i]!, i));
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
};

/** The line diffs of every changed hunk of `d`, which must be the diff of `a` against `b`. */
export const textDiffs = (d: { readonly hunks: readonly SpanHunk[] }, a: readonly Message[], b: readonly Message[]): HunkTextDiff[] => {
  const out: HunkTextDiff[] = [];
  d.hunks.forEach((h, index) => {
    if (h.kind === 'kept') return;
    const p = structuredPatch('a', 'b', spanText(a, h.a.start, h.a.end), spanText(b, h.b.start, h.b.end), undefined, undefined, { context: 3 });
    out.push({ hunk: index, kind: h.kind, patch: p.hunks });
  });
  return out;
};

/** A hunk's line diff as unified-diff text (`--- a` / `+++ b` headers, then the `@@` hunks). */
export const patchText = (t: HunkTextDiff, label: string): string =>
  formatPatch({ oldFileName: `a ${label}`, newFileName: `b ${label}`, oldHeader: undefined, newHeader: undefined, hunks: [...t.patch] });
