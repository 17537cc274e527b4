import { useEffect, useState } from 'react';
import { useQuery, useSubscription } from 'urql';
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

const ProviderUsageQuery = graphql(`
  query ProviderUsage($id: ID!, $refresh: Boolean!) {
    providerUsage(credentialId: $id, refresh: $refresh) {
      ...ProviderUsageFields
    }
  }
`);

const ProviderUsageChanged = graphql(`
  subscription ProviderUsageChanged($id: ID!) {
    providerUsageChanged(credentialId: $id) {
      ...ProviderUsageFields
    }
  }
`);

/** A credential's provider windows, live: asked once (the gateway caches
 * the answer for a minute; refresh asks the provider again), then replaced
 * by every change the gateway pushes as traffic or a probe reads new
 * rate-limit headers, whichever was checked last. */
export function useProviderUsage(credentialId: string, refresh = false) {
  const [asked, ask] = useQuery({ query: ProviderUsageQuery, variables: { id: credentialId, refresh } });
  const [pushed] = useSubscription({ query: ProviderUsageChanged, variables: { id: credentialId } });
  const a = asked.data?.providerUsage;
  const p = pushed.data?.providerUsageChanged;
  const usage = p && (!a || Date.parse(p.checkedAt) >= Date.parse(a.checkedAt)) ? p : a;
  return { usage, fetching: asked.fetching, error: asked.error, ask };
}

/** Ticks every second so reset countdowns count down. */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(t);
  }, []);
  return now;
}

type Window = { limit?: number | null; remaining?: number | null; resetAt?: string | null };

/** Whether the window's reset has passed: its remaining count is then the
 * old window's, and the provider's next answer tells the new one. */
function hasReset(w: Window, now: number): boolean {
  return w.resetAt != null && Date.parse(w.resetAt) <= now;
}

/** A window in words: what is left and when it resets, or that it has
 * reset with no answer since (never a stale count). */
export function windowText(w: Window, now: number): string | null {
  if (w.limit == null && w.remaining == null) return null;
  if (hasReset(w, now)) return `${formatInt(w.limit)} a window · reset ${formatTime(w.resetAt)}, no answer since`;
  const left = `${formatInt(w.remaining)} of ${formatInt(w.limit)} left`;
  if (!w.resetAt) return left;
  const ms = Date.parse(w.resetAt) - now;
  return `${left} · resets in ${ms < 1000 ? 'under a second' : formatDuration(ms)}`;
}

function WindowMeter({ label, w, now }: { label: string; w: Window; now: number }) {
  const text = windowText(w, now);
  if (text == null) return null;
  const used = w.limit != null && w.remaining != null && !hasReset(w, now) ? w.limit - w.remaining : null;
  return <Meter label={label} value={used} max={w.limit ?? null} detail={text} />;
}

/** A credential's request and token windows in two lines, live, for a
 * table cell. */
export function ProviderWindows({ credentialId }: { credentialId: string }) {
  const now = useNow();
  const { usage, fetching } = useProviderUsage(credentialId);
  if (!usage) return <span className="muted small">{fetching ? 'asking…' : '—'}</span>;
  if (!usage.reachable) return <Badge tone="bad">unreachable</Badge>;
  const lines = [
    ['Requests', windowText(usage.requests, now)],
    ['Tokens', windowText(usage.tokens, now) ?? windowText(usage.inputTokens, now)],
  ].filter(([, t]) => t != null);
  if (lines.length === 0) return <span className="muted small">no rate-limit headers</span>;
  return (
    <div className="small" data-testid="provider-windows">
      {lines.map(([label, t]) => (
        <div key={label}>
          <span className="muted">{label}:</span> {t}
        </div>
      ))}
    </div>
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
