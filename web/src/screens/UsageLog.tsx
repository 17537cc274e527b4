import { useMemo, useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import type { UsageRecordWhereInput } from '../gql/graphql';
import { nodes } from '../connection';
import { describeError } from '../errors';
import { formatInt, formatTime, formatUSD, fromLocalInput } from '../format';
import { Pager, usePager } from '../pager';
import { Badge, Empty, ErrorNote, Loading, Page, ScrollBox, SelectField, TextField } from '../ui';
import { downloadUsageCSV } from '../usageexport';

const UsageLogQuery = graphql(`
  query UsageLog($after: Cursor, $where: UsageRecordWhereInput) {
    usageRecords(first: 50, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {
      totalCount
      totalCountIsExact
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          createdAt
          requestID
          serviceID
          apiKeyID
          protocol
          providerProtocol
          endpoint
          model
          inputTokens
          outputTokens
          cachedInputTokens
          cacheWriteTokens
          cost
          priced
          status
          error
          latencyUs
          ttfbUs
          streamed
          partial
        }
      }
    }
  }
`);

const UsageFilterOptions = graphql(`
  query UsageFilterOptions($since: Time!) {
    services(first: 200, orderBy: { field: SERVICE_NAME }) {
      edges {
        node {
          id
          serviceName
        }
      }
    }
    apiKeys(first: 200, where: { isManagementKey: false }, orderBy: { field: NAME }) {
      edges {
        node {
          id
          name
        }
      }
    }
    usage(filter: { from: $since }, bucket: DAY) {
      byModel {
        model
      }
    }
  }
`);

export interface UsageFilters {
  serviceId: string;
  apiKeyId: string;
  model: string;
  status: '' | 'ok' | 'error';
  from: string;
  to: string;
}

/** The usage log's filter form as the API's where input. A model picked
 * from the models in use (known) filters exactly, which an index serves;
 * other text matches any model containing it, case aside. */
export function usageWhere(f: UsageFilters, known: readonly string[] = []): UsageRecordWhereInput {
  const w: UsageRecordWhereInput = {};
  if (f.serviceId) w.serviceID = Number(f.serviceId);
  if (f.apiKeyId) w.apiKeyID = Number(f.apiKeyId);
  const model = f.model.trim();
  if (model && known.includes(model)) w.model = model;
  else if (model) w.modelContainsFold = model;
  if (f.status === 'ok') w.statusLT = 400;
  if (f.status === 'error') w.statusGTE = 400;
  const from = fromLocalInput(f.from);
  const to = fromLocalInput(f.to);
  if (from) w.createdAtGTE = from;
  if (to) w.createdAtLT = to;
  return w;
}

/**
 * The caller's protocol, and the upstream's after an arrow when the request
 * was translated: "openai" or "openai → anthropic".
 */
export function protocolText(protocol: string, providerProtocol: string | null | undefined): string {
  return providerProtocol && providerProtocol !== protocol ? `${protocol} → ${providerProtocol}` : protocol;
}

/** The usage log's protocol cell: one line, saying so when translated. */
export function ProtocolCell({ protocol, providerProtocol }: { protocol: string; providerProtocol?: string | null }) {
  const translated = !!providerProtocol && providerProtocol !== protocol;
  return (
    <td className="nowrap small" title={translated ? `Translated: called as ${protocol}, answered by the ${providerProtocol} upstream` : undefined}>
      {protocolText(protocol, providerProtocol)}
    </td>
  );
}

const ms = (us: number | null | undefined) => (us == null ? '—' : `${formatInt(Math.round(us / 1000))} ms`);

export function UsageLog() {
  const [filters, setFilters] = useState<UsageFilters>({ serviceId: '', apiKeyId: '', model: '', status: '', from: '', to: '' });
  const pager = usePager();
  // The models used in the last 90 days, from the roll-ups.
  const since = useMemo(() => new Date(Date.now() - 90 * 24 * 3600 * 1000).toISOString(), []);
  const [{ data: options }] = useQuery({ query: UsageFilterOptions, variables: { since } });
  const models = useMemo(() => options?.usage.byModel.map((m) => m.model) ?? [], [options]);
  const where = useMemo(() => usageWhere(filters, models), [filters, models]);
  const [{ data, fetching, error }] = useQuery({ query: UsageLogQuery, variables: { after: pager.after, where } });
  const services = nodes(options?.services);
  const keys = nodes(options?.apiKeys);
  const serviceName = new Map(services.map((s) => [Number(s.id), s.serviceName]));
  const keyName = new Map(keys.map((k) => [Number(k.id), k.name]));
  const records = nodes(data?.usageRecords);
  const set = (patch: Partial<UsageFilters>) => {
    pager.reset();
    setFilters({ ...filters, ...patch });
  };
  const filtered = Object.values(filters).some(Boolean);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  const exportCSV = () => {
    setExporting(true);
    setExportError(null);
    downloadUsageCSV(where)
      .catch((e: unknown) => setExportError(e instanceof Error ? e.message : String(e)))
      .finally(() => setExporting(false));
  };

  return (
    <Page
      title="Usage log"
      actions={
        <button type="button" onClick={exportCSV} disabled={exporting} title="The records these filters select, newest first">
          {exporting ? 'Exporting…' : 'Export CSV'}
        </button>
      }
      intro="Every proxied request: tokens, cost, status and latency. Raw records are kept for the retention period; the overview's totals are kept for good.">
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <SelectField label="Service" value={filters.serviceId} onChange={(e) => set({ serviceId: e.target.value })}>
          <option value="">All services</option>
          {services.map((s) => <option key={s.id} value={s.id}>{s.serviceName}</option>)}
        </SelectField>
        <SelectField label="API key" value={filters.apiKeyId} onChange={(e) => set({ apiKeyId: e.target.value })}>
          <option value="">All keys</option>
          {keys.map((k) => <option key={k.id} value={k.id}>{k.name}</option>)}
        </SelectField>
        <TextField label="Model" type="search" list="usage-models" value={filters.model} onChange={(e) => set({ model: e.target.value })} placeholder="any" />
        <datalist id="usage-models">
          {models.map((m) => <option key={m} value={m} />)}
        </datalist>
        <SelectField label="Status" value={filters.status} onChange={(e) => set({ status: e.target.value as UsageFilters['status'] })}>
          <option value="">Any</option>
          <option value="ok">Succeeded</option>
          <option value="error">Failed (400+)</option>
        </SelectField>
        <TextField label="From" type="datetime-local" value={filters.from} onChange={(e) => set({ from: e.target.value })} />
        <TextField label="To" type="datetime-local" value={filters.to} onChange={(e) => set({ to: e.target.value })} />
      </form>
      {exportError && <p className="field-error" role="alert">{exportError}</p>}
      {!data && fetching && <Loading what="Loading usage" />}
      <ErrorNote problem={describeError(error)} />
      {data && records.length === 0 && (
        <Empty title={filtered ? 'No requests match these filters' : 'No requests yet'}>
          {filtered ? 'Widen the filters.' : 'Requests through the gateway appear here as soon as they finish.'}
        </Empty>
      )}
      {records.length > 0 && (
        <>
          <ScrollBox label="Usage records" className="log-wrap">
            <table className="log">
              <colgroup>
                <col className="w-time" /><col className="w-name" /><col className="w-name" /><col className="w-model" /><col className="w-protocol" /><col />
                <col className="w-tokens" /><col className="w-cost" /><col className="w-ms" /><col className="w-ms" /><col className="w-request" />
              </colgroup>
              <thead>
                <tr>
                  <th>Time</th><th>Service</th><th>Key</th><th>Model</th><th>Protocol</th><th>Status</th><th className="num">Tokens in / out</th><th className="num">Cost</th><th className="num">Latency</th><th className="num">First byte</th><th>Request</th>
                </tr>
              </thead>
              <tbody>
                {records.map((r) => {
                  const model = `${r.model} · ${r.endpoint}${r.streamed ? ' · streamed' : ''}${r.partial ? ' · partial' : ''}`;
                  const tokens = `${formatInt(r.inputTokens)} / ${formatInt(r.outputTokens)}`;
                  const tokenNotes = [r.cachedInputTokens > 0 && `${formatInt(r.cachedInputTokens)} cached`, (r.cacheWriteTokens ?? 0) > 0 && `${formatInt(r.cacheWriteTokens)} written to cache`].filter(Boolean).join(', ');
                  return (
                    <tr key={r.id}>
                      <td>{formatTime(r.createdAt)}</td>
                      <td title={serviceName.get(r.serviceID)}>{serviceName.get(r.serviceID) ?? r.serviceID}</td>
                      <td title={keyName.get(r.apiKeyID)}>{keyName.get(r.apiKeyID) ?? r.apiKeyID}</td>
                      <td title={model}>{r.model}<span className="muted small"> · {r.endpoint}{r.streamed ? ' · streamed' : ''}{r.partial ? ' · partial' : ''}</span></td>
                      <ProtocolCell protocol={r.protocol} providerProtocol={r.providerProtocol} />
                      <td className={r.error ? 'reason' : undefined} title={r.error ?? undefined} tabIndex={r.error ? 0 : undefined}><Badge tone={r.status >= 400 ? 'bad' : 'ok'}>{r.status}</Badge>{r.error && <span className="small field-error"> {r.error}</span>}</td>
                      <td className="num" title={tokenNotes ? `${tokens} (${tokenNotes})` : undefined}>{tokens}{tokenNotes && <span className="muted small"> · {tokenNotes}</span>}</td>
                      <td className="num">{r.priced ? formatUSD(r.cost) : <span title="The model has no price: the cost is unknown, not zero.">unpriced</span>}</td>
                      <td className="num">{ms(r.latencyUs)}</td>
                      <td className="num">{ms(r.ttfbUs)}</td>
                      <td title={r.requestID}><code className="small">{r.requestID}</code></td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </ScrollBox>
          <Pager pager={{ ...pager, endCursor: data?.usageRecords.pageInfo.endCursor }} hasNext={!!data?.usageRecords.pageInfo.hasNextPage} total={data?.usageRecords.totalCount ?? 0} exact={data?.usageRecords.totalCountIsExact ?? true} shown={records.length} />
        </>
      )}
    </Page>
  );
}
