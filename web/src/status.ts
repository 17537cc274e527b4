import type { PaceLimitFieldsFragment, SpendFieldsFragment } from './gql/graphql';
import { formatInt, formatPrice, formatUSD } from './format';

export const WINDOW_LABEL: Record<string, string> = { hour: 'This hour', day: 'Today', month: 'This month', total: 'All time' };
export const PACE_LABEL: Record<string, string> = { rpm: 'Requests per minute', tpm: 'Tokens per minute', concurrency: 'Requests in flight' };

/** How close a key, service or organization is to its limits. */
export type Level = 'ok' | 'warned' | 'blocked';

export const TONE: Record<Level, 'ok' | 'warn' | 'bad'> = { ok: 'ok', warned: 'warn', blocked: 'bad' };

const RANK: Record<Level, number> = { ok: 0, warned: 1, blocked: 2 };

type SpendLike = Pick<SpendFieldsFragment, 'spent' | 'reserved' | 'warn' | 'block'>;
type PaceLike = Pick<PaceLimitFieldsFragment, 'limit' | 'remaining'>;

/** A spend window's level. The gateway refuses a request whose worst-case
 * cost does not fit under the block beside the settled and the reserved
 * (in-flight) spend, so the window is blocked once settled plus reserved
 * spend reaches the block, before settled spend alone does. It is warned
 * once settled spend reaches the warn limit, as the gateway's warnings
 * and alerts count it. */
export function spendLevel(s: SpendLike): Level {
  if (s.block != null && micros(s.spent) + micros(s.reserved) >= micros(s.block)) return 'blocked';
  if (s.warn != null && micros(s.spent) >= micros(s.warn)) return 'warned';
  return 'ok';
}

/** Dollars as the integer micro-USD the gateway compares, so that a sum
 * of floats at a limit lands where the gateway's does. */
function micros(usd: number): number {
  return Math.round(usd * 1e6);
}

/** Share of a pace limit in use from which it is warned. */
export const PACE_WARN_SHARE = 0.8;

/** A pace limit's level: blocked when nothing more is admitted now (the
 * next request is refused until the window moves on or one finishes),
 * warned from PACE_WARN_SHARE of the limit in use. */
export function paceLevel(p: PaceLike): Level {
  if (p.remaining <= 0) return 'blocked';
  if (p.limit - p.remaining >= p.limit * PACE_WARN_SHARE) return 'warned';
  return 'ok';
}

export interface Standing {
  level: Level;
  /** What makes the level, worst first, e.g. "Today: $0.75 of $0.50 block". */
  reasons: string[];
}

/** The worst level of a subject's spend windows and pace limits, with
 * the windows and limits at that level. */
export function standing(spend: readonly (SpendLike & { window: string })[] = [], pace: readonly (PaceLike & { kind: string })[] = []): Standing {
  let level: Level = 'ok';
  let reasons: string[] = [];
  const note = (l: Level, reason: string) => {
    if (l === 'ok' || RANK[l] < RANK[level]) return;
    if (RANK[l] > RANK[level]) reasons = [];
    level = l;
    reasons.push(reason);
  };
  for (const s of spend) {
    const l = spendLevel(s);
    const held = s.reserved > 0 ? ` (${formatUSD(s.reserved)} of it in flight)` : '';
    const label = WINDOW_LABEL[s.window] ?? s.window;
    if (l === 'blocked') note(l, `${label}: ${formatPrice(s.spent + s.reserved)}${held} of ${formatPrice(s.block)} block`);
    else if (l === 'warned') note(l, `${label}: ${formatPrice(s.spent)} past ${formatPrice(s.warn)} warn`);
  }
  for (const p of pace) {
    const l = paceLevel(p);
    note(l, `${PACE_LABEL[p.kind] ?? p.kind}: ${formatInt(Math.max(0, p.limit - p.remaining))} of ${formatInt(p.limit)}`);
  }
  return { level, reasons };
}

/** What a badge says of a key, service or organization. */
export interface Status {
  tone: 'ok' | 'warn' | 'bad';
  text: string;
  reasons: string[];
}

/** off (disabled, expired) when the subject itself is switched off, else
 * blocked or warned by its limits, else active. */
export function subjectStatus(off: string | null, spend?: Parameters<typeof standing>[0], pace?: Parameters<typeof standing>[1]): Status {
  return statusOf(off, standing(spend, pace));
}

export function statusOf(off: string | null, s: Standing): Status {
  if (off) return { tone: 'warn', text: off, reasons: [] };
  return { tone: TONE[s.level], text: s.level === 'ok' ? 'active' : s.level, reasons: s.reasons };
}

/** A key's standing with its service's: a key is refused when its
 * service is, so the worse of the two counts; the service's reasons are
 * named as the service's. */
export function withService(key: Standing, service: Standing | null, serviceName: string): Standing {
  if (!service || RANK[service.level] < RANK[key.level] || service.level === 'ok') return key;
  const named = service.reasons.map((r) => `service ${serviceName}: ${r}`);
  if (RANK[service.level] > RANK[key.level]) return { level: service.level, reasons: named };
  return { level: key.level, reasons: [...key.reasons, ...named] };
}
