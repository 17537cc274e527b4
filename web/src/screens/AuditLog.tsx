import { useMemo, useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import type { AuditEventWhereInput } from '../gql/graphql';
import { nodes } from '../connection';
import { describeError } from '../errors';
import { formatTime } from '../format';
import { Pager, usePager } from '../pager';
import { Badge, Empty, ErrorNote, Loading, Page, ScrollBox, SelectField, TextField } from '../ui';

const AuditQuery = graphql(`
  query AuditLog($after: Cursor, $where: AuditEventWhereInput) {
    auditEvents(first: 50, after: $after, where: $where, orderBy: { field: CREATED_AT, direction: DESC }) {
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
          actorType
          actorName
          action
          targetType
          targetName
          outcome
          error
          clientIP
          changes {
            field
            value
          }
        }
      }
    }
  }
`);

export function AuditLog() {
  const [text, setText] = useState('');
  const [outcome, setOutcome] = useState('');
  const pager = usePager();
  const where = useMemo(() => {
    const w: AuditEventWhereInput = {};
    const t = text.trim();
    if (t) w.or = [{ actionContainsFold: t }, { actorNameContainsFold: t }, { targetNameContainsFold: t }];
    if (outcome) w.outcome = outcome as AuditEventWhereInput['outcome'];
    return w;
  }, [text, outcome]);
  const [{ data, fetching, error }] = useQuery({ query: AuditQuery, variables: { after: pager.after, where } });
  const events = nodes(data?.auditEvents);
  return (
    <Page title="Audit log" intro="Every change made through the admin API, by whom and from where. Secret values are never recorded.">
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <TextField label="Search" type="search" value={text} onChange={(e) => { pager.reset(); setText(e.target.value); }} placeholder="action, actor or target" />
        <SelectField label="Outcome" value={outcome} onChange={(e) => { pager.reset(); setOutcome(e.target.value); }}>
          <option value="">Any</option>
          <option value="success">Success</option>
          <option value="denied">Denied</option>
          <option value="error">Error</option>
        </SelectField>
      </form>
      {!data && fetching && <Loading what="Loading the audit log" />}
      <ErrorNote problem={describeError(error)} />
      {data && events.length === 0 && <Empty title="Nothing recorded">{text || outcome ? 'No events match the filters.' : 'Changes made through the admin API appear here.'}</Empty>}
      {events.length > 0 && (
        <>
          <ScrollBox label="Audit events">
            <table>
              <thead>
                <tr><th>Time</th><th>Actor</th><th>Action</th><th>Target</th><th>Outcome</th><th>Changes</th></tr>
              </thead>
              <tbody>
                {events.map((e) => (
                  <tr key={e.id}>
                    <td className="nowrap">{formatTime(e.createdAt)}</td>
                    <td>{e.actorName || e.actorType}<div className="muted small">{e.actorType.replace('_', ' ')}{e.clientIP && ` · ${e.clientIP}`}</div></td>
                    <td><code>{e.action}</code></td>
                    <td>{e.targetName || '—'}<div className="muted small">{e.targetType}</div></td>
                    <td><Badge tone={e.outcome === 'success' ? 'ok' : e.outcome === 'denied' ? 'warn' : 'bad'}>{e.outcome}</Badge>{e.error && <div className="small field-error">{e.error}</div>}</td>
                    <td className="small">{e.changes.length ? e.changes.map((c) => <div key={c.field}><span className="muted">{c.field}:</span> {c.value}</div>) : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollBox>
          <Pager pager={{ ...pager, endCursor: data?.auditEvents.pageInfo.endCursor }} hasNext={!!data?.auditEvents.pageInfo.hasNextPage} total={data?.auditEvents.totalCount ?? 0} exact={data?.auditEvents.totalCountIsExact ?? true} shown={events.length} />
        </>
      )}
    </Page>
  );
}
