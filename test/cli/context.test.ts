/**
 * What the CLI prints for a human never carries a control character a terminal
 * acts on: a session's texts, tool output, labels and file names are shown
 * with them escaped (`terminalSafe`), so content cannot clear the screen,
 * rewrite a line or hide itself from an auditor. `--json` and `export` keep
 * the bytes as they are.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionManager } from '@mariozechner/pi-coding-agent';
import { terminalSafe } from '../../src/cli/format.ts';
import { piAssistantMsg } from '../adapters/pi/piOracle.ts';
import { cleanup, cli, cliJson, tempDir } from './helpers.ts';

afterAll(cleanup);

/** Any control character but tab and newline (C0, DEL, C1). */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('terminalSafe', () => {
  it('escapes C0 (but tab and newline), DEL and C1 controls, and nothing else', () => {
    expect(terminalSafe('a\u001b[2Jb\rc\u0007d\u007fe\u009bf\tg\nh é 😀 \u2028')).toBe('a\\u001b[2Jb\\u000dc\\u0007d\\u007fe\\u009bf\tg\nh é 😀 \u2028');
    expect(terminalSafe('plain text\n')).toBe('plain text\n');
  });
});

describe('human output of a session holding escape sequences', () => {
  it('show, show --message, log and the import report print them escaped; --json and export keep them', { timeout: 60_000 }, async () => {
    const dir = tempDir('escapes');
    const sm = SessionManager.create('/w', dir);
    const hidden = 'visible\u001b[8m hidden\u001b[0m\u001b[1A\u001b[2K\rrewritten \u001b]0;title\u0007';
    sm.appendMessage({ role: 'user', content: hidden, timestamp: Date.now() });
    sm.appendMessage(piAssistantMsg([{ type: 'toolCall', id: 'c1', name: 'bash', arguments: { command: 'ls --color' } }], 'toolUse'));
    sm.appendMessage({ role: 'toolResult', toolCallId: 'c1', toolName: 'bash', content: [{ type: 'text', text: '\u001b[1;34mdir\u001b[0m\n\u001b[2Jcleared' }], isError: false, timestamp: Date.now() });
    sm.appendMessage(piAssistantMsg([{ type: 'text', text: 'ok' }], 'stop'));
    const file = nodePath.join(dir, 'esc\u001b[31m.jsonl');
    fs.renameSync(sm.getSessionFile()!, file);
    const store = ['--store', nodePath.join(dir, 'store')];

    const imported = await cli([...store, 'import', file], dir);
    expect(imported.code).toBe(0);
    expect(imported.stdout).not.toMatch(CONTROL);
    expect(imported.stdout).toContain('esc\\u001b[31m.jsonl');
    const id = `pi:${sm.getSessionId()}`;
    for (const args of [['show', id], ['show', id, '--message', '0'], ['show', id, '--message', '2'], ['log', id], ['revisions', id], ['sessions']]) {
      const r = await cli([...store, ...args], dir);
      expect(r.code).toBe(0);
      expect(r.stdout).not.toMatch(CONTROL);
    }
    expect((await cli([...store, 'show', id, '--message', '0'], dir)).stdout).toContain('visible\\u001b[8m hidden\\u001b[0m\\u001b[1A\\u001b[2K\\u000drewritten \\u001b]0;title\\u0007');
    // An error naming the file: escaped too.
    const again = await cli([...store, 'import', file], dir);
    expect(again.code).toBe(1);
    expect(again.stderr).not.toMatch(CONTROL);
    expect(again.stderr).toContain('esc\\u001b[31m.jsonl');

    // Data output is the data: --json parses back to the text, export gives back pi's bytes.
    const shown = await cliJson([...store, 'show', id], dir);
    expect(shown.json.messages[0].content[0].text).toBe(hidden);
    expect((await cli([...store, 'export', id], dir)).stdout).toBe(fs.readFileSync(file, 'utf8'));
  });
});
