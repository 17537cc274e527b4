import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Bucket {
  start: number; // ms since epoch
  value: number;
}

/** Every bucket from `from` up to `to`, zero where the series has none,
 * so gaps in traffic show as gaps rather than being squeezed out. */
export function fillBuckets(points: { start: string; value: number }[], from: number, to: number, stepMs: number): Bucket[] {
  const byStart = new Map<number, number>();
  for (const p of points) {
    const t = Math.floor(new Date(p.start).getTime() / stepMs) * stepMs;
    byStart.set(t, (byStart.get(t) ?? 0) + p.value);
  }
  const out: Bucket[] = [];
  for (let t = Math.floor(from / stepMs) * stepMs; t <= to; t += stepMs) out.push({ start: t, value: byStart.get(t) ?? 0 });
  return out;
}

/** The bucket starts from `from` up to `to`, in ms since epoch. */
export function bucketStarts(from: number, to: number, stepMs: number): number[] {
  const out: number[] = [];
  for (let t = Math.floor(from / stepMs) * stepMs; t <= to; t += stepMs) out.push(t);
  return out;
}

/** A series' values on the given bucket starts: null where it has no
 * point (a gap, not a zero, for measures such as latency) unless a
 * default is given. */
export function alignSeries(points: readonly { start: string; value: number | null | undefined }[], starts: readonly number[], stepMs: number, missing: number | null = 0): (number | null)[] {
  const byStart = new Map<number, number>();
  for (const p of points) {
    if (p.value == null) continue;
    const t = Math.floor(new Date(p.start).getTime() / stepMs) * stepMs;
    byStart.set(t, (byStart.get(t) ?? 0) + p.value);
  }
  return starts.map((t) => byStart.get(t) ?? missing);
}

export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

// Series colours, distinguishable for the common colour-vision deficiencies
// (Okabe–Ito).
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

/**
 * A time chart with labelled axes (uPlot, drawn on a canvas): bars for a
 * single series, lines for a split. A screen reader reads the caption's
 * summary and a table of the values; the tick labels shown are kept on
 * the figure (data-x-ticks, data-y-ticks).
 */
export function TimeChart({ title, starts, series, format, label, total, kind = 'bars', height = 180 }: {
  title: string;
  starts: readonly number[]; // ms since epoch
  series: readonly ChartSeries[];
  format: (v: number) => string;
  label: (t: number) => string;
  total?: string;
  kind?: 'bars' | 'lines';
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const fig = useRef<HTMLElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ticks = (axis: 'x' | 'y') => (_u: uPlot, splits: number[]) => {
      const out = splits.map((v) => (v == null ? '' : axis === 'x' ? label(v * 1000) : format(v)));
      fig.current?.setAttribute(`data-${axis}-ticks`, out.join('|'));
      return out;
    };
    const bars = kind === 'bars' && series.length === 1;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: series.length > 1, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.05 : 1] } },
      axes: [
        { values: ticks('x'), stroke: 'currentColor', grid: { show: false }, ticks: { stroke: '#8884' } },
        // Wide enough for the longest tick label drawn.
        { values: ticks('y'), stroke: 'currentColor', size: (_u, values) => 18 + 7 * Math.max(2, ...(values ?? []).map((v) => String(v).length)), grid: { stroke: '#8883' }, ticks: { stroke: '#8884' } },
      ],
      series: [
        { value: (_u, v) => (v == null ? '' : label(v * 1000)) },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          fill: bars ? PALETTE[i % PALETTE.length] + 'cc' : undefined,
          width: bars ? 0 : 2,
          points: { show: !bars && starts.length < 60 },
          paths: bars ? uPlot.paths.bars!({ size: [0.7, 40] }) : undefined,
          value: (_u: uPlot, v: number | null) => (v == null ? '—' : format(v)),
        })),
      ],
    };
    const data = [starts.map((t) => t / 1000), ...series.map((s) => s.values)] as uPlot.AlignedData;
    const plot = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [starts, series, format, label, kind, height]);
  const peak = Math.max(0, ...series.flatMap((s) => s.values.map((v) => v ?? 0)));
  return (
    <figure className="chart" ref={fig} data-series={series.map((s) => s.label).join('|')}>
      <figcaption>
        <span>{title}</span> {total && <strong>{total}</strong>}
      </figcaption>
      <div ref={box} className="chart-plot" role="img" aria-label={`${title}${total ? `: ${total} in total` : ''}, at most ${format(peak)} in one period`} />
      <table className="sr-only">
        <caption>{title}</caption>
        <thead>
          <tr><th>Period</th>{series.map((s) => <th key={s.label}>{s.label}</th>)}</tr>
        </thead>
        <tbody>
          {starts.map((t, i) => (
            <tr key={t}><td>{label(t)}</td>{series.map((s) => <td key={s.label}>{s.values[i] == null ? '—' : format(s.values[i] as number)}</td>)}</tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
