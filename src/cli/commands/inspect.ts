/**
 * `palimpsest inspect`: the read-only web inspector of a store, served on
 * 127.0.0.1 until interrupted, or written as one static HTML file (`--html`).
 */
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Command } from 'commander';
import { createsStore, done, storeTargetOf, withStore, type Ctx } from '../context.ts';
import { createdFileError, usageError, type TaggedError } from '../errors.ts';
import { writeFileAtomically } from '../atomicFile.ts';
import { bytes } from '../format.ts';
import { helpAfter, intArg, requireStoreDir, resolveSessionId } from '../shared.ts';
import type { Run } from '../program.ts';

const LOCK_NOTE = `The store (LevelDB) can be open in one process at a time. The server opens it
when a request arrives and closes it when the last running request is done, so
between page loads another process may use it; while another process holds it,
requests answer StoreLocked (HTTP 503) and the page says so. If a running
application keeps the store open, serve the inspector from inside it instead:
  import { createInspectorHandler, loadInspectorAssets } from 'palimpsest/inspect';
  const assets = (await loadInspectorAssets()).right;
  app.use('/inspect', createInspectorHandler(store, { assets })); // Express; or http.createServer(handler)
The handler serves GET only and refuses non-loopback clients unless authorize(req) says otherwise.`;

/** Waits for SIGINT or SIGTERM (then removes its listeners). */
const untilInterrupted = (): Promise<string> =>
  new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(signal);
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });

const serve = async (ctx: Ctx, port: number): Promise<E.Either<TaggedError, { url: string; signal: string }>> => {
  const { SessionStore } = await import('../../store/index.ts');
  const { loadInspectorAssets, serveInspector, storeAtPath } = await import('../../inspect/index.ts');
  // Open once now, so that a locked or unreadable store is reported before serving.
  const probe = await SessionStore.open(storeTargetOf(ctx), { create: createsStore(ctx) });
  if (E.isLeft(probe)) {
    if (probe.left._tag === 'StoreLocked') return E.left({ ...probe.left, message: `${probe.left.message}\n\n${LOCK_NOTE}` });
    return probe;
  }
  await probe.right.close();
  const assets = await loadInspectorAssets();
  if (E.isLeft(assets)) return assets;
  const running = await serveInspector({ access: storeAtPath(storeTargetOf(ctx), (p) => SessionStore.open(p, { create: createsStore(ctx) })), assets: assets.right, port });
  if (E.isLeft(running)) return running;
  const { url } = running.right;
  if (ctx.json) ctx.io.stdout.write(`${JSON.stringify({ url, port: running.right.port, store: ctx.storePath })}\n`);
  else ctx.io.stdout.write(`palimpsest inspect: serving ${ctx.storePath} read-only at ${url} (Ctrl-C stops)\n`);
  const signal = await untilInterrupted();
  await running.right.close();
  return E.right({ url, signal });
};

/**
 * `inspect --html <file>`: the static page of the sessions `ids` (default all)
 * written to `file` whole or not at all; an existing `file` is replaced only
 * with `force`. Errors: what resolving an id gives, the page's store errors,
 * `FileError` (code `EEXIST` when the file exists and `force` is off).
 */
const writeHtml = async (ctx: Ctx, file: string, ids: readonly string[], force: boolean): Promise<E.Either<TaggedError, { file: string; bytes: number; sessions: string[] }>> => {
  const { loadInspectorAssets, staticInspectorPage } = await import('../../inspect/index.ts');
  const assets = await loadInspectorAssets();
  if (E.isLeft(assets)) return assets;
  return withStore(ctx, async (store) => {
    const chosen: string[] = [];
    for (const id of ids) {
      const r = await resolveSessionId(store, id);
      if (E.isLeft(r)) return r;
      chosen.push(r.right.sessionId);
    }
    const html = await staticInspectorPage(store, assets.right, { ...(ids.length > 0 ? { sessionIds: chosen } : {}), now: Date.now() });
    if (E.isLeft(html)) return html;
    const path = nodePath.resolve(ctx.cwd, file);
    // Whole or not at all, and an existing file is left alone unless --force (`atomicFile.ts`).
    const w = await writeFileAtomically(path, async (write) => E.right(await write(html.right)), { replace: force });
    if (E.isLeft(w)) return E.left(createdFileError(file, w.left.cause));
    const listed = await store.list();
    const sessions = ids.length > 0 ? chosen : E.isRight(listed) ? listed.right.map((s) => s.sessionId) : [];
    return E.right({ file: path, bytes: w.right.bytes, sessions });
  });
};

export const registerInspect = (program: Command, run: Run): void => {
  program
    .command('inspect')
    .description('serve a read-only web inspector of the store on 127.0.0.1 (sessions, lineage, revision timeline with diffs, transcript at any point, record log, charts, search), or write it as one static HTML file with --html')
    .argument('[ids...]', 'with --html: the sessions to include (default all; unique prefixes accepted)')
    .option('--port <n>', 'TCP port on 127.0.0.1 (default: a free port, printed)', intArg('--port', 0))
    .option('--html <file>', 'write one self-contained HTML file (data, script and styles inline; opens from file:// with no network) and exit')
    .option('--force', 'with --html: replace <file> if it exists (default: refuse, FileError EEXIST)')
    .addHelpText(
      'after',
      helpAfter({
        prints:
          'Serving: "palimpsest inspect: serving <store> read-only at http://127.0.0.1:<port>/", then\nruns until interrupted (Ctrl-C, SIGTERM). Nothing is opened by itself.\n--html: the file written, its size in bytes, and the sessions it holds. The page goes to a\nhidden temporary file beside <file>, renamed only when complete; an existing <file> is left\nalone (FileError, code EEXIST, exit 1) unless --force.',
        json: 'Serving: { url, port, store } once listening (and nothing at exit).\n--html: { file, bytes, sessions: [id] }',
        notes: LOCK_NOTE,
      }),
    )
    .action(async (ids: string[], opts: { port?: number; html?: string; force?: boolean }, cmd: Command) =>
      run(cmd, async (ctx) => {
        if (opts.html === undefined && ids.length > 0) return E.left(usageError('session ids are taken only with --html (the server shows every session)'));
        if (opts.html !== undefined && opts.port !== undefined) return E.left(usageError('--port and --html do not go together'));
        if (opts.html === undefined && opts.force === true) return E.left(usageError('--force is taken only with --html'));
        if (opts.port !== undefined && opts.port > 65535) return E.left(usageError(`--port must be at most 65535, got ${opts.port}`));
        const dir = requireStoreDir(ctx);
        if (E.isLeft(dir)) return dir;
        if (opts.html !== undefined) {
          const w = await writeHtml(ctx, opts.html, ids, opts.force === true);
          if (E.isLeft(w)) return w;
          return done(w.right, `wrote ${w.right.file}: ${bytes(w.right.bytes)}, ${w.right.sessions.length} sessions (${w.right.sessions.join(', ')})`);
        }
        const s = await serve(ctx, opts.port ?? 0);
        if (E.isLeft(s)) return s;
        return done(undefined, `palimpsest inspect: stopped (${s.right.signal})`);
      }),
    );
};
