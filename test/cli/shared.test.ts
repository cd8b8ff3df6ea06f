/** Session-id resolution of the CLI: an exact id wins over a prefix match; a prefix must be unique. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionStore } from '../../src/store/index.ts';
import { resolveSessionId } from '../../src/cli/shared.ts';
import { left, right } from '../support/either.ts';

const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'palimpsest-resolve-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('resolveSessionId', () => {
  it('an exact id (or pi: + it) wins even when it is a prefix of other ids', async () => {
    const store = right(await SessionStore.open(dir));
    try {
      right(await store.create({ id: 'd703' }));
      right(await store.fork('d703', { id: 'd703~fork' }));
      right(await store.create({ id: 'pi:e5' }));
      right(await store.fork('pi:e5', { id: 'pi:e5~fork' }));
      expect(right(await resolveSessionId(store, 'd703')).sessionId).toBe('d703');
      expect(right(await resolveSessionId(store, 'e5')).sessionId).toBe('pi:e5');
      expect(right(await resolveSessionId(store, 'd703~')).sessionId).toBe('d703~fork');
      expect(left(await resolveSessionId(store, 'd70'))).toMatchObject({ _tag: 'AmbiguousSessionId', candidates: ['d703', 'd703~fork'] });
      expect(left(await resolveSessionId(store, 'zz'))).toMatchObject({ _tag: 'SessionNotFound' });
    } finally {
      await store.close();
    }
  });
});
