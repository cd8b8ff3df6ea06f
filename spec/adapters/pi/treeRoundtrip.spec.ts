/**
 * Property (issue 9): any pi tree pi's own SessionManager can write (messages of
 * every kind, `branch`, `branchWithSummary`, compactions, labels, custom
 * entries, model and thinking-level changes, session names) survives
 * pi → palimpsest → pi: the whole-tree export has the same entries as the
 * original, JSON text for JSON text, and pi builds the same tree and the same
 * model context for every leaf from it.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionManager, buildSessionContext } from '@mariozechner/pi-coding-agent';
import { importPiFile } from '../../../src/adapters/pi/store.ts';
import { exportPi } from '../../../src/adapters/pi/sourceExport.ts';
import { cleanupDirs, openStore, right, tempDir } from '../../../test/store/helpers.ts';
import { leavesOf, piAssistantMsg } from '../../../test/adapters/pi/piOracle.ts';

afterAll(cleanupDirs);

type PiMessage = Parameters<SessionManager['appendMessage']>[0];

/** One step of a pi session's life; `pick` chooses an existing entry (modulo the count). */
type Step =
  | { readonly kind: 'user'; readonly text: string }
  | { readonly kind: 'reply'; readonly text: string }
  | { readonly kind: 'tools'; readonly calls: number; readonly answered: number }
  | { readonly kind: 'branch'; readonly pick: number }
  | { readonly kind: 'branchWithSummary'; readonly pick: number; readonly text: string }
  | { readonly kind: 'compaction'; readonly pick: number; readonly text: string }
  | { readonly kind: 'label'; readonly pick: number; readonly text: string }
  | { readonly kind: 'custom'; readonly text: string }
  | { readonly kind: 'model'; readonly text: string }
  | { readonly kind: 'name'; readonly text: string };

const text = fc.string({ maxLength: 10 });
const pick = fc.nat();
const arbStep: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('user' as const), text }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('reply' as const), text }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('tools' as const), calls: fc.integer({ min: 1, max: 3 }), answered: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('branch' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('branchWithSummary' as const), pick, text }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compaction' as const), pick, text }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('label' as const), pick, text: text.filter((t) => t.trim() !== '') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('custom' as const), text }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('model' as const), text: text.filter((t) => t !== '') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('name' as const), text }) },
);

/** Runs `steps` against an in-memory SessionManager and returns the JSONL pi would write. */
const piFileOf = (steps: readonly Step[]): string => {
  const sm = SessionManager.inMemory('/work/prop');
  let calls = 0;
  sm.appendMessage({ role: 'user', content: 'start', timestamp: 1 } as PiMessage);
  for (const s of steps) {
    const ids = sm.getEntries().map((e) => e.id);
    const at = (n: number): string => ids[n % ids.length]!;
    switch (s.kind) {
      case 'user':
        sm.appendMessage({ role: 'user', content: s.text, timestamp: 2 } as PiMessage);
        break;
      case 'reply':
        sm.appendMessage(piAssistantMsg([{ type: 'text', text: s.text }], 'stop'));
        break;
      case 'tools': {
        const ids2 = Array.from({ length: s.calls }, () => `call_${++calls}`);
        sm.appendMessage(piAssistantMsg(ids2.map((id, i) => ({ type: 'toolCall', id, name: 'bash', arguments: { z: i, a: 'x' } })), 'toolUse'));
        for (const id of ids2.slice(0, s.answered)) {
          sm.appendMessage({ role: 'toolResult', toolCallId: id, toolName: 'bash', content: [{ type: 'text', text: 'ok' }], isError: false, timestamp: 3 } as PiMessage);
        }
        break;
      }
      case 'branch':
        sm.branch(at(s.pick));
        break;
      case 'branchWithSummary':
        sm.branchWithSummary(at(s.pick), s.text);
        break;
      case 'compaction': {
        const path = sm.getBranch();
        sm.appendCompaction(s.text, path[s.pick % path.length]!.id, 1000 + s.pick);
        break;
      }
      case 'label':
        sm.appendLabelChange(at(s.pick), s.text);
        break;
      case 'custom':
        sm.appendCustomEntry('prop-ext', { text: s.text });
        break;
      case 'model':
        sm.appendModelChange('anthropic', s.text);
        break;
      case 'name':
        sm.appendSessionInfo(s.text);
        break;
    }
  }
  return [sm.getHeader(), ...sm.getEntries()].map((e) => `${JSON.stringify(e)}\n`).join('');
};

const contextsOf = (text: string) => {
  const entries = text
    .split('\n')
    .filter((l) => l !== '')
    .slice(1)
    .map((l) => JSON.parse(l) as Parameters<typeof buildSessionContext>[0][number]);
  return Object.fromEntries(leavesOf(entries).map((leaf) => [leaf, buildSessionContext(entries, leaf)]));
};

describe('random pi trees round-trip through palimpsest', () => {
  it('whole-tree export = the file pi wrote; same context at every leaf', { timeout: 300_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbStep, { minLength: 1, maxLength: 25 }), async (steps) => {
        const original = piFileOf(steps);
        const dir = tempDir('pi-prop');
        const file = nodePath.join(dir, 'session.jsonl');
        fs.writeFileSync(file, original);
        const store = await openStore(nodePath.join(dir, 'store'));
        try {
          const imported = right(await importPiFile(store, file));
          const out = right(await exportPi(store, imported.sessions[0]!.sessionId, { tree: true }));
          expect(out.jsonl).toBe(original);
          expect(contextsOf(out.jsonl)).toEqual(contextsOf(original));
          // Each branch alone gives pi the original's context for its leaf.
          const all = contextsOf(original);
          for (const s of imported.sessions) {
            const one = contextsOf(right(await exportPi(store, s.sessionId)).jsonl);
            for (const [leaf, ctx] of Object.entries(one)) expect(ctx).toEqual(all[leaf]);
          }
        } finally {
          await store.close();
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 40, seed: 9 },
    );
  });
});
