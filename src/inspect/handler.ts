/**
 * `createInspectorHandler(store, opts)`: a read-only Node request handler
 * `(req, res) => void` serving the inspector page and its JSON data API. It
 * works with `http.createServer`, Express (`app.use('/inspect', h)`) and
 * Fastify (via `@fastify/middie` or `reply.hijack()`); the page uses relative
 * URLs, so it can be mounted under any path that ends in `/`.
 *
 * Only GET is served (anything else: 405 with `Allow: GET`). Every request
 * first passes `authorize(req)`; the default refuses clients that are not on
 * the loopback interface and Host headers that do not name a loopback host
 * (against DNS rebinding), with 403. Nothing is ever written to the store.
 *
 * Routes (query parameters in brackets; `at`, `a`, `b` are points: `head`, a
 * seq, a revision or a label):
 * - `GET /` the page; `GET /assets/app.js`, `GET /assets/app.css` its bundle;
 * - `GET /api/sessions` → `SessionRow[]`; `GET /api/lineage` → `LineageView`;
 * - `GET /api/verify?session` → `VerifyView`; `GET /api/timeline?session` → `TimelineView`;
 * - `GET /api/transcript?session[&at][&offset][&limit]` → `TranscriptPage`;
 * - `GET /api/log?session[&from][&limit]` → `LogPage`; `GET /api/series?session` → `SeriesView`;
 * - `GET /api/search?session&q[&at]` → `SearchView`; `GET /api/diff?session&a&b[&text=1]` → `DiffView`.
 *
 * Errors are `{ error: { _tag, message, … } }`: 400 bad parameters, 404
 * `SessionNotFound`/`SeqOutOfRange`/`RevisionNotFound`/`LabelNotFound`, 503
 * `StoreLocked`, 500 anything else (a `CorruptRecord` included: data that
 * disagrees with the log is never served as data).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as E from 'fp-ts/lib/Either.js';
import type { SessionStore } from '../store/index.ts';
import { liveStore, type StoreAccess } from './access.ts';
import { diffView, lineageView, logPage, searchView, seriesView, sessionsView, timelineView, transcriptPage, verifyView } from './api.ts';
import { storeLabelSource, type LabelSource } from './labels.ts';
import { readScope } from './scope.ts';
import type { InspectorAssets } from './assets.ts';
import { parsePoint, type Point } from './points.ts';
import { serverPage } from './page.ts';

/** Options of `createInspectorHandler`. */
export interface InspectorHandlerOptions {
  /** Whether to serve a request; default `isLoopbackRequest` (loopback client and loopback Host). */
  readonly authorize?: (req: IncomingMessage) => boolean;
  /** The page's bundle (`loadInspectorAssets()`); without it `/` and `/assets/*` answer 404 and only the API is served. */
  readonly assets?: InspectorAssets;
  /** Where labels come from; default `storeLabelSource` (the store's labels, checked against the log). */
  readonly labels?: LabelSource;
  /** A path prefix to strip when the handler is mounted under one on a plain `http` server (Express strips its mount path itself). */
  readonly basePath?: string;
}

/** A Node request handler. */
export type InspectorHandler = (req: IncomingMessage, res: ServerResponse) => void;

const LOOPBACK_ADDRESS = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;
const LOOPBACK_HOST = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d+)?$/i;

/** The default `authorize`: the client is on the loopback interface and the Host header (if any) names a loopback host. */
export const isLoopbackRequest = (req: Pick<IncomingMessage, 'socket' | 'headers'>): boolean => {
  const address = req.socket.remoteAddress ?? '';
  const host = req.headers.host;
  return LOOPBACK_ADDRESS.test(address) && (host === undefined || LOOPBACK_HOST.test(host));
};

/** A response: status and JSON body, or a text asset. */
export type Reply = { readonly status: number; readonly json: unknown } | { readonly status: number; readonly body: string; readonly contentType: string };

const bad = (message: string): Reply => ({ status: 400, json: { error: { _tag: 'BadRequest', message } } });

const statusOf = (tag: string): number => {
  switch (tag) {
    case 'SessionNotFound':
    case 'SeqOutOfRange':
    case 'RevisionNotFound':
    case 'LabelNotFound':
      return 404;
    case 'InvalidPoint':
    case 'InvalidLabel':
    case 'AmbiguousRevision':
    case 'InvalidSessionId':
      return 400;
    case 'StoreLocked':
      return 503;
    default:
      return 500;
  }
};

const fromEither = (r: E.Either<{ readonly _tag: string; readonly message: string }, unknown>): Reply =>
  E.isLeft(r) ? { status: statusOf(r.left._tag), json: { error: r.left } } : { status: 200, json: r.right };

const intParam = (q: URLSearchParams, name: string, fallback: number, min: number): number | string => {
  const v = q.get(name);
  if (v === null || v === '') return fallback;
  if (!/^\d+$/.test(v)) return `${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= min ? n : `${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`;
};

const pointParam = (q: URLSearchParams, name: string): E.Either<string, Point> => {
  const v = q.get(name);
  if (v === null || v === '') return E.right({ kind: 'head' });
  return E.mapLeft((e: { message: string }) => e.message)(parsePoint(v));
};

/**
 * Answers one API route (`sessions`, `diff`, …) with the store open (see the
 * module comment for the routes), reading through one `readScope`; the static
 * page is written from the same answers.
 */
export const apiReply = async (route: string, q: URLSearchParams, open: SessionStore, labels: LabelSource): Promise<Reply> => {
  const store = readScope(open);
  if (route === 'sessions') return fromEither(await sessionsView(store));
  if (route === 'lineage') return fromEither(await lineageView(store, labels));
  const session = q.get('session');
  if (session === null || session === '') return bad('the session parameter is required');
  switch (route) {
    case 'verify':
      return fromEither(await verifyView(store, session));
    case 'timeline':
      return fromEither(await timelineView(store, session, labels));
    case 'series':
      return fromEither(await seriesView(store, session));
    case 'transcript': {
      const at = pointParam(q, 'at');
      if (E.isLeft(at)) return bad(at.left);
      const offset = intParam(q, 'offset', 0, 0);
      const limit = intParam(q, 'limit', 200, 1);
      if (typeof offset === 'string') return bad(offset);
      if (typeof limit === 'string') return bad(limit);
      return fromEither(await transcriptPage(store, session, at.right, offset, limit, labels));
    }
    case 'log': {
      const from = intParam(q, 'from', 1, 1);
      const limit = intParam(q, 'limit', 200, 1);
      if (typeof from === 'string') return bad(from);
      if (typeof limit === 'string') return bad(limit);
      return fromEither(await logPage(store, session, from, limit, labels));
    }
    case 'search': {
      const at = pointParam(q, 'at');
      if (E.isLeft(at)) return bad(at.left);
      return fromEither(await searchView(store, session, q.get('q') ?? '', at.right, labels));
    }
    case 'diff': {
      const a = pointParam(q, 'a');
      const b = pointParam(q, 'b');
      if (E.isLeft(a)) return bad(a.left);
      if (E.isLeft(b)) return bad(b.left);
      return fromEither(await diffView(store, session, a.right, b.right, q.get('text') === '1', labels));
    }
    default:
      return { status: 404, json: { error: { _tag: 'NotFound', message: `no API route ${route}` } } };
  }
};

const notFound = (path: string): Reply => ({ status: 404, json: { error: { _tag: 'NotFound', message: `nothing at ${path}` } } });

/** The reply to a GET of `path` (already stripped of `basePath`). */
/**
 * Answers being computed, by request: a second identical request while the
 * first runs (two tabs, or a page reloaded during a 50,000-record verify) waits
 * for the same answer instead of computing it again. Nothing is kept after the
 * answer is sent, so no answer is ever older than its request.
 */
type InFlight = Map<string, Promise<Reply>>;

/** The API answer for `path?q`, shared with an identical request in flight (see `InFlight`). */
const apiAnswer = (path: string, q: URLSearchParams, access: StoreAccess, opts: InspectorHandlerOptions, inFlight: InFlight): Promise<Reply> => {
  const key = `${path}?${[...q].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
  const running = inFlight.get(key);
  if (running !== undefined) return running;
  const p = access.use((store) => apiReply(path.slice('/api/'.length), q, store, opts.labels ?? storeLabelSource)).then((r) => (E.isLeft(r) ? fromEither(r) : r.right));
  inFlight.set(key, p);
  void p.finally(() => inFlight.delete(key));
  return p;
};

const route = async (path: string, q: URLSearchParams, access: StoreAccess, opts: InspectorHandlerOptions, inFlight: InFlight): Promise<Reply> => {
  const assets = opts.assets;
  if (path === '/' || path === '/index.html') return assets === undefined ? notFound(path) : { status: 200, body: serverPage(), contentType: 'text/html; charset=utf-8' };
  if (path === '/assets/app.js') return assets === undefined ? notFound(path) : { status: 200, body: assets.js, contentType: 'text/javascript; charset=utf-8' };
  if (path === '/assets/app.css') return assets === undefined ? notFound(path) : { status: 200, body: assets.css, contentType: 'text/css; charset=utf-8' };
  if (!path.startsWith('/api/')) return notFound(path);
  return apiAnswer(path, q, access, opts, inFlight);
};

const send = (res: ServerResponse, r: Reply): void => {
  const body = 'json' in r ? JSON.stringify(r.json) : r.body;
  res.writeHead(r.status, {
    'content-type': 'json' in r ? 'application/json; charset=utf-8' : r.contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'",
  });
  res.end(body);
};

/**
 * A read-only request handler for the inspector over `store` (an open
 * `SessionStore`, served live and never closed, or a `StoreAccess` such as
 * `storeAtPath`). See the module comment for routes, methods and errors.
 */
export const createInspectorHandler = (store: SessionStore | StoreAccess, opts: InspectorHandlerOptions = {}): InspectorHandler => {
  const access: StoreAccess = 'use' in store ? store : liveStore(store);
  const authorize = opts.authorize ?? isLoopbackRequest;
  const inFlight: InFlight = new Map();
  return (req, res) => {
    void handle(req, res, access, authorize, opts, inFlight);
  };
};

const handle = async (req: IncomingMessage, res: ServerResponse, access: StoreAccess, authorize: (req: IncomingMessage) => boolean, opts: InspectorHandlerOptions, inFlight: InFlight): Promise<void> => {
  try {
    if (!authorize(req)) return send(res, { status: 403, json: { error: { _tag: 'Forbidden', message: 'this inspector serves loopback clients only (see the authorize option)' } } });
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      return send(res, { status: 405, json: { error: { _tag: 'MethodNotAllowed', message: `the inspector is read-only: ${req.method ?? '?'} is not allowed, only GET` } } });
    }
    const url = new URL(req.url ?? '/', 'http://inspector.invalid');
    let path = url.pathname;
    if (opts.basePath !== undefined && opts.basePath !== '/' && path.startsWith(opts.basePath)) path = path.slice(opts.basePath.replace(/\/$/, '').length) || '/';
    send(res, await route(path, url.searchParams, access, opts, inFlight));
  } catch (e) {
    if (!res.headersSent) send(res, { status: 500, json: { error: { _tag: 'InternalError', message: e instanceof Error ? e.message : String(e) } } });
    else res.destroy();
  }
};
