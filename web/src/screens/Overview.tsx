import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import type { UsageEventsSubscription, UsageSplit } from '../gql/graphql';
import { describeError } from '../errors';
import { formatInt, formatMs, formatTime, formatUSD } from '../format';
import { Link } from '../router';
import { useCanEdit } from '../viewer';
import { alignSeries, bucketStarts, TimeChart } from '../chart';
import { nextReset, PaceMeters, useUsageRefresh } from '../pace';
import { SpendGauges, spendIn } from '../spend';
import { subjectStatus, type Status } from '../status';
import { keyStatus } from './ApiKeys';
import { Badge, Empty, ErrorNote, Loading, Page, ScrollBox, StatusBadge } from '../ui';

const LIST_CONTEXT = { additionalTypenames: ['Service', 'APIKey'] };

const OverviewQuery = graphql(`
  query Overview($from: Time!, $bucket: UsageBucket!) {
    organizationSpend {
      ...SpendFields
    }
    organizationPace {
      ...PaceLimitFields
    }
    balance {
      currentBalance
      currency
      enforced
    }
    services(first: 24, orderBy: { field: SERVICE_NAME }) {
      totalCount
      edges {
        node {
          id
          serviceName
          provider
          active
          spend {
            ...SpendFields
          }
          pace {
            ...PaceLimitFields
          }
        }
      }
    }
    apiKeys(first: 24, where: { isManagementKey: false }, orderBy: { field: NAME }) {
      totalCount
      totalCountIsExact
      edges {
        node {
          id
          name
          isActive
          expiresAt
          service {
            id
            serviceName
          }
          spend {
            ...SpendFields
          }
          pace {
            ...PaceLimitFields
          }
        }
      }
    }
    usage(filter: { from: $from }, bucket: $bucket) {
      totals {
        requests
        errors
        refusedRequests
        unpricedRequests
        inputTokens
        outputTokens
        cacheWriteTokens
        cost
        meanLatencyMs
        latencyP50Ms
        latencyP95Ms
        latencyP99Ms
      }
      series {
        start
        sums {
          requests
          cost
        }
      }
      byModel {
        model
        sums {
          requests
          errors
          refusedRequests
          cost
          inputTokens
          outputTokens
          latencyP95Ms
        }
      }
    }
  }
`);

export const BreakdownSums = graphql(`
  fragment BreakdownSums on UsageSums {
    requests
    errors
    refusedRequests
    inputTokens
    outputTokens
    cost
    latencyP50Ms
    latencyP95Ms
  }
`);

const BreakdownQuery = graphql(`
  query UsageBreakdown($from: Time!, $bucket: UsageBucket!, $by: UsageSplit!) {
    usage(filter: { from: $from }, bucket: $bucket) {
      split(by: $by, first: 6) {
        key
        name
        sums {
          ...BreakdownSums
        }
        series {
          start
          sums {
            ...BreakdownSums
          }
        }
      }
    }
  }
`);

type Range = '24h' | '30d';
const HOUR = 3600_000;
const DAY = 24 * HOUR;

export function Overview() {
  const [range, setRange] = useState<Range>('24h');
  const canEdit = useCanEdit();
  const { from, step } = useMemo(() => {
    const step = range === '24h' ? HOUR : DAY;
    const span = range === '24h' ? 23 * HOUR : 29 * DAY;
    return { from: Math.floor((Date.now() - span) / step) * step, step };
  }, [range]);
  const [{ data, fetching, error }, refetch] = useQuery({
    query: OverviewQuery,
    variables: { from: new Date(from).toISOString(), bucket: range === '24h' ? 'HOUR' : 'DAY' },
    context: LIST_CONTEXT,
  });
  const [live, setLive] = useState<UsageEventsSubscription['usageEvents'][]>([]);
  const paces = [data?.organizationPace, ...(data?.services.edges ?? []).map((e) => e?.node?.pace), ...(data?.apiKeys.edges ?? []).map((e) => e?.node?.pace)];
  useUsageRefresh(refetch, { onEvent: (e) => setLive((l) => [e, ...l].slice(0, 8)), resetsIn: nextReset(...paces) });

  const label = useCallback(
    (ms: number) =>
      range === '24h' ? new Date(ms).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' }) : new Date(ms).toLocaleDateString('en-GB', { day: '2-digit', month: 'short' }),
    [range],
  );
  // The buckets up to now, fixed for as long as the data is.
  const starts = useMemo(() => bucketStarts(from, Date.now(), step), [from, step, data]);
  const series = data?.usage.series;
  const spendSeries = useMemo(() => [{ label: 'Spend', values: alignSeries((series ?? []).map((p) => ({ start: p.start, value: p.sums.cost })), starts, step) }], [series, starts, step]);
  const requestSeries = useMemo(() => [{ label: 'Requests', values: alignSeries((series ?? []).map((p) => ({ start: p.start, value: p.sums.requests })), starts, step) }], [series, starts, step]);

  const body = () => {
    if (!data) return fetching ? <Loading what="Loading spend and usage" /> : <ErrorNote problem={describeError(error)} />;
    const services = (data.services.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []));
    const keys = (data.apiKeys.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []));
    const t = data.usage.totals;
    const orgLimited = data.organizationSpend.some((w) => w.warn != null || w.block != null) || data.organizationPace.length > 0;
    const models = [...data.usage.byModel].sort((a, b) => b.sums.cost - a.sums.cost || b.sums.requests - a.sums.requests).slice(0, 8);
    return (
      <>
        <ErrorNote problem={describeError(error)} />
        <div className="stats">
          <Stat label="Spend today" value={formatUSD(spendIn(data.organizationSpend, 'day'))} testid="spend-today" />
          <Stat label="Spend this month" value={formatUSD(spendIn(data.organizationSpend, 'month'))} />
          <Stat label={`Requests (${range})`} value={formatInt(t.requests)} detail={t.errors ? errorsText(t.errors, t.refusedRequests) : undefined} />
          <Stat label={`Tokens (${range})`} value={formatInt(t.inputTokens + t.outputTokens)} detail={`${formatInt(t.inputTokens)} in · ${formatInt(t.outputTokens)} out${t.cacheWriteTokens ? ` · ${formatInt(t.cacheWriteTokens)} written to cache` : ''}`} />
          <Stat
            label={`Latency p50 (${range})`}
            value={formatMs(t.latencyP50Ms)}
            detail={t.latencyP50Ms == null ? `mean ${formatMs(t.meanLatencyMs)}` : `p95 ${formatMs(t.latencyP95Ms)} · p99 ${formatMs(t.latencyP99Ms)}`}
          />
          {data.balance.enforced && (
            <Stat label="Prepaid balance" value={formatUSD(data.balance.currentBalance)} detail="enforced: requests are refused at zero" testid="balance" />
          )}
        </div>
        {t.unpricedRequests > 0 && (
          <p className="warn-text">{formatInt(t.unpricedRequests)} requests used models without a price: their cost is unknown, not zero.</p>
        )}

        <div className="card">
          <div className="card-head">
            <h2>Spend and requests</h2>
            <div className="segmented" role="group" aria-label="Period">
              {(['24h', '30d'] as Range[]).map((r) => (
                <button key={r} type="button" aria-pressed={range === r} onClick={() => setRange(r)}>
                  {r === '24h' ? 'Last 24 hours' : 'Last 30 days'}
                </button>
              ))}
            </div>
          </div>
          <div className="grid-2">
            <TimeChart title="Spend" starts={starts} series={spendSeries} total={formatUSD(t.cost)} format={formatUSD} label={label} />
            <TimeChart title="Requests" starts={starts} series={requestSeries} total={formatInt(t.requests)} format={formatInt} label={label} />
          </div>
        </div>

        <UsageBreakdown from={from} step={step} starts={starts} label={label} range={range} version={t.requests} />

        <div className="grid-2">
          <div className="card">
            <div className="card-head">
              <h2>Organization budget <NotActive status={subjectStatus(null, data.organizationSpend, data.organizationPace)} /></h2>
              {canEdit && <Link href="/dashboard/settings#org-limits">{orgLimited ? 'Change limits' : 'Set limits'}</Link>}
            </div>
            {!orgLimited && (
              <p className="muted small" data-testid="org-no-limit">
                No organization-wide limit is set: only each service's and key's own limits apply.{' '}
                {canEdit ? <>Set one in <Link href="/dashboard/settings#org-limits">Settings › General</Link>.</> : 'An admin can set one in Settings.'}
              </p>
            )}
            <SpendGauges spend={data.organizationSpend} />
            <PaceMeters pace={data.organizationPace} />
          </div>
          <div className="card">
            <h2>Top models ({range})</h2>
            {models.length === 0 ? (
              <p className="muted">No requests in this period yet. Point an application at the gateway with one of your API keys.</p>
            ) : (
              <ScrollBox label="Top models">
              <table>
                <thead>
                  <tr>
                    <th>Model</th><th className="num">Requests</th>
                    <th className="num" title="Answered with a status of 400 or more after the upstream was called">Errors</th>
                    <th className="num" title="Refused by the gateway itself (limits, balance, invalid requests) without calling the upstream">Refused</th>
                    <th className="num">Tokens</th><th className="num">p95 latency</th><th className="num">Cost</th>
                  </tr>
                </thead>
                <tbody>
                  {models.map((m) => (
                    <tr key={m.model}>
                      <td>{m.model}</td>
                      <td className="num">{formatInt(m.sums.requests)}</td>
                      <td className="num">{formatInt(m.sums.errors - m.sums.refusedRequests)}</td>
                      <td className="num">{formatInt(m.sums.refusedRequests)}</td>
                      <td className="num">{formatInt(m.sums.inputTokens + m.sums.outputTokens)}</td>
                      <td className="num">{formatMs(m.sums.latencyP95Ms)}</td>
                      <td className="num">{formatUSD(m.sums.cost)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              </ScrollBox>
            )}
          </div>
        </div>

        <div className="card">
          <h2>Services</h2>
          {services.length === 0 ? (
            <Empty title="No services yet">
              Create a <Link href="/dashboard/services">service</Link> for a provider, then an <Link href="/dashboard/keys">API key</Link> for your application.
            </Empty>
          ) : (
            <div className="service-grid">
              {services.map((s) => (
                <div key={s.id} className="mini">
                  <h3>
                    {s.serviceName} <span className="muted small">{s.provider}</span> <NotActive status={subjectStatus(s.active ? null : 'disabled', s.spend, s.pace)} />
                  </h3>
                  <SpendGauges spend={s.spend} windows={['day', 'month']} />
                  <PaceMeters pace={s.pace} />
                </div>
              ))}
            </div>
          )}
          <FirstOf shown={services.length} total={data.services.totalCount} exact what="services" href="/dashboard/services" screen="Services" />
        </div>

        {keys.length > 0 && (
          <div className="card">
            <h2>Spend by API key</h2>
            <ScrollBox label="Spend by API key">
              <table>
                <thead>
                  <tr><th>Key</th><th>Service</th><th>Status</th><th>Spend</th><th>Pace</th></tr>
                </thead>
                <tbody>
                  {keys.map((k) => (
                    <tr key={k.id}>
                      <td>{k.name}</td>
                      <td>{k.service?.serviceName ?? '—'}</td>
                      <td><StatusBadge status={keyStatus(k, Date.now(), services.find((s) => s.id === k.service?.id))} /></td>
                      <td><SpendGauges spend={k.spend} windows={['day', 'month']} compact /></td>
                      <td>{k.pace.length ? <PaceMeters pace={k.pace} compact /> : <span className="muted">no limit</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollBox>
            <FirstOf shown={keys.length} total={data.apiKeys.totalCount} exact={data.apiKeys.totalCountIsExact} what="keys" href="/dashboard/keys" screen="API keys" />
          </div>
        )}

        <div className="card">
          <h2>Live requests</h2>
          {live.length === 0 ? (
            <p className="muted">Requests appear here as the gateway settles them.</p>
          ) : (
            <ul className="live" aria-live="polite">
              {live.map((e) => (
                <li key={e.requestId}>
                  <span>{formatTime(e.at)}</span> <strong>{e.model}</strong> <Badge tone={e.status >= 400 ? 'bad' : 'ok'}>{e.status}</Badge>{' '}
                  {formatInt(e.inputTokens + e.outputTokens)} tokens · {e.priced ? formatUSD(e.cost) : 'unpriced'} · {Math.round(e.latencyMs)} ms
                </li>
              ))}
            </ul>
          )}
        </div>
      </>
    );
  };
  return <Page title="Overview">{body()}</Page>;
}

/** Says that a card shows only the first of a list, and where the rest is:
 * the overview shows the first 24 services and keys by name with their
 * spend, as their own screens' first pages do, not every one. */
export function FirstOf({ shown, total, exact, what, href, screen }: { shown: number; total: number; exact: boolean; what: string; href: string; screen: string }) {
  if (shown >= total && exact) return null;
  return (
    <p className="muted small" data-testid={`first-of-${what}`}>
      The first {formatInt(shown)} of {formatInt(total)}
      {exact ? '' : '+'} {what} by name; the <Link href={href}>{screen}</Link> screen has them all.
    </p>
  );
}

/** The errors of a set of requests, the gateway's refusals apart. */
export function errorsText(errors: number, refused: number): string {
  const upstream = errors - refused;
  const count = (n: number) => `${formatInt(n)} ${n === 1 ? 'error' : 'errors'}`;
  return refused ? `${count(upstream)} · ${formatInt(refused)} refused` : count(errors);
}

type Metric = 'tokens' | 'cost' | 'errors' | 'p50' | 'p95';
type BreakdownSums = { requests: number; errors: number; refusedRequests: number; inputTokens: number; outputTokens: number; cost: number; latencyP50Ms?: number | null; latencyP95Ms?: number | null };

const METRICS: { id: Metric; label: string; value: (s: BreakdownSums) => number | null | undefined; format: (v: number) => string; latency?: boolean }[] = [
  { id: 'tokens', label: 'Tokens', value: (s) => s.inputTokens + s.outputTokens, format: formatInt },
  { id: 'cost', label: 'Cost', value: (s) => s.cost, format: formatUSD },
  { id: 'errors', label: 'Errors', value: (s) => s.errors, format: formatInt },
  { id: 'p50', label: 'Latency p50', value: (s) => s.latencyP50Ms, format: (v) => formatMs(v), latency: true },
  { id: 'p95', label: 'Latency p95', value: (s) => s.latencyP95Ms, format: (v) => formatMs(v), latency: true },
];

const SPLITS: { id: UsageSplit; label: string }[] = [
  { id: 'SERVICE' as UsageSplit, label: 'Service' },
  { id: 'API_KEY' as UsageSplit, label: 'API key' },
  { id: 'MODEL' as UsageSplit, label: 'Model' },
];

/** Usage split by service, key or model: a line a group over the period
 * for one measure, and every measure of each group in a table. */
function UsageBreakdown({ from, step, starts, label, range, version }: { from: number; step: number; starts: number[]; label: (t: number) => string; range: Range; version: number }) {
  const [by, setBy] = useState<UsageSplit>('SERVICE' as UsageSplit);
  const [metric, setMetric] = useState<Metric>('tokens');
  const [{ data, fetching, error }, refetch] = useQuery({
    query: BreakdownQuery,
    variables: { from: new Date(from).toISOString(), bucket: range === '24h' ? 'HOUR' : 'DAY', by },
  });
  // The overview's request count moves with new traffic: ask again then,
  // not on the first draw.
  const seen = useRef(version);
  useEffect(() => {
    if (seen.current === version) return;
    seen.current = version;
    refetch({ requestPolicy: 'network-only' });
  }, [version, refetch]);
  const m = METRICS.find((x) => x.id === metric) ?? METRICS[0];
  const groups = data?.usage.split;
  const series = useMemo(
    () =>
      (groups ?? []).map((g) => ({
        label: g.name,
        values: alignSeries(g.series.map((p) => ({ start: p.start, value: m.value(p.sums as BreakdownSums) })), starts, step, m.latency ? null : 0),
      })),
    [groups, m, starts, step],
  );
  const splitLabel = SPLITS.find((x) => x.id === by)?.label ?? '';
  return (
    <div className="card breakdown" data-testid="breakdown">
      <div className="card-head">
        <h2>Breakdown by {splitLabel.toLowerCase()} ({range})</h2>
      </div>
      <div className="row">
        <div className="segmented" role="group" aria-label="Split by">
          {SPLITS.map((x) => (
            <button key={x.id} type="button" aria-pressed={by === x.id} onClick={() => setBy(x.id)}>{x.label}</button>
          ))}
        </div>
        <div className="segmented" role="group" aria-label="Measure">
          {METRICS.map((x) => (
            <button key={x.id} type="button" aria-pressed={metric === x.id} onClick={() => setMetric(x.id)}>{x.label}</button>
          ))}
        </div>
      </div>
      {!data && fetching && <Loading what="Loading the breakdown" />}
      <ErrorNote problem={describeError(error)} />
      {groups && groups.length === 0 && <p className="muted">No requests in this period{by === 'MODEL' ? '' : ` with a ${splitLabel.toLowerCase()}`}.</p>}
      {groups && groups.length > 0 && (
        <>
          <TimeChart title={`${m.label} by ${splitLabel.toLowerCase()}`} starts={starts} series={series} format={m.format} label={label} kind="lines" height={220} />
          <ScrollBox label={`Breakdown by ${splitLabel.toLowerCase()}`}>
            <table>
              <thead>
                <tr>
                  <th>{splitLabel}</th><th className="num">Requests</th><th className="num">Tokens</th><th className="num">Cost</th>
                  <th className="num">Errors</th><th className="num">Refused</th><th className="num">p50</th><th className="num">p95</th>
                </tr>
              </thead>
              <tbody>
                {groups.map((g) => (
                  <tr key={g.key}>
                    <td>{g.name}</td>
                    <td className="num">{formatInt(g.sums.requests)}</td>
                    <td className="num">{formatInt(g.sums.inputTokens + g.sums.outputTokens)}</td>
                    <td className="num">{formatUSD(g.sums.cost)}</td>
                    <td className="num">{formatInt(g.sums.errors - g.sums.refusedRequests)}</td>
                    <td className="num">{formatInt(g.sums.refusedRequests)}</td>
                    <td className="num">{formatMs(g.sums.latencyP50Ms)}</td>
                    <td className="num">{formatMs(g.sums.latencyP95Ms)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollBox>
        </>
      )}
    </div>
  );
}

/** A badge only when something is off, blocked or warned. */
function NotActive({ status }: { status: Status }) {
  return status.text === 'active' ? null : <StatusBadge status={status} brief />;
}

function Stat({ label, value, detail, testid }: { label: string; value: string; detail?: string; testid?: string }) {
  return (
    <div className="stat">
      <span className="muted">{label}</span>
      <strong data-testid={testid}>{value}</strong>
      {detail && <span className="muted small">{detail}</span>}
    </div>
  );
}
