import { CopyButton } from './ui';

/** A request's W3C trace id as a fact of its record, with a button that
 * copies it for a search in the tracing backend. */
export function TraceIDFact({ traceID }: { traceID?: string | null }) {
  return (
    <>
      <dt>Trace ID</dt>
      <dd>
        {traceID ? (
          <>
            <code data-testid="trace-id">{traceID}</code> <CopyButton text={traceID} label="Copy trace ID" />
          </>
        ) : (
          <span className="muted small">none: the gateway was not tracing and the client sent no traceparent</span>
        )}
      </dd>
    </>
  );
}
