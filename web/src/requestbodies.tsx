import { useQuery } from 'urql';
import { graphql } from './gql';
import { describeError } from './errors';
import { ErrorNote, Loading } from './ui';
import { useViewer } from './viewer';

const RequestBodiesQuery = graphql(`
  query RequestBodies($id: ID!) {
    requestBodies(usageRecordId: $id) {
      capturedAt
      expiresAt
      request
      response
      requestTruncated
      responseTruncated
    }
  }
`);

/** A body as stored: indented when it is JSON, as sent otherwise (a
 * stream's events stay text). */
export function prettyBody(body: string): string {
  const t = body.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.stringify(JSON.parse(t), null, 2);
    } catch {
      return body;
    }
  }
  return body;
}

/** The captured request and response bodies of a usage record, for
 * admins; members are not shown them. */
export function RequestBodies({ usageRecordId }: { usageRecordId: string }) {
  const viewer = useViewer();
  if (viewer.role !== 'admin') return null;
  return <AdminRequestBodies usageRecordId={usageRecordId} />;
}

function AdminRequestBodies({ usageRecordId }: { usageRecordId: string }) {
  const [{ data, fetching, error }] = useQuery({ query: RequestBodiesQuery, variables: { id: usageRecordId } });
  const b = data?.requestBodies;
  return (
    <section className="request-bodies" aria-label="Bodies" data-testid="request-bodies">
      <h3>Bodies</h3>
      {!data && fetching && <Loading what="Loading the bodies" />}
      <ErrorNote problem={describeError(error)} />
      {data && !b && <p className="muted small">Not captured: the service's body capture was off, did not select this request, or its retention has passed.</p>}
      {b && (
        <>
          <h4>Request{b.requestTruncated && <span className="muted small"> · truncated at the capture cap</span>}</h4>
          <pre className="body" data-testid="request-body">{prettyBody(b.request)}</pre>
          <h4>Response{b.responseTruncated && <span className="muted small"> · truncated at the capture cap</span>}</h4>
          <pre className="body" data-testid="response-body">{prettyBody(b.response)}</pre>
          <p className="muted small">Secrets redacted. Kept until {new Date(b.expiresAt).toLocaleString()}.</p>
        </>
      )}
    </section>
  );
}
