/**
 * `npm run bench:inspect`: the inspector on a 50,000-message session, in Debian's
 * headless Chromium (playwright-core; never downloads a browser).
 *
 * Builds a store with one session of 50,000+ messages in two-message records
 * (user and assistant turns of the bundled real session, cycled) with one
 * compaction in the middle, and a 1,000-message session built the same way;
 * serves it with `serveInspector` (store opened per request) and reports, for
 * each session: first contentful paint of the page, time until the sessions
 * table is drawn, until the transcript's first page at the head, until the
 * compaction's diff, until the charts; the page's JS heap (CDP
 * `Performance.getMetrics`) and the server process's RSS; then the server's own
 * time and answer size per API request (timeline, the compaction's diff, the
 * chart series, verify), one request at a time. The ratios large /
 * small are the figures to compare across runs; absolute times depend on the
 * machine. Not a test: nothing asserts a time.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { chromium, type Page } from 'playwright-core';
import { compactionSummary, stampMessage, type Message } from '../src/model/index.ts';
import { SessionStore } from '../src/store/index.ts';
import { loadInspectorAssets, serveInspector, storeAtPath } from '../src/inspect/index.ts';
import { appendableRealMessages } from './fixtures.ts';
import { tempDir } from './lib.ts';

const unwrap = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

/** Appends `n` messages to `sid` two per record, alternating user/assistant from `pool`. */
const appendMany = async (store: SessionStore, sid: string, pool: readonly Message[], n: number, from: number): Promise<void> => {
  const users = pool.filter((m) => m.role === 'user');
  const assistants = pool.filter((m) => m.role === 'assistant');
  let seq = unwrap(await store.load(sid)).seq;
  for (let i = 0; i < n; i += 2) {
    const k = from + i;
    const batch: Message[] = [{ ...users[k % users.length]!, createdAt: 1_700_000_000_000 + k }, { ...assistants[k % assistants.length]!, createdAt: 1_700_000_000_001 + k }];
    const r = unwrap(await store.append(sid, [{ type: 'messages_appended', messages: batch }], { expectedSeq: seq }));
    seq = r.session.seq;
  }
};

/** A session of about `n` messages with one compaction of its first 100 messages halfway. */
const buildSession = async (store: SessionStore, sid: string, n: number, pool: readonly Message[]): Promise<void> => {
  unwrap(await store.create({ id: sid }));
  await appendMany(store, sid, pool, n / 2, 0);
  const s = unwrap(await store.load(sid));
  unwrap(
    await store.append(
      sid,
      [{ type: 'transcript_rewritten', selection: { type: 'message_range', start: 0, end: 100 }, replacement: [stampMessage(compactionSummary('The first 100 messages, summarized.'), 1_800_000_000_000)], reason: { kind: 'compaction' }, expectedParentRevision: s.transcriptRevision() }],
      { expectedSeq: s.seq },
    ),
  );
  await appendMany(store, sid, pool, n / 2 + 100, n / 2);
};

interface Figures {
  readonly messages: number;
  readonly firstPaintMs: number;
  readonly sessionsMs: number;
  readonly transcriptMs: number;
  readonly diffMs: number;
  readonly chartsMs: number;
  readonly heapMB: number;
}

const since = (t0: number): number => Math.round(performance.now() - t0);

/**
 * Opens the store for one read and closes it. The server opens it per request,
 * so it is free once the requests of the closed pages (a verify may still run)
 * are done: until then this waits.
 */
const reopen = async <A>(path: string, f: (s: SessionStore) => Promise<E.Either<{ message: string }, A>>): Promise<E.Either<{ message: string }, A>> => {
  for (;;) {
    const o = await SessionStore.open(path);
    if (E.isLeft(o) && o.left._tag === 'StoreLocked') {
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    const s = unwrap(o);
    try {
      return await f(s);
    } finally {
      await s.close();
    }
  }
};

const measure = async (page: Page, url: string, sid: string, messages: number): Promise<Figures> => {
  const t0 = performance.now();
  await page.goto(url);
  const row = page.locator(`[data-testid="session-row"][data-session="${sid}"]`);
  await row.waitFor({ timeout: 600_000 });
  const sessionsMs = since(t0);
  const firstPaintMs = await page.evaluate(() => Math.round(performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1));
  await row.getByRole('link').click();
  let t = performance.now();
  await page.getByTestId('commit').click({ timeout: 600_000 });
  await page.getByTestId('diff-counts').waitFor({ timeout: 600_000 });
  const diffMs = since(t);
  t = performance.now();
  await page.getByTestId('tab-transcript').click();
  await page.getByTestId('message').first().waitFor({ timeout: 600_000 });
  const transcriptMs = since(t);
  t = performance.now();
  await page.getByTestId('tab-charts').click();
  await page.getByTestId('chart-context').locator('canvas').waitFor({ timeout: 600_000 });
  const chartsMs = since(t);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metrics = (await cdp.send('Performance.getMetrics')).metrics;
  const heap = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0;
  return { messages, firstPaintMs, sessionsMs, transcriptMs, diffMs, chartsMs, heapMB: Math.round((heap / 2 ** 20) * 10) / 10 };
};

const main = async (): Promise<void> => {
  const dir = tempDir('inspect');
  const userData = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'palimpsest-bench-chromium-'));
  try {
    const pool = appendableRealMessages();
    const store = unwrap(await SessionStore.open(dir.path));
    let t = performance.now();
    await buildSession(store, 'large', 50_000, pool);
    await buildSession(store, 'small', 1_000, pool);
    process.stderr.write(`built the store in ${since(t)} ms\n`);
    const large = unwrap(await store.load('large')).messageCount;
    const small = unwrap(await store.load('small')).messageCount;
    await store.close();
    const running = unwrap(await serveInspector({ access: storeAtPath(dir.path, (p) => SessionStore.open(p)), assets: unwrap(await loadInspectorAssets()) }));
    const browser = await chromium.launchPersistentContext(userData, {
      executablePath: execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim(),
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1360, height: 900 },
    });
    try {
      const rows: Figures[] = [];
      for (const [sid, n] of [['small', small], ['large', large]] as const) {
        const page = await browser.newPage();
        rows.push(await measure(page, running.url, sid, n));
        await page.close();
      }
      // The server's own time per API answer, one request at a time (no page, no other request competing).
      const api: Record<string, number> = {};
      for (const sid of ['small', 'large']) {
        const s = unwrap(await reopen(dir.path, (st) => st.revisions(sid)));
        const c = s.commits[0]!.seq;
        for (const [name, path] of [
          ['timeline', `api/timeline?session=${sid}`],
          ['diff', `api/diff?a=${c - 1}&b=${c}&session=${sid}`],
          ['series', `api/series?session=${sid}`],
          ['verify', `api/verify?session=${sid}`],
        ] as const) {
          const t0 = performance.now();
          const res = await fetch(running.url + path);
          const body = await res.text();
          api[`${sid} ${name}`] = since(t0);
          api[`${sid} ${name} kB`] = Math.round(body.length / 1024);
        }
      }
      const rss = Math.round(process.memoryUsage().rss / 2 ** 20);
      const [s, l] = rows as [Figures, Figures];
      const ratio = (k: keyof Figures): string => (s[k] > 0 ? (l[k] / s[k]).toFixed(2) : '-');
      const keys: Array<keyof Figures> = ['messages', 'firstPaintMs', 'sessionsMs', 'diffMs', 'transcriptMs', 'chartsMs', 'heapMB'];
      console.log(['figure'.padEnd(14), 'small'.padStart(10), 'large'.padStart(10), 'large/small'.padStart(12)].join(' '));
      for (const k of keys) console.log([k.padEnd(14), String(s[k]).padStart(10), String(l[k]).padStart(10), ratio(k).padStart(12)].join(' '));
      console.log(`server (this process) RSS after both: ${rss} MB`);
      for (const [k, v] of Object.entries(api)) console.log(`API ${k.padEnd(22)} ${String(v).padStart(8)}${k.endsWith('kB') ? '' : ' ms'}`);
      console.log(JSON.stringify({ small: s, large: l, serverRssMB: rss, api }));
    } finally {
      await browser.close();
      await running.close();
    }
  } finally {
    fs.rmSync(userData, { recursive: true, force: true });
    dir.cleanup();
  }
};

await main();
