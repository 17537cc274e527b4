import { useMemo, useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import type { UsageRecordWhereInput } from '../gql/graphql';
import { nodes } from '../connection';
import { describeError } from '../errors';
import { formatInt, formatTime, formatUSD, fromLocalInput } from '../format';
import { Pager, usePager } from '../pager';
import { Badge, CopyButton, Dialog, Empty, ErrorNote, Loading, Page, ScrollBox, SelectField, TextField } from '../ui';
import { TraceIDFact } from '../traceid';
import { downloadUsageCSV } from '../usageexport';
import { RequestBodies } from '../requestbodies';

export const UsageRecordFields = graphql(`
  fragment UsageRecordFields on UsageRecord {
    id
    createdAt
    requestID
    traceID
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
`);

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
          ...UsageRecordFields
        }
      }
    }
  }
`);

const UsageRecordDetail = graphql(`
  query UsageRecordDetail($id: ID!) {
    usageRecords(first: 1, where: { id: $id }) {
      edges {
        node {
          ...UsageRecordFields
          credentialID
          cacheWrite1hTokens
          attempts {
            targetID
            credentialID
            status
            latencyMs
            error
          }
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
  const [open, setOpen] = useState<string | null>(null);
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
                    <tr key={r.id} className="clickable" onClick={(e) => { if (!(e.target as HTMLElement).closest('button, a, .reason')) setOpen(r.id); }}>
                      <td>
                        <button type="button" className="link" onClick={() => setOpen(r.id)}>{formatTime(r.createdAt)}<span className="sr-only">: details of request {r.requestID}</span></button>
                      </td>
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
          {open && <RecordDetail id={open} serviceName={serviceName} keyName={keyName} onClose={() => setOpen(null)} />}
          <Pager pager={{ ...pager, endCursor: data?.usageRecords.pageInfo.endCursor }} hasNext={!!data?.usageRecords.pageInfo.hasNextPage} total={data?.usageRecords.totalCount ?? 0} exact={data?.usageRecords.totalCountIsExact ?? true} shown={records.length} />
        </>
      )}
    </Page>
  );
}

/** Everything a usage record holds, with its upstream attempts and its
 * error in full. */
function RecordDetail({ id, serviceName, keyName, onClose }: { id: string; serviceName: Map<number, string>; keyName: Map<number, string>; onClose: () => void }) {
  const [{ data, fetching, error }] = useQuery({ query: UsageRecordDetail, variables: { id } });
  const r = nodes(data?.usageRecords)[0];
  const translated = !!r?.providerProtocol && r.providerProtocol !== r.protocol;
  return (
    <Dialog title={r ? `Request ${r.requestID}` : 'Request'} open onClose={onClose} wide>
      {!data && fetching && <Loading what="Loading the request" />}
      <ErrorNote problem={describeError(error)} />
      {data && !r && <p>This record is no longer kept (raw records are pruned after the retention period).</p>}
      {r && (
        <div className="record-detail" data-testid="record-detail">
          {r.error && (
            <div className="record-error" role="group" aria-label="Error">
              <h3>{r.status >= 400 && !r.providerProtocol ? 'Refused by the gateway' : 'Error'} <Badge tone="bad">{r.status}</Badge></h3>
              <pre>{r.error}</pre>
            </div>
          )}
          <dl className="facts">
            <dt>Time</dt><dd>{formatTime(r.createdAt)} <span className="muted small">{r.createdAt}</span></dd>
            <dt>Request ID</dt><dd><code>{r.requestID}</code> <CopyButton text={r.requestID} /></dd>
            <TraceIDFact traceID={r.traceID} />
            <dt>Status</dt><dd><Badge tone={r.status >= 400 ? 'bad' : 'ok'}>{r.status}</Badge>{r.status >= 400 && !r.providerProtocol && <span className="muted small"> answered by the gateway; no upstream was called</span>}</dd>
            <dt>Service</dt><dd>{serviceName.get(r.serviceID) ?? r.serviceID}</dd>
            <dt>API key</dt><dd>{keyName.get(r.apiKeyID) ?? r.apiKeyID}</dd>
            <dt>Credential</dt><dd>{r.credentialID ?? '—'}</dd>
            <dt>Model</dt><dd>{r.model}</dd>
            <dt>Endpoint</dt><dd><code>{r.endpoint}</code></dd>
            <dt>Protocol</dt><dd>{r.protocol}</dd>
            <dt>Translated to</dt><dd>{translated ? r.providerProtocol : r.providerProtocol ? 'not translated' : 'no upstream called'}</dd>
            <dt>Streamed</dt><dd>{r.streamed ? 'yes' : 'no'}{r.partial ? ' · partial: the stream ended before its usage was reported; tokens are estimated' : ''}</dd>
            <dt>Latency</dt><dd>{ms(r.latencyUs)}</dd>
            <dt>First byte</dt><dd>{ms(r.ttfbUs)}</dd>
            <dt>Input tokens</dt><dd>{formatInt(r.inputTokens)}</dd>
            <dt>Cached input</dt><dd>{formatInt(r.cachedInputTokens)}</dd>
            <dt>Written to cache</dt><dd>{formatInt(r.cacheWriteTokens ?? 0)}{(r.cacheWrite1hTokens ?? 0) > 0 && <> · {formatInt(r.cacheWrite1hTokens)} for one hour</>}</dd>
            <dt>Output tokens</dt><dd>{formatInt(r.outputTokens)}</dd>
            <dt>Cost</dt><dd>{r.priced ? formatUSD(r.cost) : 'unpriced: the model has no price, so the cost is unknown, not zero'}</dd>
          </dl>
          <h3>Upstream attempts</h3>
          {r.attempts.length === 0 ? (
            <p className="muted small">{r.providerProtocol ? 'One upstream call (the service has a single credential).' : 'None: the gateway answered without calling an upstream.'}</p>
          ) : (
            <table>
              <thead>
                <tr><th>#</th><th>Target</th><th>Credential</th><th>Status</th><th className="num">Latency</th><th>Error</th></tr>
              </thead>
              <tbody>
                {r.attempts.map((a, i) => (
                  <tr key={i}>
                    <td>{i + 1}</td><td>{a.targetID}</td><td>{a.credentialID}</td>
                    <td><Badge tone={a.status >= 400 || a.status === 0 ? 'bad' : 'ok'}>{a.status || 'no answer'}</Badge></td>
                    <td className="num">{formatInt(a.latencyMs)} ms</td>
                    <td>{a.error ? <pre className="small">{a.error}</pre> : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <RequestBodies usageRecordId={r.id} />
        </div>
      )}
    </Dialog>
  );
}
