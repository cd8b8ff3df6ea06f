/**
 * The static inspector page checks each label against the log once for the
 * whole build, not once per page: every page of a session lists its labels,
 * and each check loads the session at the label's seq (a 3,000-message pi
 * import with 30 labels took 780 such loads, most of the build's minute).
 * The page shows the same labels a single listing gives.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, describe, expect, it } from 'vitest';
import { importPiFile } from '../../src/adapters/pi/store.ts';
import { listLabels, storeLabelSource, type LabelSource } from '../../src/inspect/labels.ts';
import { staticInspectorData } from '../../src/inspect/static.ts';
import { apiPath } from '../../src/inspect/apiPath.ts';
import type { TimelineView } from '../../src/inspect/views.ts';
import { generatePiText } from '../adapters/pi/generate.ts';
import { cleanupDirs, openStore, right, tempDir } from '../store/helpers.ts';

afterAll(cleanupDirs);

describe('staticInspectorData', () => {
  it('lists each session’s labels once and resolves each label once, and shows what one listing gives', { timeout: 120_000 }, async () => {
    const dir = tempDir('static-labels');
    const file = nodePath.join(dir, 'labelled.jsonl');
    fs.writeFileSync(file, generatePiText({ messages: 400, branches: 1 }));
    const store = await openStore(nodePath.join(dir, 'store'));
    try {
      const imported = right(await importPiFile(store, file));
      const lists = new Map<string, number>();
      const resolves = new Map<string, number>();
      const counting: LabelSource = {
        list: (s, id) => {
          lists.set(id, (lists.get(id) ?? 0) + 1);
          return storeLabelSource.list(s, id);
        },
        resolve: (s, id, label) => {
          const k = `${id} ${label}`;
          resolves.set(k, (resolves.get(k) ?? 0) + 1);
          return storeLabelSource.resolve(s, id, label);
        },
      };
      const data = await staticInspectorData(store, { labels: counting, now: 0 });
      expect(E.isRight(data)).toBe(true);
      const responses = E.isRight(data) ? data.right.responses : {};

      const main = imported.sessions[0]!.sessionId;
      const listed = right(await listLabels(store, main));
      expect(listed.filter((l) => l.status === 'ok').length).toBeGreaterThanOrEqual(4);
      expect((responses[apiPath('timeline', { session: main })] as TimelineView).labels).toEqual(listed);
      expect(resolves.size).toBeGreaterThanOrEqual(4);
      expect([...lists.values()].every((n) => n === 1)).toBe(true);
      expect([...resolves.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await store.close();
    }
  });
});
