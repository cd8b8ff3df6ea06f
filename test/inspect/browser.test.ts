/**
 * The inspector in a real headless Chromium (Debian's, via playwright-core) on
 * the bundled real session, imported, compacted and forked by `palimpsest demo`:
 * the sessions list, the compaction commit's diff, the transcript before the
 * compaction, the log, charts and lineage; labels set with `palimpsest label`
 * (timeline, diff by label, log, lineage) and pi's original times; a tampered store's broken link in
 * red; the static HTML page from file:// with no network. Screenshots of each
 * view go to test-artifacts/inspect/ (UPDATE_SCREENSHOTS=1 also refreshes the
 * README's docs/inspector.png).
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { pathToFileURL } from 'node:url';
import { Level } from 'level';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKeys } from '../../src/store/index.ts';
import { cli, cliJson, cleanup, REAL, REAL_ID, ROOT, tempDir } from '../cli/helpers.ts';
import { launchBrowser, screenshotPath, startInspect, type InspectServer } from './chromium.ts';

/** The demo's first run's session id and its fork. */
const DEMO_ID = 'demo-1:d703a1a9-1b7b-4fb1-b512-c9738b1fe617';
const FORK_ID = `${DEMO_ID}~fork`;
const BROKEN_SEQ = 57;

let cwd = '';
let browser: { context: BrowserContext; close: () => Promise<void> };
let server: InspectServer;
let commitSeq = 0;

/** Labels `before-compaction` (the record before the compaction commit) and `start` (seq 3) with `palimpsest label`. */
const labelDemo = async (): Promise<void> => {
  expect((await cli(['--store', 'demo', 'label', DEMO_ID, 'before-compaction', '--at', String(commitSeq - 1)], cwd)).code).toBe(0);
  expect((await cli(['--store', 'demo', 'label', DEMO_ID, 'start', '--at', '3'], cwd)).code).toBe(0);
};

beforeAll(async () => {
  cwd = tempDir('inspect-browser');
  const demo = await cli(['--store', 'demo', 'demo'], cwd);
  expect(demo.code).toBe(0);
  const m = /commit at seq (\d+)/.exec(demo.stdout);
  commitSeq = Number(m![1]);
  await labelDemo();
  server = await startInspect(cwd, 'demo');
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  if (server !== undefined) expect(await server.stop()).toBe(0);
  cleanup();
});

const open = async (url: string): Promise<Page> => {
  const page = await browser.context.newPage();
  await page.goto(url);
  return page;
};

/** Checks the views every mode shows the same: sessions, the compaction diff, the transcript before it. */
const auditCompaction = async (page: Page, prefix: string): Promise<void> => {
  const rows = page.getByTestId('session-row');
  await rows.nth(1).waitFor();
  expect(await rows.count()).toBe(2);
  expect(await rows.nth(0).getAttribute('data-session')).toBe(DEMO_ID);
  expect(await rows.nth(1).getAttribute('data-session')).toBe(FORK_ID);
  expect(await rows.nth(0).getByTestId('session-messages').textContent()).toBe('41');
  expect(await rows.nth(1).getByTestId('session-messages').textContent()).toBe('21');
  await page.getByTestId('verify-ok').nth(1).waitFor();
  expect(await page.getByTestId('verify-ok').count()).toBe(2);
  await page.screenshot({ path: screenshotPath(`${prefix}sessions`), fullPage: true });

  await rows.nth(0).getByRole('link', { name: DEMO_ID }).click();
  const commit = page.getByTestId('commit');
  await commit.first().waitFor();
  expect(await commit.count()).toBe(1);
  expect(await commit.getAttribute('data-seq')).toBe(String(commitSeq));
  expect(await commit.textContent()).toContain('compaction');
  await commit.click();
  const counts = page.getByTestId('diff-counts');
  await counts.waitFor();
  expect(await counts.textContent()).toBe('kept 40 · removed 0 · added 0 · replaced 974 → 1');
  expect(await page.getByTestId('hunk').evaluateAll((hs) => hs.map((h) => h.getAttribute('data-kind')))).toEqual(['replaced', 'kept']);
  expect(await page.getByTestId('diff-new').textContent()).toContain('user/compaction_summary');
  await page.screenshot({ path: screenshotPath(`${prefix}timeline-diff`), fullPage: false });

  await page.getByTestId('transcript-before').click();
  const total = page.getByTestId('transcript-total');
  await total.waitFor();
  expect(await total.textContent()).toBe('1,014 messages');
  expect(await page.getByTestId('message').count()).toBe(200);
  expect(await page.getByTestId('message').first().getAttribute('data-index')).toBe('0');
  expect(await page.getByTestId('tool-call').count()).toBeGreaterThan(10);
  await page.screenshot({ path: screenshotPath(`${prefix}transcript`), fullPage: false });

  await page.getByTestId('tab-search').click();
  await page.getByTestId('search-input').fill('theme.md');
  await page.getByTestId('search-input').press('Enter');
  await page.getByTestId('search-total').waitFor();
  expect(await page.getByTestId('search-total').textContent()).toMatch(/^\d+ messages match "theme\.md"/);
  await page.screenshot({ path: screenshotPath(`${prefix}search`), fullPage: false });
};

/** On the demo session's timeline: the label `before-compaction` names its record, and its diff to the head is the compaction's. */
const auditLabel = async (page: Page, prefix: string): Promise<void> => {
  const label = page.locator('[data-testid="timeline-label"][data-label="before-compaction"]');
  await label.waitFor();
  expect(await label.getAttribute('data-seq')).toBe(String(commitSeq - 1));
  expect(await label.getByTestId('label-tag').textContent()).toBe(`before-compaction @ ${commitSeq - 1}`);
  await label.getByTestId('label-diff').click();
  const counts = page.getByTestId('diff-counts');
  await counts.waitFor();
  expect(await page.getByTestId('diff').locator('h3').textContent()).toBe('diff label:before-compaction → head');
  expect(await counts.textContent()).toBe('kept 40 · removed 0 · added 0 · replaced 974 → 1');
  await page.screenshot({ path: screenshotPath(`${prefix}timeline-label`), fullPage: false });
};

describe('palimpsest inspect (served)', () => {
  it('shows the sessions, the compaction diff with its counts and the pre-compaction transcript', async () => {
    const page = await open(server.url);
    await auditCompaction(page, '');
    await page.close();
  }, 400_000);

  it('draws the charts, the lineage with the fork point and the log', async () => {
    const page = await open(server.url);
    await page.getByTestId('session-row').first().getByRole('link').click();
    await page.getByTestId('tab-charts').click();
    await page.getByTestId('chart-context').locator('canvas').waitFor();
    expect(await page.getByTestId('chart-tokens').locator('canvas').count()).toBe(1);
    expect(await page.getByTestId('chart-context').textContent()).toContain('context size over records');
    await page.screenshot({ path: screenshotPath('charts'), fullPage: true });
    if (process.env.UPDATE_SCREENSHOTS === '1') fs.copyFileSync(screenshotPath('charts'), nodePath.join(ROOT, 'docs', 'inspector-charts.png'));

    await page.getByTestId('tab-log').click();
    await page.getByTestId('log-row').first().waitFor();
    expect(await page.getByTestId('log-row').count()).toBe(200);
    expect(await page.getByTestId('broken-banner').count()).toBe(0);
    await page.screenshot({ path: screenshotPath('log'), fullPage: false });

    await page.getByTestId('nav-lineage').click();
    const child = page.locator(`[data-testid="lineage-node"][data-session="${FORK_ID}"]`);
    await child.waitFor();
    expect(await child.textContent()).toContain(`fork (at) at seq ${commitSeq}`);
    // The fork is drawn inside its parent's node.
    expect(await page.locator(`[data-testid="lineage-node"][data-session="${DEMO_ID}"] [data-session="${FORK_ID}"]`).count()).toBe(1);
    await page.screenshot({ path: screenshotPath('lineage'), fullPage: false });
    await page.close();
  }, 400_000);

  it('labels: in the timeline (with the diff by label), the log and the lineage; the log shows pi\'s times with the import time', async () => {
    const page = await open(server.url);
    await page.getByTestId('session-row').first().getByRole('link').click();
    await auditLabel(page, '');

    await page.getByTestId('tab-log').click();
    const row = page.locator('[data-testid="log-row"][data-seq="3"]');
    await row.waitFor();
    expect(await row.getByTestId('label-tag').textContent()).toBe('start @ 3');
    // The bundled session was imported: the time shown is pi's, the import time is under it.
    expect(await row.getByTestId('original-time').textContent()).toMatch(/^2025-11-20T23:33:02Zimported 20\d\d-\d\d-\d\dT/);
    expect(await page.getByTestId('annotations-error').count()).toBe(0);
    await page.screenshot({ path: screenshotPath('log-labels'), fullPage: false });

    await page.getByTestId('nav-lineage').click();
    const node = page.locator(`[data-testid="lineage-node"][data-session="${DEMO_ID}"] > .lineage-node`);
    await node.waitFor();
    expect(await node.getByTestId('label-tag').allTextContents()).toEqual([`before-compaction @ ${commitSeq - 1}`, 'start @ 3']);
    await page.close();

    const diff = await cliJson(['--store', 'demo', 'diff', DEMO_ID, 'label:before-compaction', 'head'], cwd);
    expect(diff.code).toBe(0);
    expect(diff.json.a).toMatchObject({ point: { kind: 'label', label: 'before-compaction' }, seq: commitSeq - 1, messages: 1014 });
    expect(diff.json.diff.counts).toEqual({ kept: 40, removed: 0, added: 0, replaced: 974, replacements: 1 });
  }, 400_000);

  it('the README screenshot: the timeline with the compaction diff', async () => {
    const page = await open(server.url);
    await page.getByTestId('session-row').first().getByRole('link').click();
    await page.getByTestId('commit').click();
    await page.getByTestId('diff-counts').waitFor();
    await page.screenshot({ path: screenshotPath('readme'), fullPage: false });
    if (process.env.UPDATE_SCREENSHOTS === '1') fs.copyFileSync(screenshotPath('readme'), nodePath.join(ROOT, 'docs', 'inspector.png'));
    expect(fs.statSync(screenshotPath('readme')).size).toBeGreaterThan(10_000);
    await page.close();
  }, 400_000);
});

/** Flips one character of record `seq`'s revision digest (still JSON, still a digest, no longer what replay gives). */
const tamper = async (dir: string, sid: string, seq: number): Promise<void> => {
  const db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  try {
    const key = storeKeys.record(sid, seq);
    const value = (await db.get(key))!;
    const at = value.indexOf('"revision":"sha256:') + '"revision":"sha256:'.length + 10;
    await db.put(key, `${value.slice(0, at)}${value[at] === 'a' ? 'b' : 'a'}${value.slice(at + 1)}`);
  } finally {
    await db.close();
  }
};

describe('palimpsest inspect on a tampered store', () => {
  it('shows the first broken link in red', async () => {
    expect((await cli(['--store', 'bad', 'import', REAL], cwd)).code).toBe(0);
    await tamper(nodePath.join(cwd, 'bad'), REAL_ID, BROKEN_SEQ);
    const bad = await startInspect(cwd, 'bad');
    try {
      const page = await open(bad.url);
      const badge = page.getByTestId('verify-bad');
      await badge.waitFor();
      expect(await badge.textContent()).toBe(`broken at seq ${BROKEN_SEQ}`);
      await page.getByTestId('session-row').first().getByRole('link').click();
      await page.getByTestId('tab-log').click();
      const banner = page.getByTestId('broken-banner');
      await banner.waitFor();
      expect(await banner.textContent()).toContain(`first broken link at seq ${BROKEN_SEQ}`);
      const row = page.locator(`[data-testid="log-row"][data-seq="${BROKEN_SEQ}"]`);
      expect(await row.getAttribute('class')).toBe('broken');
      expect(await row.locator('td').first().evaluate((td) => (globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }).getComputedStyle(td).color)).toBe('rgb(220, 38, 38)');
      expect(await page.locator('tr.broken').count()).toBe(1);
      await row.scrollIntoViewIfNeeded();
      await page.screenshot({ path: screenshotPath('tampered-log'), fullPage: false });
      await page.close();
    } finally {
      expect(await bad.stop()).toBe(0);
    }
  }, 400_000);
});

describe('palimpsest inspect --html', () => {
  it('writes one file that renders the same views from file:// without any network request', async () => {
    const r = await cli(['--store', 'demo', 'inspect', '--html', 'audit.html'], cwd);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*audit\.html: \d+ bytes .*, 2 sessions \(/);
    const file = nodePath.join(cwd, 'audit.html');
    const html = fs.readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    const page = await browser.context.newPage();
    const requests: string[] = [];
    page.on('request', (req) => requests.push(req.url()));
    await page.goto(pathToFileURL(file).href);
    await auditCompaction(page, 'static-');
    await page.getByTestId('tab-timeline').click();
    await auditLabel(page, 'static-');
    expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
    await page.close();
  }, 400_000);
});
