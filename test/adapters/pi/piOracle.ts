/**
 * pi's own SessionManager (npm `@mariozechner/pi-coding-agent`) as the oracle
 * for round trips: write a session file with it, read files back with it, and
 * compare what pi sees (entries, `getTree()`, `buildSessionContext()` per leaf).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { SessionManager, buildSessionContext, type SessionEntry } from '@mariozechner/pi-coding-agent';

type PiMessage = Parameters<SessionManager['appendMessage']>[0];

/** A pi usage block with a non-zero cost (dollars). */
export const piUsage = (input: number, output: number) => ({
  input,
  output,
  cacheRead: 3,
  cacheWrite: 2,
  totalTokens: input + output + 5,
  cost: { input: input * 0.000003, output: output * 0.000015, cacheRead: 0.0000009, cacheWrite: 0.0000075, total: input * 0.000003 + output * 0.000015 + 0.0000084 },
});

/** An assistant message as pi writes it. */
export const piAssistantMsg = (content: unknown[], stopReason: string, extra: Record<string, unknown> = {}): PiMessage =>
  ({
    role: 'assistant',
    content,
    api: 'anthropic-messages',
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    usage: piUsage(120, 40),
    stopReason,
    timestamp: Date.now(),
    ...extra,
  }) as unknown as PiMessage;

/**
 * Writes a v3 session with pi's SessionManager in `dir`: every message role
 * (user, assistant with thinking and tool calls whose argument keys are not
 * sorted, toolResult, bashExecution, custom, branchSummary, compactionSummary),
 * a model change, a thinking level change, custom entries, a custom message, a
 * session name, labels, a compaction, `branch` and `branchWithSummary`.
 * Returns the file path.
 */
export const writeRichPiSession = (dir: string, cwd = '/work/project'): string => {
  const sm = SessionManager.create(cwd, dir);
  const u1 = sm.appendMessage({ role: 'user', content: 'List the files, please.', timestamp: Date.now() } as PiMessage);
  sm.appendModelChange('anthropic', 'claude-sonnet-4-5');
  sm.appendThinkingLevelChange('high');
  const a1 = sm.appendMessage(
    piAssistantMsg(
      [
        { type: 'thinking', thinking: 'I should run ls.', thinkingSignature: 'sig-1' },
        { type: 'text', text: 'Running ls.' },
        { type: 'toolCall', id: 'call_1', name: 'bash', arguments: { timeout: 30, command: 'ls -la', cwd: '/w' } },
      ],
      'toolUse',
    ),
  );
  sm.appendMessage({ role: 'toolResult', toolCallId: 'call_1', toolName: 'bash', content: [{ type: 'text', text: 'a.txt\nb.txt' }], details: { exit: 0 }, isError: false, timestamp: Date.now() } as PiMessage);
  sm.appendMessage(piAssistantMsg([{ type: 'text', text: 'Two files.' }], 'stop'));
  sm.appendCustomEntry('my-extension', { state: { z: 1, a: 2 } });
  sm.appendSessionInfo('file listing');
  sm.appendLabelChange(a1, 'checkpoint-1');
  sm.appendMessage({
    role: 'bashExecution',
    command: 'git status',
    output: 'clean',
    exitCode: 0,
    cancelled: false,
    truncated: false,
    timestamp: Date.now(),
  } as unknown as PiMessage);
  sm.appendCustomMessageEntry('reminder', 'Remember the style guide.', true, { source: 'ext' });
  sm.appendMessage({ role: 'custom', customType: 'note', content: [{ type: 'text', text: 'a custom note' }], display: false, timestamp: Date.now() } as unknown as PiMessage);
  const u2 = sm.appendMessage({ role: 'user', content: [{ type: 'text', text: 'Now count lines.' }], timestamp: Date.now() } as PiMessage);
  sm.appendMessage(piAssistantMsg([{ type: 'text', text: '' }], 'error', { errorMessage: 'overloaded' }));
  sm.appendCompaction('Summary: listed files, found two.', u2, 5000, { readFiles: ['a.txt'] });
  sm.appendMessage(piAssistantMsg([{ type: 'text', text: 'After compaction.' }], 'stop'));
  sm.appendMessage({ role: 'compactionSummary', summary: 'an inline compaction summary', tokensBefore: 77, timestamp: Date.now() } as unknown as PiMessage);
  sm.appendMessage({ role: 'branchSummary', summary: 'an inline branch summary', fromId: u1, timestamp: Date.now() } as unknown as PiMessage);
  // A second branch from the first user message, with a summary of what was abandoned.
  sm.branchWithSummary(u1, 'Abandoned: the ls attempt.', { files: 2 });
  sm.appendMessage({ role: 'user', content: 'Try a different way.', timestamp: Date.now() } as PiMessage);
  sm.appendMessage(piAssistantMsg([{ type: 'toolCall', id: 'call_2', name: 'read', arguments: { path: 'a.txt', limit: 10, offset: 1 } }], 'toolUse'));
  // A third branch by plain branch(): the tool call above stays unanswered there (pi's aborted turn).
  sm.branch(a1);
  sm.appendMessage({ role: 'user', content: 'Stop. Something else.', timestamp: Date.now() } as PiMessage);
  sm.appendLabelChange(u1, 'start');
  sm.appendMessage(piAssistantMsg([{ type: 'text', text: 'OK.' }], 'stop'));
  return sm.getSessionFile()!;
};

/** The entries of a pi file (JSON objects after the header), and the header. */
export const readEntries = (file: string): { header: Record<string, unknown>; entries: Array<Record<string, unknown>> } => {
  const lines = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  return { header: JSON.parse(lines[0]!) as Record<string, unknown>, entries: lines.slice(1).map((l) => JSON.parse(l) as Record<string, unknown>) };
};

/** The exact JSON text of each entry line (key order included). */
export const entryLines = (file: string): string[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(1)
    .map((l) => JSON.stringify(JSON.parse(l)));

/** The leaves of a pi tree: entry ids no entry names as its parent. */
export const leavesOf = (entries: readonly SessionEntry[]): string[] => {
  const parents = new Set(entries.map((e) => e.parentId));
  return entries.filter((e) => !parents.has(e.id)).map((e) => e.id);
};

/** What pi sees in a file: its tree, and the model context for every leaf (opened on a copy: pi rewrites v1/v2 files it migrates). */
export const piView = (file: string) => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'palimpsest-pi-view-'));
  const copy = nodePath.join(dir, nodePath.basename(file));
  fs.copyFileSync(file, copy);
  const sm = SessionManager.open(copy);
  fs.rmSync(dir, { recursive: true, force: true });
  const entries = sm.getEntries();
  const contexts = Object.fromEntries(leavesOf(entries).map((leaf) => [leaf, buildSessionContext(entries, leaf)]));
  return { sm, entries, tree: sm.getTree(), contexts, header: sm.getHeader() };
};

/** `value` with every string equal to a key of `ids` replaced by its value (to compare files whose entry ids differ). */
export const renameIds = (value: unknown, ids: ReadonlyMap<string, string>): unknown => {
  if (typeof value === 'string') return ids.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => renameIds(v, ids));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renameIds(v, ids)]));
  return value;
};
