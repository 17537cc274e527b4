import { useEffect, useMemo, useRef } from 'react';
import { useSubscription, type RequestPolicy } from 'urql';
import { graphql } from './gql';
import type { PaceLimitFieldsFragment, UsageEventsSubscription } from './gql/graphql';
import { formatDuration, formatInt } from './format';
import { LimitFieldset, setOnly, type LimitFieldsProps } from './limits';
import { Meter } from './ui';
import { PACE_LABEL, paceLevel, TONE } from './status';

/** Pace limits as the API names them, with their form labels. */
export const PACE_FIELDS = [
  ['limitRpm', 'Requests per minute'],
  ['limitTpm', 'Tokens per minute'],
  ['limitConcurrency', 'Requests in flight'],
] as const;

export type PaceName = (typeof PACE_FIELDS)[number][0];
export type Pace = Record<PaceName, number | null>;
export type PaceTexts = Record<PaceName, string>;

const PACE_ORDER = ['rpm', 'tpm', 'concurrency'];

// GraphQL's Int is a signed 32-bit integer.
const MAX_INT = 2 ** 31 - 1;

export const PaceLimitFields = graphql(`
  fragment PaceLimitFields on PaceLimit {
    kind
    limit
    remaining
    resetsInSeconds
  }
`);

export const UsageEvents = graphql(`
  subscription UsageEvents($serviceId: ID, $apiKeyId: ID) {
    usageEvents(serviceId: $serviceId, apiKeyId: $apiKeyId) {
      requestId
      model
      status
      inputTokens
      outputTokens
      cost
      priced
      latencyMs
      at
    }
  }
`);

export function paceTexts(from?: Partial<Record<PaceName, number | null | undefined>> | null): PaceTexts {
  const out = {} as PaceTexts;
  for (const [name] of PACE_FIELDS) out[name] = from?.[name] == null ? '' : String(from[name]);
  return out;
}

/** Parses one pace limit typed in a form: blank is no limit (null); a
 * limit is a whole number above zero. Thousands separators are allowed. */
export function parsePaceLimit(text: string): { value: number | null; error?: string } {
  const t = text.trim().replace(/[,_\s]/g, '');
  if (t === '') return { value: null };
  if (!/^\d+$/.test(t)) return { value: null, error: 'Enter a whole number, e.g. 60, or leave it blank.' };
  const n = Number(t);
  if (n <= 0) return { value: null, error: 'Enter a number above zero, or leave it blank for no limit.' };
  if (n > MAX_INT) return { value: null, error: `Enter at most ${formatInt(MAX_INT)}.` };
  return { value: n };
}

/** Parses the three pace inputs. Errors are keyed by the API's field
 * names, like the server's own. */
export function parsePace(texts: PaceTexts): { pace: Pace; errors: Record<string, string> } {
  const pace = {} as Pace;
  const errors: Record<string, string> = {};
  for (const [name] of PACE_FIELDS) {
    const r = parsePaceLimit(texts[name]);
    pace[name] = r.value;
    if (r.error) errors[name] = r.error;
  }
  return { pace, errors };
}

/** Only the pace limits that are set, for create inputs. */
export function setPace(pace: Pace): Partial<Pace> {
  return setOnly(pace);
}

export function PaceFields(props: LimitFieldsProps<PaceName>) {
  return <LimitFieldset {...props} fields={PACE_FIELDS} format={formatInt} inputMode="numeric" columns={3} />;
}

/** A pace limit's use: what is taken now out of the limit. */
export function paceUse(p: Pick<PaceLimitFieldsFragment, 'limit' | 'remaining'>): number {
  return Math.max(0, p.limit - p.remaining);
}

/** A meter per pace limit in force, in the order rpm, tpm, concurrency;
 * nothing when none is. */
export function PaceMeters({ pace, compact }: { pace: readonly PaceLimitFieldsFragment[]; compact?: boolean }) {
  if (pace.length === 0) return null;
  const shown = [...pace].sort((a, b) => PACE_ORDER.indexOf(a.kind) - PACE_ORDER.indexOf(b.kind));
  return (
    <div className={`gauges pace${compact ? ' compact' : ''}`} data-testid="pace">
      {shown.map((p) => (
        <Meter
          key={p.kind}
          label={PACE_LABEL[p.kind] ?? p.kind}
          value={paceUse(p)}
          max={p.limit}
          tone={TONE[paceLevel(p)]}
          detail={
            <>
              {formatInt(paceUse(p))} of {formatInt(p.limit)}
              {p.resetsInSeconds > 0 && <span className="muted"> · resets in {formatDuration(Math.ceil(p.resetsInSeconds) * 1000)}</span>}
            </>
          }
        />
      ))}
    </div>
  );
}

/** Returns fn wrapped to run at most once per wait: a call inside the
 * wait runs once at its end, further calls there are folded into it. */
export function throttle(fn: () => void, wait: number): (() => void) & { cancel: () => void } {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = () => {
    timer = undefined;
    last = Date.now();
    fn();
  };
  const call = () => {
    if (timer !== undefined) return;
    const due = last + wait - Date.now();
    if (due <= 0) run();
    else timer = setTimeout(run, due);
  };
  call.cancel = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  return call;
}

/** Seconds until the first of these pace windows empties again; null
 * when none is counting down. */
export function nextReset(...paces: (readonly Pick<PaceLimitFieldsFragment, 'resetsInSeconds'>[] | undefined)[]): number | null {
  let next: number | null = null;
  for (const list of paces) for (const p of list ?? []) if (p.resetsInSeconds > 0 && (next == null || p.resetsInSeconds < next)) next = p.resetsInSeconds;
  return next;
}

type Refetch = (opts: { requestPolicy: RequestPolicy }) => void;
type UsageEvent = UsageEventsSubscription['usageEvents'];

/** Re-asks a screen's query from the network when the gateway settles a
 * request (optionally of one service or key), at most once a second, so
 * spend and pace stay live; also once resetsIn seconds have passed (see
 * nextReset). onEvent sees every event. */
export function useUsageRefresh(refetch: Refetch, { serviceId, apiKeyId, onEvent, resetsIn }: { serviceId?: string; apiKeyId?: string; onEvent?: (e: UsageEvent) => void; resetsIn?: number | null } = {}) {
  const latest = useRef({ refetch, onEvent });
  latest.current = { refetch, onEvent };
  const refresh = useMemo(() => throttle(() => latest.current.refetch({ requestPolicy: 'network-only' }), 1000), []);
  useEffect(() => () => refresh.cancel(), [refresh]);
  // A pace window also empties without traffic: ask again when the first does.
  useEffect(() => {
    if (resetsIn == null) return;
    const t = window.setTimeout(refresh, Math.ceil(resetsIn) * 1000 + 250);
    return () => window.clearTimeout(t);
  }, [resetsIn, refresh]);
  useSubscription({ query: UsageEvents, variables: { serviceId, apiKeyId } }, (_prev: unknown, event: UsageEventsSubscription) => {
    latest.current.onEvent?.(event.usageEvents);
    refresh();
    return event;
  });
}
