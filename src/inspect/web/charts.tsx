/**
 * Charts (uPlot): tokens per turn (each assistant call's input, output and
 * cache-read tokens) and context size over records (messages and text size
 * after each record; a compaction shows as a drop).
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { SeriesView } from '../views.ts';
import { apiPath } from '../apiPath.ts';
import { Pending } from './common.tsx';
import { num } from './format.ts';
import { useApi } from './hooks.ts';

const Chart = ({ title, opts, data, testId }: { title: string; opts: Omit<uPlot.Options, 'width' | 'height' | 'title'>; data: uPlot.AlignedData; testId: string }) => {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (ref.current === null) return;
    const width = Math.max(400, ref.current.clientWidth - 10);
    const plot = new uPlot({ ...opts, title, width, height: 260 }, data, ref.current);
    return () => plot.destroy();
  }, [data]);
  return <div class="chart" data-testid={testId} ref={ref} />;
};

export const ChartsView = ({ sessionId }: { sessionId: string }) => {
  const a = useApi<SeriesView>(apiPath('series', { session: sessionId }));
  if (a === undefined || !a.ok) return <Pending answer={a} />;
  const s = a.value;
  const turns: uPlot.AlignedData = [s.turns.index.map((_, k) => k + 1), s.turns.inputTokens, s.turns.outputTokens, s.turns.cacheReadTokens];
  const context: uPlot.AlignedData = [s.records.seq, s.records.messages, s.records.chars];
  return (
    <div>
      <p class="muted">
        {num(s.turns.index.length)} assistant calls with usage · {num(s.records.seq.length)} records · rewrite commits at seq {s.commitSeqs.join(', ') || 'none'}
      </p>
      {s.turns.index.length === 0 ? (
        <p class="muted">no assistant message carries token usage</p>
      ) : (
        <Chart
          testId="chart-tokens"
          title="tokens per turn"
          data={turns}
          opts={{
            scales: { x: { time: false } },
            axes: [{ label: 'assistant call' }, { label: 'tokens', size: 70 }],
            series: [{ label: 'call' }, { label: 'input', stroke: '#2563eb' }, { label: 'output', stroke: '#dc2626' }, { label: 'cache read', stroke: '#16a34a' }],
          }}
        />
      )}
      <Chart
        testId="chart-context"
        title="context size over records"
        data={context}
        opts={{
          scales: { x: { time: false }, chars: { auto: true } },
          axes: [{ label: 'record seq' }, { label: 'messages', size: 60 }, { side: 1, scale: 'chars', label: 'text (characters)', size: 80, grid: { show: false } }],
          series: [{ label: 'seq' }, { label: 'messages', stroke: '#7c3aed' }, { label: 'text characters', stroke: '#ea580c', scale: 'chars' }],
        }}
      />
    </div>
  );
};
