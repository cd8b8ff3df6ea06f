/**
 * The static inspector page: every API answer the page can ask for about the
 * chosen sessions, computed by the same `apiReply` the server uses, written
 * into one self-contained HTML file with the page's script and styles.
 *
 * What a static page holds, per session: its verify report, timeline, chart
 * series, every log page, every transcript page at the head and just before
 * and after each rewrite commit and at each label, each rewrite commit's diff
 * and each label's diff to the head; the sessions
 * list and the lineage are limited to the chosen sessions. Search runs in the
 * page over the head transcript. Points other than those are answered
 * `NotInStaticPage` by the page.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { SessionStore, StoreError } from '../store/index.ts';
import { apiPath, labelPoint, PAGE_SIZE } from './apiPath.ts';
import { memoLabelSource, storeLabelSource, type LabelSource } from './labels.ts';
import type { InspectorAssets } from './assets.ts';
import { apiReply, type Reply } from './handler.ts';
import { staticPage, type StaticData } from './page.ts';
import type { LineageView, LogPage, SessionRow, TimelineView, TranscriptPage } from './views.ts';

/** Options of `staticInspectorPage`. */
export interface StaticPageOptions {
  /** Sessions to include (exact ids); default every session. */
  readonly sessionIds?: readonly string[];
  readonly labels?: LabelSource;
  /** The time written into the page (ms since the epoch). */
  readonly now: number;
}

/** A chosen session id that is not in the store. */
export interface StaticSessionNotFound {
  readonly _tag: 'SessionNotFound';
  readonly sessionId: string;
  readonly message: string;
}

const ask = async (store: SessionStore, labels: LabelSource, path: string): Promise<Reply> => {
  const url = new URL(path, 'http://inspector.invalid/');
  return apiReply(url.pathname.slice('/api/'.length), url.searchParams, store, labels);
};

const valueOf = (r: Reply): unknown => ('json' in r ? r.json : undefined);

const isOk = (r: Reply): boolean => r.status === 200;

/** Collects the answers (see the module comment). A store failure while listing sessions is `Left`; other failures are stored as the error answers the server would give. */
export const staticInspectorData = async (store: SessionStore, opts: StaticPageOptions): Promise<E.Either<StoreError | StaticSessionNotFound, StaticData>> => {
  // Every page lists (and checks) the labels again: check each once for the whole build.
  const labels = memoLabelSource(opts.labels ?? storeLabelSource);
  const responses: Record<string, unknown> = {};
  const put = async (path: string): Promise<Reply> => {
    const r = await ask(store, labels, path);
    responses[path] = valueOf(r);
    return r;
  };
  const listed = await store.list();
  if (E.isLeft(listed)) return listed;
  const all = listed.right.map((s) => s.sessionId);
  const chosen = opts.sessionIds ?? all;
  const missing = chosen.find((id) => !all.includes(id));
  if (missing !== undefined) return E.left({ _tag: 'SessionNotFound', sessionId: missing, message: `no session ${JSON.stringify(missing)} in ${store.path}` });
  const keep = new Set(chosen);
  const sessions = await ask(store, labels, apiPath('sessions'));
  responses[apiPath('sessions')] = isOk(sessions) ? (valueOf(sessions) as SessionRow[]).filter((s) => keep.has(s.sessionId)) : valueOf(sessions);
  const lineage = await ask(store, labels, apiPath('lineage'));
  if (isOk(lineage)) {
    const g = valueOf(lineage) as LineageView;
    responses[apiPath('lineage')] = { nodes: g.nodes.filter((n) => keep.has(n.sessionId)), edges: g.edges.filter((e) => keep.has(e.parent) && keep.has(e.child)), labels: g.labels.filter((l) => keep.has(l.status === 'ok' ? l.sessionId : l.setOn)) };
  } else responses[apiPath('lineage')] = valueOf(lineage);
  for (const session of chosen) {
    await put(apiPath('verify', { session }));
    await put(apiPath('series', { session }));
    for (let from = 1; ; from += PAGE_SIZE) {
      const r = await put(apiPath('log', { session, from, limit: PAGE_SIZE }));
      if (!isOk(r) || from + PAGE_SIZE > (valueOf(r) as LogPage).total) break;
    }
    const points = ['head'];
    const timeline = await put(apiPath('timeline', { session }));
    if (isOk(timeline)) {
      const t = valueOf(timeline) as TimelineView;
      for (const { seq } of t.commits) {
        points.push(String(seq - 1), String(seq));
        await put(apiPath('diff', { session, a: String(seq - 1), b: String(seq) }));
      }
      for (const l of t.labels) {
        if (l.status !== 'ok') continue;
        points.push(labelPoint(l.label));
        await put(apiPath('diff', { session, a: labelPoint(l.label), b: 'head' }));
      }
    }
    for (const at of points) {
      for (let offset = 0; ; offset += PAGE_SIZE) {
        const r = await put(apiPath('transcript', { session, at, offset, limit: PAGE_SIZE }));
        if (!isOk(r) || offset + PAGE_SIZE >= (valueOf(r) as TranscriptPage).total) break;
      }
    }
  }
  return E.right({ writtenAt: opts.now, responses });
};

/** The static page's HTML (see the module comment). */
export const staticInspectorPage = async (store: SessionStore, assets: InspectorAssets, opts: StaticPageOptions): Promise<E.Either<StoreError | StaticSessionNotFound, string>> => {
  const data = await staticInspectorData(store, opts);
  return E.isLeft(data) ? data : E.right(staticPage(data.right, assets));
};
