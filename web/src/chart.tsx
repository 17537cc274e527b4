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

/** A bar chart in SVG; every bar carries its exact value as a tooltip and
 * the figure a text summary for screen readers. */
export function BarChart({ title, buckets, format, label }: { title: string; buckets: Bucket[]; format: (v: number) => string; label: (t: number) => string }) {
  const max = Math.max(0, ...buckets.map((b) => b.value));
  const total = buckets.reduce((s, b) => s + b.value, 0);
  const w = 600;
  const h = 120;
  const bw = buckets.length ? w / buckets.length : w;
  const ticks = buckets.length > 1 ? [0, Math.floor(buckets.length / 2), buckets.length - 1] : [0];
  return (
    <figure className="chart">
      <figcaption>
        <span>{title}</span> <strong>{format(total)}</strong>
      </figcaption>
      <svg viewBox={`0 0 ${w} ${h + 18}`} role="img" aria-label={`${title}: ${format(total)} in total, at most ${format(max)} in one period`} preserveAspectRatio="none">
        <line x1={0} x2={w} y1={h} y2={h} className="axis" />
        {buckets.map((b, i) => {
          const bh = max > 0 ? (b.value / max) * (h - 4) : 0;
          return (
            <rect key={b.start} x={i * bw + bw * 0.15} width={Math.max(1, bw * 0.7)} y={h - bh} height={bh} className="bar">
              <title>{`${label(b.start)}: ${format(b.value)}`}</title>
            </rect>
          );
        })}
        {buckets.length > 0 &&
          ticks.map((i) => (
            <text key={i} x={Math.min(w - 4, Math.max(4, i * bw + bw / 2))} y={h + 14} textAnchor={i === 0 ? 'start' : i === buckets.length - 1 ? 'end' : 'middle'} className="tick">
              {label(buckets[i].start)}
            </text>
          ))}
      </svg>
    </figure>
  );
}
