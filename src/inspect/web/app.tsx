/** The page: a header with the top-level views, and the selected session's tabs. */
import { useState } from 'preact/hooks';
import { VerifyBadge } from './common.tsx';
import { ChartsView } from './charts.tsx';
import { isStatic, staticData } from './data.ts';
import { time } from './format.ts';
import { LineageView } from './lineage.tsx';
import { LogView } from './log.tsx';
import type { SessionTab, View } from './nav.ts';
import { SearchView } from './search.tsx';
import { SessionsView } from './sessions.tsx';
import { TimelineView } from './timeline.tsx';
import { TranscriptView } from './transcript.tsx';

const TABS: readonly SessionTab[] = ['timeline', 'transcript', 'log', 'charts', 'search'];

const SessionPage = ({ view, go }: { view: Extract<View, { kind: 'session' }>; go: (v: View) => void }) => (
  <div>
    <h2>
      {view.sessionId} <VerifyBadge sessionId={view.sessionId} />
    </h2>
    <nav class="tabs">
      {TABS.map((t) => (
        <button key={t} class={t === view.tab ? 'tab active' : 'tab'} data-testid={`tab-${t}`} onClick={() => go({ kind: 'session', sessionId: view.sessionId, tab: t })}>
          {t}
        </button>
      ))}
    </nav>
    {view.tab === 'timeline' && <TimelineView sessionId={view.sessionId} commitSeq={view.commitSeq} labelDiff={view.labelDiff} go={go} />}
    {view.tab === 'transcript' && <TranscriptView sessionId={view.sessionId} at={view.at ?? 'head'} offset={view.offset ?? 0} go={go} />}
    {view.tab === 'log' && <LogView sessionId={view.sessionId} offset={view.offset ?? 1} go={go} />}
    {view.tab === 'charts' && <ChartsView sessionId={view.sessionId} />}
    {view.tab === 'search' && <SearchView sessionId={view.sessionId} go={go} />}
  </div>
);

export const App = () => {
  const [view, setView] = useState<View>({ kind: 'sessions' });
  const go = (v: View) => {
    setView(v);
    window.scrollTo(0, 0);
  };
  const data = staticData();
  return (
    <div class="page">
      <header class="top">
        <b>palimpsest inspect</b>
        <button class={view.kind === 'sessions' ? 'tab active' : 'tab'} data-testid="nav-sessions" onClick={() => go({ kind: 'sessions' })}>
          sessions
        </button>
        <button class={view.kind === 'lineage' ? 'tab active' : 'tab'} data-testid="nav-lineage" onClick={() => go({ kind: 'lineage' })}>
          lineage
        </button>
        <span class="muted">{isStatic() && data !== undefined ? `static copy written ${time(data.writtenAt)} (read-only snapshot)` : 'live, read-only'}</span>
      </header>
      <main>
        {view.kind === 'sessions' && <SessionsView go={go} />}
        {view.kind === 'lineage' && <LineageView go={go} />}
        {view.kind === 'session' && <SessionPage view={view} go={go} />}
      </main>
    </div>
  );
};
