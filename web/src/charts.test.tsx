import { describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import { alignSeries, bucketStarts, TimeChart } from './chart';
import { routeOf } from './App';
import { errorsText, FirstOf } from './screens/Overview';

const h = 3600_000;
const from = Date.parse('2026-01-01T00:00:00Z');

describe('time charts', () => {
  it('lays a series on every bucket: zero or a gap where it has no point', () => {
    const starts = bucketStarts(from + 5 * 60_000, from + 3 * h, h);
    expect(starts).toEqual([from, from + h, from + 2 * h, from + 3 * h]);
    const points = [{ start: '2026-01-01T01:00:00Z', value: 3 }, { start: '2026-01-01T03:00:00Z', value: null }];
    expect(alignSeries(points, starts, h)).toEqual([0, 3, 0, 0]);
    expect(alignSeries(points, starts, h, null)).toEqual([null, 3, null, null]);
  });

  it('tells a screen reader every value of every series', () => {
    const html = renderToStaticMarkup(
      <TimeChart title="Cost by service" starts={[from, from + h]} series={[{ label: 'prod', values: [1, null] }, { label: 'dev', values: [0, 2] }]} format={(v) => `$${v}`} label={(t) => String((t - from) / h)} kind="lines" />,
    );
    expect(html).toContain('aria-label="Cost by service, at most $2 in one period"');
    expect(html).toContain('<th>prod</th><th>dev</th>');
    expect(html).toContain('<td>1</td><td>—</td><td>$2</td>');
  });
});

describe('routes and error counts', () => {
  it('finds a screen by its path or a sub-page of it', () => {
    expect(routeOf('/')?.label).toBe('Overview');
    expect(routeOf('/dashboard/')?.label).toBe('Overview');
    expect(routeOf('/dashboard/settings')?.label).toBe('Settings');
    expect(routeOf('/dashboard/settings/prices')?.label).toBe('Settings');
    expect(routeOf('/dashboard/settings/')?.label).toBe('Settings');
    expect(routeOf('/dashboard/settingsx')).toBeNull();
    expect(routeOf('/nowhere')).toBeNull();
  });

  it('counts the gateway refusals apart from the upstream errors', () => {
    expect(errorsText(5, 0)).toBe('5 errors');
    expect(errorsText(5, 2)).toBe('3 errors · 2 refused');
    expect(errorsText(2, 1)).toBe('1 error · 1 refused');
  });
});

describe('the overview\'s first of a list', () => {
  it('says nothing when the card shows the whole list', () => {
    expect(renderToStaticMarkup(<FirstOf shown={3} total={3} exact what="services" href="/dashboard/services" screen="Services" />)).toBe('');
  });
  it('says how many more there are and where, a capped count with a plus', () => {
    const all = renderToStaticMarkup(<FirstOf shown={24} total={1000} exact what="services" href="/dashboard/services" screen="Services" />);
    expect(all).toContain('The first 24 of 1,000 services by name');
    expect(all).toContain('href="/dashboard/services"');
    const capped = renderToStaticMarkup(<FirstOf shown={24} total={10000} exact={false} what="keys" href="/dashboard/keys" screen="API keys" />);
    expect(capped).toContain('The first 24 of 10,000+ keys by name');
  });
});
