// Money is integer micro-USD, so six decimals always show a value exactly.
const usdCents = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const usdMicros = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 6 });
const int = new Intl.NumberFormat('en-US');

/** An amount spent or held: whole cents from $1 up, below $1 up to six
 * decimals with trailing zeros dropped ($0.50, $0.000123). */
export function formatUSD(v: number | null | undefined): string {
  if (v == null) return '—';
  return Math.abs(v) >= 1 ? usdCents.format(v) : usdMicros.format(v);
}

/** A price or a limit, exactly as stored: every significant digit, at
 * least two decimals ($0.075, $2.50, $1.125). Never rounded. */
export function formatPrice(v: number | null | undefined): string {
  if (v == null) return '—';
  return usdMicros.format(v);
}

export function formatInt(v: number | null | undefined): string {
  return v == null ? '—' : int.format(v);
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** "in 4m 10s" / "3h ago" for a time relative to now. */
export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const ms = new Date(iso).getTime() - now;
  if (Number.isNaN(ms)) return '—';
  const text = formatDuration(Math.abs(ms));
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d`;
}

/** A provider key as the API lets us show it: only its last four. */
export function maskKey(lastFour: string | null | undefined): string {
  return lastFour ? `…${lastFour}` : 'no key';
}

/** Parses a dollar amount typed in a form: empty is null (no limit). */
export function parseUSD(text: string): { value: number | null; error?: string } {
  const t = text.trim().replace(/^\$/, '');
  if (t === '') return { value: null };
  if (!/^\d+(\.\d{1,6})?$/.test(t)) return { value: null, error: 'Enter an amount in dollars, e.g. 25 or 0.50 (up to six decimals).' };
  return { value: Number(t) };
}

export function usdInput(v: number | null | undefined): string {
  return v == null ? '' : String(v);
}

/** A datetime-local input's value for an ISO time, in local time. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(v: string): string | null {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export function percent(part: number, whole: number | null | undefined): number | null {
  if (!whole || whole <= 0) return null;
  return Math.min(100, Math.max(0, (part / whole) * 100));
}

/** A latency in milliseconds: "840 ms", "12.3 s"; "—" when unknown. */
export function formatMs(ms: number | null | undefined): string {
  if (ms == null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
