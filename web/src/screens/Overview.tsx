import { useMemo, useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import type { UsageEventsSubscription } from '../gql/graphql';
import { describeError } from '../errors';
import { formatInt, formatMs, formatTime, formatUSD } from '../format';
import { Link } from '../router';
import { useCanEdit } from '../viewer';
import { BarChart, fillBuckets } from '../chart';
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
    services(first: 100, orderBy: { field: SERVICE_NAME }) {
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
    apiKeys(first: 100, where: { isManagementKey: false }, orderBy: { field: NAME }) {
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
          cost
          inputTokens
          outputTokens
          latencyP95Ms
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

  const body = () => {
    if (!data) return fetching ? <Loading what="Loading spend and usage" /> : <ErrorNote problem={describeError(error)} />;
    const services = (data.services.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []));
    const keys = (data.apiKeys.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []));
    const t = data.usage.totals;
    const label = (ms: number) =>
      range === '24h' ? new Date(ms).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' }) : new Date(ms).toLocaleDateString('en-GB', { day: '2-digit', month: 'short' });
    const models = [...data.usage.byModel].sort((a, b) => b.sums.cost - a.sums.cost || b.sums.requests - a.sums.requests).slice(0, 8);
    return (
      <>
        <ErrorNote problem={describeError(error)} />
        <div className="stats">
          <Stat label="Spend today" value={formatUSD(spendIn(data.organizationSpend, 'day'))} testid="spend-today" />
          <Stat label="Spend this month" value={formatUSD(spendIn(data.organizationSpend, 'month'))} />
          <Stat label={`Requests (${range})`} value={formatInt(t.requests)} detail={t.errors ? `${formatInt(t.errors)} errors` : undefined} />
          <Stat label={`Tokens (${range})`} value={formatInt(t.inputTokens + t.outputTokens)} detail={`${formatInt(t.inputTokens)} in · ${formatInt(t.outputTokens)} out${t.cacheWriteTokens ? ` · ${formatInt(t.cacheWriteTokens)} written to cache` : ''}`} />
          <Stat
            label={`Latency p50 (${range})`}
            value={formatMs(t.latencyP50Ms)}
            detail={t.latencyP50Ms == null ? `mean ${formatMs(t.meanLatencyMs)}` : `p95 ${formatMs(t.latencyP95Ms)} · p99 ${formatMs(t.latencyP99Ms)}`}
          />
          <Stat
            label="Prepaid balance"
            value={formatUSD(data.balance.currentBalance)}
            detail={data.balance.enforced ? 'enforced' : 'not enforced'}
          />
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
            <BarChart title="Spend" buckets={fillBuckets(data.usage.series.map((p) => ({ start: p.start, value: p.sums.cost })), from, Date.now(), step)} format={formatUSD} label={label} />
            <BarChart title="Requests" buckets={fillBuckets(data.usage.series.map((p) => ({ start: p.start, value: p.sums.requests })), from, Date.now(), step)} format={formatInt} label={label} />
          </div>
        </div>

        <div className="grid-2">
          <div className="card">
            <div className="card-head">
              <h2>Organization budget <NotActive status={subjectStatus(null, data.organizationSpend, data.organizationPace)} /></h2>
              {canEdit && <Link href="/dashboard/settings">Set limits</Link>}
            </div>
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
                    <tr><th>Model</th><th className="num">Requests</th><th className="num">Tokens</th><th className="num">p95 latency</th><th className="num">Cost</th></tr>
                  </thead>
                  <tbody>
                    {models.map((m) => (
                      <tr key={m.model}>
                        <td>{m.model}</td>
                        <td className="num">{formatInt(m.sums.requests)}</td>
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
