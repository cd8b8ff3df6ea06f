/**
 * How the CLI tells a reader that a session is an unfinished pi import
 * (`adapters/pi/provenance.ts`): a warning line for reads (`show`, `log`) and a
 * status suffix for `sessions`.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Json } from '../model/json.ts';
import { piImportStatus } from '../adapters/pi/provenance.ts';
import type { Ctx, Store } from './context.ts';
import { terminalSafe } from './format.ts';
import type { TaggedError } from './errors.ts';

/** The warning for session `sessionId` with `metadata`, or undefined when it is not an incomplete import. */
export const incompleteImportWarning = (sessionId: string, metadata: Readonly<Record<string, Json>>): string | undefined => {
  const st = piImportStatus(sessionId, metadata);
  return st.kind === 'incomplete'
    ? `warning: session ${sessionId} is an INCOMPLETE import of ${st.mark.file} (the import stopped before it finished); run \`palimpsest import ${st.mark.file}\` again to finish it`
    : undefined;
};

/** Writes `warning` to stderr in text mode, its control characters escaped (`terminalSafe`; with `--json` the caller puts it in the document). */
export const warnText = (ctx: Ctx, warning: string | undefined): void => {
  if (warning !== undefined && !ctx.json) ctx.io.stderr.write(`${terminalSafe(warning)}\n`);
};

/** The warning for the newest state of `sessionId` (loads it). */
export const incompleteImportWarningOf = async (store: Store, sessionId: string): Promise<E.Either<TaggedError, string | undefined>> => {
  const l = await store.load(sessionId);
  return E.isLeft(l) ? l : E.right(incompleteImportWarning(sessionId, l.right.metadata));
};

/** When the events of an imported session's records happened: the inspector's reader of the import's times blob (one rule for CLI and inspector). */
export { originalTimes } from '../inspect/times.ts';
