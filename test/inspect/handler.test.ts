/**
 * The inspector's request handler on a real HTTP server on loopback and a real
 * LevelDB store: the API answers, GET only, loopback only, and the store held
 * only while requests run.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactionSummary, stampMessage } from '../../src/model/index.ts';
import { SessionStore, type SessionStore as Store } from '../../src/store/index.ts';
import { createInspectorHandler, isLoopbackRequest, storeAtPath, storeLabelSource, type LabelSource } from '../../src/inspect/index.ts';
import type { DiffView, LogPage, SearchView, SeriesView, SessionRow, TranscriptPage } from '../../src/inspect/index.ts';
import { appendMessages, cleanupDirs, openStore, right, tempDir } from '../store/helpers.ts';

let dir = '';
let store: Store;
let server: http.Server;
let base = '';
let commitSeq = 0;

/** 30 messages, then a compaction of [0,20) into one summary, then 4 more messages. */
const build = async (s: Store): Promise<void> => {
  right(await s.create({ id: 'root' }));
  await appendMessages(s, 'root', 0, 30);
  const before = right(await s.load('root'));
  const r = right(
    await s.append(
      'root',
      [{ type: 'transcript_rewritten', selection: { type: 'message_range', start: 0, end: 20 }, replacement: [stampMessage(compactionSummary('twenty messages, summarized'), 9_000)], reason: { kind: 'compaction', note: 'test' }, actor: 'tester', expectedParentRevision: before.transcriptRevision() }],
      { expectedSeq: before.seq },
    ),
  );
  commitSeq = r.records[0]!.seq;
  await appendMessages(s, 'root', 30, 4);
  right(await s.forkAt('root', 5, { id: 'child' }));
};

const listen = (handler: http.RequestListener): Promise<{ server: http.Server; base: string }> =>
  new Promise((resolve) => {
    const srv = http.createServer(handler);
    srv.listen(0, '127.0.0.1', () => resolve({ server: srv, base: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/` }));
  });

const close = (srv: http.Server): Promise<void> => new Promise((resolve) => srv.close(() => resolve()));

const get = async <A>(path: string): Promise<{ status: number; body: A }> => {
  const res = await fetch(base + path);
  return { status: res.status, body: (await res.json()) as A };
};

beforeAll(async () => {
  dir = tempDir('inspect-handler');
  store = await openStore(dir);
  await build(store);
  ({ server, base } = await listen(createInspectorHandler(store)));
});

afterAll(async () => {
  await close(server);
  await store.close();
  cleanupDirs();
});

describe('createInspectorHandler (live store)', () => {
  it('serves the sessions with usage, rewrites and the fork parent', async () => {
    const r = await get<SessionRow[]>('api/sessions');
    expect(r.status).toBe(200);
    expect(r.body.map((s) => [s.sessionId, s.messages, s.rewrites, s.parent?.sessionId])).toEqual([
      ['child', 5, 0, 'root'],
      ['root', 15, 1, undefined],
    ]);
  });

  it('serves the diff of the compaction commit with its counts', async () => {
    const r = await get<DiffView>(`api/diff?session=root&a=${commitSeq - 1}&b=${commitSeq}`);
    expect(r.status).toBe(200);
    expect(r.body.diff.counts).toEqual({ kept: 10, removed: 0, added: 0, replaced: 20, replacements: 1 });
    expect(r.body.removedSummaries).toHaveLength(20);
    expect(r.body.addedSummaries).toEqual([{ index: 0, role: 'user/compaction_summary', summary: 'twenty messages, summarized' }]);
  });

  it('pages the transcript at any point and the log', async () => {
    const before = await get<TranscriptPage>(`api/transcript?session=root&at=${commitSeq - 1}&offset=25&limit=10`);
    expect(before.body.total).toBe(30);
    expect(before.body.entries.map((e) => e.index)).toEqual([25, 26, 27, 28, 29]);
    const head = await get<TranscriptPage>('api/transcript?session=root&limit=2');
    expect(head.body.total).toBe(15);
    expect(head.body.entries[0]!.message.role).toBe('user');
    const log = await get<LogPage>('api/log?session=root&from=30&limit=5');
    expect(log.body.rows.map((r) => r.seq)).toEqual([30, 31, 32, 33, 34]);
    expect(log.body.rows.find((r) => r.seq === commitSeq)?.type).toBe('transcript_rewritten');
  });

  it('serves the chart series with the drop at the compaction, and search', async () => {
    const s = (await get<SeriesView>('api/series?session=root')).body;
    expect(s.commitSeqs).toEqual([commitSeq]);
    const at = s.records.seq.indexOf(commitSeq);
    expect([s.records.messages[at - 1], s.records.messages[at]]).toEqual([30, 11]);
    expect(s.records.messages.at(-1)).toBe(15);
    expect(s.records.chars[at]!).toBeLessThan(s.records.chars[at - 1]!);
    const q = (await get<SearchView>('api/search?session=root&q=MESSAGE%2033')).body;
    expect(q.hits).toEqual([{ index: 14, role: 'assistant', snippet: 'message 33' }]);
  });

  it('answers bad parameters 400 and unknown sessions or seqs 404, as JSON errors', async () => {
    expect((await get('api/transcript?session=root&offset=-1')).status).toBe(400);
    expect((await get('api/diff?session=root&a=0&b=head')).status).toBe(400);
    const missing = await get<{ error: { _tag: string } }>('api/timeline?session=nope');
    expect([missing.status, missing.body.error._tag]).toEqual([404, 'SessionNotFound']);
    expect((await get('api/transcript?session=root&at=9999')).status).toBe(404);
  });

  it('refuses every method but GET with 405, and changes nothing', async () => {
    const seq = right(await store.load('root')).seq;
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'HEAD']) {
      const res = await fetch(`${base}api/sessions`, { method, ...(method === 'HEAD' ? {} : { body: '{}' }) });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET');
    }
    expect(right(await store.load('root')).seq).toBe(seq);
  });

  it('refuses a Host header that is not a loopback name (DNS rebinding) with 403', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.get(`${base}api/sessions`, { headers: { host: 'attacker.example:80' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    expect(status).toBe(403);
  });
});

describe('identical requests in flight', () => {
  it('share one answer while it is computed, and nothing is kept after it is sent', async () => {
    let lists = 0;
    // The first answer's label listing waits until the second request has reached the handler (and run
    // up to its shared-answer lookup, which takes no I/O), so the two are in flight together however
    // fast the store answers; an answer computed twice shows as two listings.
    let arrived = 0;
    let openGate = (): void => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const counting: LabelSource = {
      list: async (st, sid) => {
        lists += 1;
        await gate;
        return storeLabelSource.list(st, sid);
      },
      resolve: storeLabelSource.resolve,
    };
    const handler = createInspectorHandler(store, { labels: counting });
    const { server: srv, base: url } = await listen((req, res) => {
      handler(req, res);
      if (++arrived >= 2) setImmediate(openGate);
    });
    try {
      const two = await Promise.all([fetch(`${url}api/timeline?session=root`), fetch(`${url}api/timeline?session=root`)]);
      const bodies = await Promise.all(two.map((r) => r.text()));
      expect(two.map((r) => r.status)).toEqual([200, 200]);
      expect(bodies[0]).toBe(bodies[1]);
      expect(lists).toBe(1);
      await (await fetch(`${url}api/timeline?session=root`)).text();
      expect(lists).toBe(2);
    } finally {
      await close(srv);
    }
  });
});

describe('authorize', () => {
  const req = (remoteAddress: string, host?: string) => ({ socket: { remoteAddress }, headers: host === undefined ? {} : { host } }) as Parameters<typeof isLoopbackRequest>[0];
  it('the default admits loopback clients only', () => {
    expect(isLoopbackRequest(req('127.0.0.1', '127.0.0.1:4000'))).toBe(true);
    expect(isLoopbackRequest(req('::1', 'localhost:4000'))).toBe(true);
    expect(isLoopbackRequest(req('::ffff:127.0.0.1'))).toBe(true);
    expect(isLoopbackRequest(req('192.0.2.7', '127.0.0.1:4000'))).toBe(false);
    expect(isLoopbackRequest(req('10.1.2.3'))).toBe(false);
    expect(isLoopbackRequest(req('::ffff:192.0.2.7'))).toBe(false);
    expect(isLoopbackRequest(req('127.0.0.1', 'inspector.example.com'))).toBe(false);
  });

  it('a custom authorize decides instead (here: refuses everyone)', async () => {
    const { server: srv, base: url } = await listen(createInspectorHandler(store, { authorize: () => false }));
    try {
      const res = await fetch(`${url}api/sessions`);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { _tag: string } }).error._tag).toBe('Forbidden');
    } finally {
      await close(srv);
    }
  });
});

describe('storeAtPath', () => {
  it('holds the store only during requests; a store held by another opener answers 503 StoreLocked', async () => {
    const d = tempDir('inspect-lock');
    const s = await openStore(d);
    await build(s);
    await s.close();
    const { server: srv, base: url } = await listen(createInspectorHandler(storeAtPath(d, (p) => SessionStore.open(p))));
    try {
      const answers = await Promise.all([fetch(`${url}api/sessions`), fetch(`${url}api/timeline?session=root`), fetch(`${url}api/series?session=root`)]);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      // Between requests the directory is free: another opener gets it ...
      const other = right(await SessionStore.open(d));
      const locked = await fetch(`${url}api/sessions`);
      expect(locked.status).toBe(503);
      expect(((await locked.json()) as { error: { _tag: string } }).error._tag).toBe('StoreLocked');
      await other.close();
      // ... and once it lets go, the inspector reads again.
      expect((await fetch(`${url}api/sessions`)).status).toBe(200);
    } finally {
      await close(srv);
    }
  });
});
