import { useEffect, useState } from 'react';
import { graphql } from './gql';
import type { ProviderUsageFieldsFragment } from './gql/graphql';
import { formatDuration, formatInt, formatTime } from './format';
import { Badge, Meter } from './ui';

export const ProviderUsageFields = graphql(`
  fragment ProviderUsageFields on ProviderUsage {
    provider
    accountKey
    checkedAt
    reachable
    error
    source
    sampleLatencyMs
    models
    rateLimitHeaders
    tokens { limit remaining used pctUsed resetAt resetInMs }
    inputTokens { limit remaining used pctUsed resetAt resetInMs }
    outputTokens { limit remaining used pctUsed resetAt resetInMs }
    requests { limit remaining resetAt resetInMs }
  }
`);

export const TestCredentialMutation = graphql(`
  mutation TestProviderCredential($input: TestProviderCredentialInput!) {
    testProviderCredential(input: $input) {
      ...ProviderUsageFields
    }
  }
`);

/** Ticks every second so reset countdowns count down. */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(t);
  }, []);
  return now;
}

function resetText(resetAt: string | null | undefined, now: number): string | null {
  if (!resetAt) return null;
  const ms = new Date(resetAt).getTime() - now;
  return ms <= 0 ? 'reset' : `resets in ${formatDuration(ms)}`;
}

type Window = { limit?: number | null; remaining?: number | null; resetAt?: string | null };

function WindowMeter({ label, w, now }: { label: string; w: Window; now: number }) {
  if (w.limit == null && w.remaining == null) return null;
  const used = w.limit != null && w.remaining != null ? w.limit - w.remaining : null;
  const reset = resetText(w.resetAt, now);
  return (
    <Meter
      label={label}
      value={used}
      max={w.limit ?? null}
      detail={
        <>
          {formatInt(w.remaining)} of {formatInt(w.limit)} left{reset && <span className="muted"> · {reset}</span>}
        </>
      }
    />
  );
}

/** A provider account's rate limits as its headers told them; nothing is
 * invented where the provider says nothing. */
export function ProviderUsageView({ usage }: { usage: ProviderUsageFieldsFragment }) {
  const now = useNow();
  const windows: [string, Window][] = [
    ['Requests', usage.requests],
    ['Tokens', usage.tokens],
    ['Input tokens', usage.inputTokens],
    ['Output tokens', usage.outputTokens],
  ];
  const any = windows.some(([, w]) => w.limit != null || w.remaining != null);
  return (
    <div className="usage-view" data-testid="provider-usage">
      <p>
        {usage.reachable ? <Badge tone="ok">reachable</Badge> : <Badge tone="bad">unreachable</Badge>}{' '}
        <span className="muted small">
          {usage.source === 'TRAFFIC' ? 'from recent traffic' : 'checked'} {formatTime(usage.checkedAt)}
          {usage.sampleLatencyMs != null && <> · {usage.sampleLatencyMs} ms</>}
        </span>
      </p>
      {usage.error && <p className="field-error">{usage.error}</p>}
      {any ? windows.map(([label, w]) => <WindowMeter key={label} label={label} w={w} now={now} />) : usage.reachable && <p className="muted">The provider sent no rate-limit headers.</p>}
      {usage.models.length > 0 && (
        <details>
          <summary>{usage.models.length} models available to this account</summary>
          <p className="small">{usage.models.join(', ')}</p>
        </details>
      )}
    </div>
  );
}
