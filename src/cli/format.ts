/**
 * Shared formatting of the `palimpsest` command: short digests, times, byte
 * sizes, aligned tables, the one-line summary of every command type (what
 * `palimpsest log` prints) and the one-line summary of a message (what
 * `palimpsest show` prints). Pure: strings in, strings out.
 */
import type { Json } from '../model/json.ts';
import type { Message } from '../model/message.ts';
import type { Usage } from '../model/usage.ts';
import type { SessionCommand } from '../session/commands.ts';
import type { LogRecord } from '../session/record.ts';

/** Hex characters shown of a digest in human output (`log`, `revisions`, ...). */
export const SHORT_DIGEST = 12;

/** `sha256:3f2a…` → `3f2a9c1b0d4e` (the first 12 hex digits); anything else is returned as is. */
export const shortDigest = (d: string | undefined): string => {
  if (d === undefined) return '-';
  return d.startsWith('sha256:') ? d.slice(7, 7 + SHORT_DIGEST) : d;
};

/** ms since the epoch → ISO 8601 UTC (`2025-11-20T23:33:50.805Z`); `-` for a value that is not a valid time. */
export const isoTime = (ms: number | undefined): string => {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '-' : d.toISOString();
};

/** A duration in ms with one decimal below 100 ms (`12.3 ms`, `245 ms`). */
export const ms = (n: number): string => (n < 100 ? `${n.toFixed(1)} ms` : `${Math.round(n)} ms`);

/** A byte count in bytes and KiB/MiB (`974031 bytes (951.2 KiB)`). */
export const bytes = (n: number): string => {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${n} bytes (${(n / 1024).toFixed(1)} KiB)`;
  return `${n} bytes (${(n / 1024 / 1024).toFixed(2)} MiB)`;
};

/** The characters `terminalSafe` escapes: C0 controls but tab and newline, DEL, C1 controls. */
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * `text` with every control character a terminal would act on written as a
 * visible JSON-style escape (`\u001b`, `\u000d`, `\u0007`, …): C0 controls but
 * tab and newline, DEL and C1 controls. Human output shows transcripts, tool
 * output, labels and file names, which may hold escape sequences (colours,
 * clearing the screen or a line, moving the cursor, a carriage return that
 * overwrites a line, OSC title or clipboard writes); printed raw, they would
 * change or hide what an auditor reads. Pure.
 */
export const terminalSafe = (text: string): string =>
  text.replace(TERMINAL_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** `1 message` / `2 messages`. */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Cuts `s` to `max` characters (with `…`), on one line. */
export const oneLine = (s: string, max = 80): string => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}…`;
};

/** Compact JSON of a value, cut to `max` characters. */
export const jsonBrief = (v: unknown, max = 60): string => {
  let s: string;
  try {
    s = JSON.stringify(v) ?? 'undefined';
  } catch {
    s = String(v);
  }
  return oneLine(s, max);
};

/** Column alignment: `'left'` (default) or `'right'` (numbers). */
export type Align = 'left' | 'right';

/**
 * An aligned text table: a header row, then `rows`; columns separated by two
 * spaces; the last column is never padded. `align[i]` aligns column `i`.
 */
export const table = (header: readonly string[], rows: ReadonlyArray<readonly string[]>, align: readonly Align[] = []): string => {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((cell, i) => {
        if (i === r.length - 1 && align[i] !== 'right') return cell;
        return align[i] === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
};

/** `key: value` lines, keys aligned. */
export const fields = (pairs: ReadonlyArray<readonly [string, string]>, indent = ''): string => {
  const w = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${indent}${`${k}:`.padEnd(w + 1)} ${v}`).join('\n');
};

/** Counts of values, in first-seen order: `user, assistant` or `user ×3, assistant ×2`. */
export const countList = (values: readonly string[], maxDistinct = 6): string => {
  if (values.length <= 3) return values.join(', ');
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  const parts = [...counts].map(([k, n]) => (n === 1 ? k : `${k} ×${n}`));
  return parts.length > maxDistinct ? `${parts.slice(0, maxDistinct).join(', ')}, …` : parts.join(', ');
};

/** Usage in tokens: `in 1200 / out 340 tokens (cache read 800, cache write 0)`. */
export const usageText = (u: Usage): string => {
  const cache: string[] = [];
  if (u.cacheReadTokens !== undefined) cache.push(`cache read ${u.cacheReadTokens}`);
  if (u.cacheCreationTokens !== undefined) cache.push(`cache write ${u.cacheCreationTokens}`);
  return `in ${u.inputTokens} / out ${u.outputTokens} tokens${cache.length > 0 ? ` (${cache.join(', ')})` : ''}`;
};

// ---- messages -----------------------------------------------------------------

const blocksText = (blocks: ReadonlyArray<{ type: string; text?: string }>): string =>
  blocks
    .map((b) => (b.type === 'text' ? (b.text ?? '') : `[${b.type}]`))
    .filter((s) => s !== '')
    .join(' ');

/** The role of a message as shown, with the user `transcriptRole` when it is not conversational. */
export const roleLabel = (m: Message): string => (m.role === 'user' && m.transcriptRole !== 'conversational' ? `user/${m.transcriptRole}` : m.role);

/** A one-line summary of a message: its text, tool calls or tool results, cut to `max` characters. */
export const messageSummary = (m: Message, max = 100): string => {
  switch (m.role) {
    case 'system':
      return oneLine(m.text, max);
    case 'system_notice':
      return oneLine(`[${m.kind}] ${m.text}`, max);
    case 'user':
      return oneLine(blocksText(m.content), max);
    case 'assistant': {
      const calls = m.content.filter((b) => b.type === 'tool_use').map((b) => (b.type === 'tool_use' ? b.name : ''));
      const text = m.content
        .filter((b) => b.type === 'text' || b.type === 'transcript')
        .map((b) => ('text' in b ? b.text : ''))
        .join(' ');
      const reasoning = m.content.some((b) => b.type === 'reasoning') ? '[reasoning] ' : '';
      const tools = calls.length > 0 ? ` -> ${plural(calls.length, 'tool call')}: ${countList(calls)}` : '';
      return oneLine(`${reasoning}${text}${tools} (${m.stopReason})`, max);
    }
    case 'tool_results': {
      const errors = m.results.filter((r) => r.isError).length;
      const first = m.results[0];
      const preview = first === undefined ? '' : `: ${blocksText(first.content)}`;
      return oneLine(`${plural(m.results.length, 'result')}${errors > 0 ? ` (${errors} error)` : ''}${preview}`, max);
    }
  }
};

// ---- commands -----------------------------------------------------------------

const keys = (o: Readonly<Record<string, unknown>>): string => {
  const k = Object.keys(o);
  return k.length === 0 ? 'no metadata' : `${plural(k.length, 'metadata key')} (${oneLine(k.join(', '), 60)})`;
};

const scalarFields = (c: Readonly<Record<string, unknown>>): string =>
  Object.entries(c)
    .filter(([k]) => k !== 'type')
    .map(([k, v]) => (Array.isArray(v) ? `${k}: ${plural(v.length, 'item')}` : typeof v === 'object' && v !== null ? `${k}: {…}` : `${k}=${jsonBrief(v, 40)}`))
    .join(', ');

const requestNames = (rs: ReadonlyArray<{ name: string }>): string => (rs.length === 0 ? 'none' : countList(rs.map((r) => r.name)));

const appendKeys = (as: ReadonlyArray<{ idempotencyKey?: string; sourceKind?: string }>): string =>
  `${plural(as.length, 'append')}${as.length > 0 ? ` (${countList(as.map((a) => a.idempotencyKey ?? a.sourceKind ?? '?'))})` : ''}`;

const filterText = (f: unknown): string => {
  if (typeof f !== 'object' || f === null) return jsonBrief(f, 40);
  const o = f as Record<string, unknown>;
  const type = typeof o.type === 'string' ? o.type : 'filter';
  const lists = Object.entries(o)
    .filter(([k, v]) => k !== 'type' && Array.isArray(v))
    .map(([k, v]) => `${k} ${(v as unknown[]).length}`);
  return lists.length > 0 ? `${type} (${lists.join(', ')})` : type;
};

const catalogSize = (c: unknown): string => {
  if (typeof c === 'object' && c !== null) {
    const tools = (c as Record<string, unknown>).tools;
    if (Array.isArray(tools)) return `catalog ${plural(tools.length, 'tool')}`;
  }
  return 'catalog';
};

/**
 * The one-line summary of a command, as `palimpsest log` prints it after the
 * command type: `2 messages (user, assistant)`,
 * `[0,40) -> 1 message, reason compaction`, `pi.modelId = "claude-sonnet-4-5"`,
 * machine commands by their key fields.
 */
export const commandSummary = (c: SessionCommand): string => {
  switch (c.type) {
    case 'session_created':
      return `root session, ${keys(c.metadata)}`;
    case 'session_forked': {
      const mode = c.mode === 'full' ? 'full' : c.mode === 'at' ? `at message ${c.index ?? '?'}` : `replacing message ${c.index ?? '?'} (${c.replacement?.type ?? '?'})`;
      return `fork (${mode}) of ${c.from.sessionId} at seq ${c.from.seq} (${shortDigest(c.from.hash)})`;
    }
    case 'messages_appended':
      return `${plural(c.messages.length, 'message')} (${countList(c.messages.map(roleLabel))})`;
    case 'transcript_rewritten': {
      const s = c.selection;
      const note = c.reason.note !== undefined ? ` (${oneLine(c.reason.note, 40)})` : '';
      const actor = c.actor !== undefined ? `, actor ${c.actor}` : '';
      return `[${s.start},${s.end}) -> ${plural(c.replacement.length, 'message')}, reason ${c.reason.kind}${note}${actor}`;
    }
    case 'system_prompt_set':
      return `system prompt (${plural(c.prompt.length, 'char')}): ${oneLine(c.prompt, 40)}`;
    case 'synthetic_notices_replaced':
      return `notices of kind ${c.kind} -> ${plural(c.replacements.length, 'notice')}`;
    case 'usage_recorded':
      return `+${usageText(c.usage)}`;
    case 'metadata_set':
      return `${c.key} = ${jsonBrief(c.value as Json)}`;
    case 'metadata_removed':
      return c.key;
    case 'metadata_backfilled':
      return `${c.key} = ${jsonBrief(c.value as Json)} (if absent)`;
    case 'session_touched':
      return 'updatedAt moved';
    case 'session_archived':
      return c.reason !== undefined ? `reason: ${oneLine(c.reason, 60)}` : 'archived';
    case 'session_revived':
      return 'revived';
    case 'first_turn_deferred':
      return 'first turn deferred';
    case 'initial_prompt_staged':
      return `initial prompt, ${plural(c.prompt.length, 'block')}`;
    case 'tool_results_staged':
      return `${plural(c.results.length, 'result')} (${countList(c.results.map((r) => r.toolUseId))})`;
    case 'turn_started':
      return 'turn started';
    case 'turn_start_reverted':
      return `revert turn started at seq ${c.startSeq}`;
    case 'system_context_staged':
      return `${appendKeys(c.appends)}${c.activeTurn ? ', active turn' : ''}`;
    case 'system_context_marked_applied':
      return 'pending context marked applied';
    case 'system_context_active_turn_discarded':
      return c.keys !== undefined ? `keys ${countList(c.keys)}` : 'all active-turn context';
    case 'system_context_blocks_appended':
      return appendKeys(c.appends);
    case 'system_context_boundary':
      return 'render pending context';
    case 'runtime_steer_context_discarded':
      return 'transient steer context discarded';
    case 'tool_filter_staged':
      return `filter ${filterText(c.filter)}, ${catalogSize(c.catalog)}`;
    case 'tool_inherited_filter_set':
      return `filter ${filterText(c.filter)}, ${plural(c.witnesses.length, 'witness', 'witnesses')}`;
    case 'tool_deferred_requested':
      return `request ${requestNames(c.requests)}, ${catalogSize(c.catalog)}`;
    case 'tool_deferred_requests_cleared':
      return 'deferred requests cleared';
    case 'tool_capability_set':
      return `imageToolResults=${c.imageToolResults}`;
    case 'tool_boundary_applied':
      return catalogSize(c.catalog);
    case 'tool_boundary_failed':
      return `${c.errorTag}: ${oneLine(c.message, 60)}`;
    case 'tool_turn_overlay_set':
      return `deny ${c.deny.length}, activate ${requestNames(c.activate)}${c.allow !== undefined ? `, allow ${c.allow.length}` : ''}`;
    case 'tool_turn_overlay_cleared':
      return 'turn overlay cleared';
    case 'tool_visibility_intent_restored':
      return `active rev ${c.intent.activeRevision}, staged rev ${c.intent.stagedRevision}`;
    case 'realtime_transcript_event': {
      const ev = c.event as unknown as Record<string, unknown>;
      const item = typeof ev.itemId === 'string' ? ` item ${ev.itemId}` : typeof ev.responseId === 'string' ? ` response ${ev.responseId}` : '';
      return `${String(ev.type)}${item}`;
    }
    case 'realtime_transcript_flush':
      return 'flush';
    default:
      return oneLine(scalarFields(c as unknown as Record<string, unknown>), 80);
  }
};

/** One row of `palimpsest log`: seq, ISO time, command type, summary, short revision. */
export const logRow = (r: LogRecord): string[] => [String(r.seq), isoTime(r.at), r.command.type, commandSummary(r.command), shortDigest(r.revision)];

/** The header of `palimpsest log`. */
export const LOG_HEADER = ['seq', 'time', 'command', 'summary', 'revision'] as const;

/** `palimpsest log` as a table: the revision column moved before the (long) summary so that it stays aligned. */
export const logTable = (records: readonly LogRecord[], occurred?: (seq: number) => number | undefined): string =>
  occurred === undefined
    ? table(
        ['seq', 'time', 'command', 'revision', 'summary'],
        records.map((r) => {
          const [seq, time, type, summary, rev] = logRow(r);
          return [seq!, time!, type!, rev!, summary!];
        }),
        ['right'],
      )
    : // Imported records: `time` is when it happened (pi's time), `imported` when the record was accepted.
      table(
        ['seq', 'time', 'imported', 'command', 'revision', 'summary'],
        records.map((r) => {
          const [seq, time, type, summary, rev] = logRow(r);
          const o = occurred(r.seq);
          return [seq!, o !== undefined ? isoTime(o) : time!, time!, type!, rev!, summary!];
        }),
        ['right'],
      );

// ---- readable state ------------------------------------------------------------

const isScalar = (v: unknown): boolean => v === null || typeof v !== 'object';

/**
 * A value as indented `key: value` lines (YAML-like): objects nest, short
 * arrays of scalars stay on one line, long strings are cut. For `show --state`.
 */
export const readable = (v: unknown, indent = '  ', depth = 0): string => {
  const pad = indent.repeat(depth);
  if (isScalar(v)) return `${pad}${jsonBrief(v, 100)}`;
  if (Array.isArray(v)) {
    if (v.length === 0) return `${pad}[]`;
    if (v.every(isScalar)) return `${pad}${jsonBrief(v, 100)}`;
    return v.map((x, i) => (isScalar(x) ? `${pad}- ${jsonBrief(x, 100)}` : `${pad}- [${i}]\n${readable(x, indent, depth + 1)}`)).join('\n');
  }
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) return `${pad}{}`;
  return entries
    .map(([k, x]) => {
      if (isScalar(x) || (Array.isArray(x) && (x.length === 0 || x.every(isScalar)))) return `${pad}${k}: ${jsonBrief(x, 100)}`;
      if (!Array.isArray(x) && Object.keys(x as object).length === 0) return `${pad}${k}: {}`;
      return `${pad}${k}:\n${readable(x, indent, depth + 1)}`;
    })
    .join('\n');
};
