// Pure logic of a service's routing targets: the model-map
// editor's rows, reordering and what a target's live state reads as.
import { formatDuration, formatTime } from './format';

/** One client → upstream model-name pair as the editor shows it. */
export interface MapRow {
  client: string;
  upstream: string;
}

/** The editor's rows for a target's model map, sorted by client name;
 * non-string values (which the API never returns) are left out. */
export function modelMapRows(map: Record<string, unknown> | null | undefined): MapRow[] {
  return Object.entries(map ?? {})
    .filter((e): e is [string, string] => typeof e[1] === 'string')
    .map(([client, upstream]) => ({ client, upstream }))
    .sort((a, b) => a.client.localeCompare(b.client));
}

/** The map the API takes from the editor's rows, or an error per row
 * (keyed by row index). Fully blank rows are ignored; names are trimmed. */
export function parseModelMap(rows: MapRow[]): { map: Record<string, string>; errors: Record<number, string> } {
  const map: Record<string, string> = {};
  const errors: Record<number, string> = {};
  rows.forEach((row, i) => {
    const client = row.client.trim();
    const upstream = row.upstream.trim();
    if (!client && !upstream) return;
    if (!client || !upstream) {
      errors[i] = 'Enter both model names, or remove the row.';
    } else if (/\s/.test(client) || /\s/.test(upstream)) {
      errors[i] = 'Model names have no spaces.';
    } else if (client in map) {
      errors[i] = `${client} is mapped twice.`;
    } else {
      map[client] = upstream;
    }
  });
  return { map, errors };
}

/** The target IDs with one moved up (-1) or down (+1); null when it cannot move. */
export function moveTarget(ids: readonly string[], id: string, delta: -1 | 1): string[] | null {
  const from = ids.indexOf(id);
  const to = from + delta;
  if (from < 0 || to < 0 || to >= ids.length) return null;
  const out = [...ids];
  [out[from], out[to]] = [out[to], out[from]];
  return out;
}

/** A weight typed in the table: a whole number from 1 (the API's bounds). */
export function parseWeight(text: string): { value: number | null; error?: string } {
  const t = text.trim();
  if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > 1_000_000) return { value: null, error: 'Enter a whole number from 1 to 1000000; disable the target to stop its traffic.' };
  return { value: Number(t) };
}

export interface TargetStateInput {
  enabled: boolean;
  state: { healthy: boolean; coolingDownUntil?: string | null; lastError?: string | null; consecutiveFailures: number };
}

/** What a target's state reads as at `now`: a badge and a detail line. */
export function targetStatus(t: TargetStateInput, now = Date.now()): { tone: 'ok' | 'warn' | 'bad' | 'neutral'; label: string; detail: string | null } {
  const failures = t.state.consecutiveFailures > 0 ? `${t.state.consecutiveFailures} failure${t.state.consecutiveFailures === 1 ? '' : 's'} in a row` : null;
  if (!t.enabled) return { tone: 'neutral', label: 'disabled', detail: 'Gets no traffic.' };
  if (t.state.healthy) return { tone: 'ok', label: 'healthy', detail: null };
  const until = t.state.coolingDownUntil ? new Date(t.state.coolingDownUntil).getTime() : NaN;
  if (!Number.isNaN(until) && until > now) {
    return { tone: 'warn', label: 'cooling down', detail: [`until ${formatTime(t.state.coolingDownUntil)} (${formatDuration(until - now)} left)`, failures].filter(Boolean).join(' · ') };
  }
  if (!Number.isNaN(until)) return { tone: 'warn', label: 'probing', detail: ['The next request tries it again.', failures].filter(Boolean).join(' · ') };
  return { tone: 'bad', label: 'unhealthy', detail: failures };
}
