/** `palimpsest sessions`: every session of the store, one line each. */
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import type { SessionSummary } from '../../store/index.ts';
import { done, withStore } from '../context.ts';
import { isoTime, plural, shortDigest, table } from '../format.ts';
import { helpAfter, requireStoreDir } from '../shared.ts';
import type { Run } from '../program.ts';
import { incompleteImportWarningOf } from '../importStatus.ts';

/** The `parent` column: `<parent id>@<seq> (<mode>)`, or `-` for a root. */
export const parentText = (s: SessionSummary): string => (s.parent === undefined ? '-' : `${s.parent.sessionId}@${s.parent.seq} (${s.parent.mode})`);

/** A row of `sessions`: the store's summary, and `incompleteImport` for a pi import that stopped before it finished. */
export type SessionRow = SessionSummary & { readonly incompleteImport?: true };

/** The sessions table. */
export const sessionsTable = (sessions: readonly SessionRow[]): string =>
  table(
    ['session', 'records', 'messages', 'revision', 'status', 'updated', 'fork of'],
    sessions.map((s) => [
      s.sessionId,
      String(s.lastSeq),
      String(s.messages),
      shortDigest(s.revision),
      s.incompleteImport === true ? `${s.status}, INCOMPLETE import` : s.status,
      isoTime(s.updatedAt),
      parentText(s),
    ]),
    ['left', 'right', 'right'],
  );

export const registerSessions = (program: Command, run: Run): void => {
  program
    .command('sessions')
    .description('list the sessions of the store')
    .addHelpText(
      'after',
      helpAfter({
        prints:
          'One line per session, in id order: id, records (= last seq), messages (transcript\nlength), head revision (12 hex digits), status (active|archived), last update\n(ISO time), and for a fork its parent as <id>@<seq> (<mode>). A pi import that stopped\nbefore it finished shows "INCOMPLETE import" in the status column.',
        json: '{ "store": <dir>, "sessions": [{ sessionId, createdAt, updatedAt (ms), lastSeq,\n  revision, messages, status, parent?: { sessionId, seq, hash, mode }, incompleteImport? }] }',
      }),
    )
    .action(async (_opts: unknown, cmd: Command) =>
      run(cmd, async (ctx) => {
        const dir = requireStoreDir(ctx);
        if (E.isLeft(dir)) return dir;
        return withStore(ctx, async (store) => {
          const l = await store.list();
          if (E.isLeft(l)) return l;
          const sessions: SessionRow[] = [];
          for (const x of l.right) {
            const w = await incompleteImportWarningOf(store, x.sessionId);
            if (E.isLeft(w)) return w;
            sessions.push(w.right !== undefined ? { ...x, incompleteImport: true } : x);
          }
          const text = sessions.length === 0 ? `no sessions in ${ctx.storePath}` : `${sessionsTable(sessions)}\n\n${plural(sessions.length, 'session')} in ${ctx.storePath}`;
          return done({ store: ctx.storePath, sessions }, text);
        });
      }),
    );
};
