import { useEffect, useId, useRef, useState, type ReactNode, type InputHTMLAttributes, type SelectHTMLAttributes } from 'react';
import { flushSync } from 'react-dom';
import type { Problem } from './errors';
import { percent, formatPrice, formatUSD } from './format';
import { spendLevel, TONE, type Status } from './status';

export function Page({ title, actions, children, intro }: { title: string; actions?: ReactNode; intro?: ReactNode; children: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Sluice`;
  }, [title]);
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-head">
        <div>
          <h1 id="page-title">{title}</h1>
          {intro && <p className="muted">{intro}</p>}
        </div>
        {actions && <div className="actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {what}…
    </p>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <h2>{title}</h2>
      {children && <div className="muted">{children}</div>}
    </div>
  );
}

export function ErrorNote({ problem, children }: { problem?: Problem | null; children?: ReactNode }) {
  const text = children ?? problem?.message;
  if (!text) return null;
  return (
    <div className="error-note" role="alert">
      {text}
    </div>
  );
}

type FieldProps = { label: string; error?: string; hint?: ReactNode };

export function TextField({ label, error, hint, ...input }: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <div className={`field${error ? ' has-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-invalid={!!error} aria-describedby={error ? `${id}-err` : hint ? `${id}-hint` : undefined} {...input} />
      {hint && !error && <small id={`${id}-hint`} className="hint">{hint}</small>}
      {error && <small id={`${id}-err`} className="field-error">{error}</small>}
    </div>
  );
}

export function SelectField({ label, error, hint, children, ...select }: FieldProps & SelectHTMLAttributes<HTMLSelectElement>) {
  const id = useId();
  return (
    <div className={`field${error ? ' has-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <select id={id} aria-invalid={!!error} aria-describedby={error ? `${id}-err` : hint ? `${id}-hint` : undefined} {...select}>
        {children}
      </select>
      {hint && !error && <small id={`${id}-hint`} className="hint">{hint}</small>}
      {error && <small id={`${id}-err`} className="field-error">{error}</small>}
    </div>
  );
}

export function CheckField({ label, checked, onChange, hint }: { label: string; checked: boolean; onChange: (v: boolean) => void; hint?: ReactNode }) {
  return (
    <div className="field check">
      <label>
        <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} /> {label}
      </label>
      {hint && <small className="hint">{hint}</small>}
    </div>
  );
}

/**
 * A table's own scroll box, so that a wide table scrolls inside it and never
 * widens the page. It is a labelled region and, while it scrolls, a tab stop,
 * so keyboard users can scroll it too.
 */
export function ScrollBox({ label, className, children }: { label: string; className?: string; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrolls, setScrolls] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const measure = () => setScrolls(el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1);
    const watch = new ResizeObserver(measure);
    watch.observe(el);
    if (el.firstElementChild) watch.observe(el.firstElementChild);
    measure();
    return () => watch.disconnect();
  }, []);
  return (
    <div ref={ref} className={`table-wrap${className ? ` ${className}` : ''}`} role="region" aria-label={label} tabIndex={scrolls ? 0 : undefined}>
      {children}
    </div>
  );
}

/** The first form field of a dialog's body, where typing starts. */
const FIRST_FIELD = 'input:not([type="hidden"]):not(:disabled), select:not(:disabled), textarea:not(:disabled)';

/** Focuses the element that opened a dialog, if it is still on the page. */
function refocus(opener: { current: Element | null }) {
  const back = opener.current;
  opener.current = null;
  if (back instanceof HTMLElement && back.isConnected) back.focus();
}

/**
 * A modal dialog on the native <dialog>: focus stays inside, Escape closes.
 * It opens with focus on its first field, or on its heading when it has
 * none, and gives focus back to what opened it when it closes.
 */
export function Dialog({ title, open, onClose, children, wide }: { title: string; open: boolean; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<Element | null>(null);
  const headingId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      opener.current = document.activeElement;
      d.showModal();
      const first = d.querySelector<HTMLElement>(FIRST_FIELD) ?? d.querySelector<HTMLElement>('h2');
      first?.focus();
    }
    if (!open && d.open) {
      d.close();
      refocus(opener);
    }
  }, [open]);
  // A dialog that closes by being removed gives focus back too.
  useEffect(() => () => refocus(opener), []);
  return (
    <dialog ref={ref} className={wide ? 'wide' : undefined} aria-labelledby={headingId} onCancel={(e) => { if (e.target !== e.currentTarget) return; e.preventDefault(); onClose(); }}>
      {open && (
        <>
          <header className="dialog-head">
            <h2 id={headingId} tabIndex={-1}>{title}</h2>
            <button type="button" className="icon" aria-label="Close" onClick={onClose}>×</button>
          </header>
          {children}
        </>
      )}
    </dialog>
  );
}

/** Shows a form's problem where the user looks: scrolls to the first
 * field error in root (focusing its field), else to the form's error
 * note, next to its submit button. Call after the problem rendered. */
export function revealProblem(root: Element | null) {
  if (!root) return;
  const marked = root.querySelector<HTMLElement>('[aria-invalid="true"], .field-error');
  if (marked) {
    if (marked.matches('[aria-invalid="true"]')) marked.focus({ preventScroll: true });
    marked.scrollIntoView({ block: 'center' });
    return;
  }
  root.querySelector('.error-note')?.scrollIntoView({ block: 'nearest' });
}

/** Sets a form's problem, renders it at once and reveals it in root. */
export function showProblem(set: (p: Problem) => void, p: Problem, root: Element | null) {
  flushSync(() => set(p));
  revealProblem(root);
}

/** Asks before something that cannot be undone. */
export function Confirm({ open, title, children, confirmLabel, busy, problem, onConfirm, onClose }: {
  open: boolean; title: string; children: ReactNode; confirmLabel: string; busy?: boolean; problem?: Problem | null;
  onConfirm: () => void; onClose: () => void;
}) {
  return (
    <Dialog title={title} open={open} onClose={onClose}>
      <div className="dialog-body">{children}</div>
      <ErrorNote problem={problem} />
      <footer className="dialog-foot">
        <button type="button" onClick={onClose}>Cancel</button>
        <button type="button" className="danger" disabled={busy} onClick={onConfirm}>
          {busy ? 'Working…' : confirmLabel}
        </button>
      </footer>
    </Dialog>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
    window.setTimeout(() => setState('idle'), 2500);
  }
  return (
    <button type="button" onClick={copy} aria-live="polite">
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Select and copy it' : label}
    </button>
  );
}

/** A secret shown once: a newly created or rotated client key, by
 * default, or what names it (an invitation link). */
export function SecretReveal({ secret, onDone, children, what = 'key' }: { secret: string; onDone: () => void; children?: ReactNode; what?: string }) {
  return (
    <div className="secret">
      <p className="warn-text"><strong>Copy this {what} now: you will not see it again.</strong> Sluice keeps only its hash.</p>
      <div className="secret-row">
        <code data-testid="new-key" tabIndex={0}>{secret}</code>
        <CopyButton text={secret} />
      </div>
      {children}
      <footer className="dialog-foot">
        <button type="button" className="primary" onClick={onDone}>I have copied it</button>
      </footer>
    </div>
  );
}

export function Badge({ tone = 'neutral', children }: { tone?: 'ok' | 'warn' | 'bad' | 'neutral'; children: ReactNode }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}

/** Spend in a window against its warn and block marks: settled spend,
 * and beside it the reserved (in-flight) spend the gateway also counts
 * against the block. Red once the two reach the block: from there every
 * request is refused. */
export function SpendGauge({ label, spent, reserved = 0, warn, block }: { label: string; spent: number; reserved?: number; warn?: number | null; block?: number | null }) {
  const scale = block ?? warn ?? null;
  const fill = percent(spent, scale);
  const held = percent(spent + reserved, scale);
  const level = spendLevel({ spent, reserved, warn: warn ?? null, block: block ?? null });
  const tone = TONE[level];
  const warnAt = warn != null && scale ? percent(warn, scale) : null;
  const inFlight = reserved > 0 ? ` + ${formatUSD(reserved)} in flight` : '';
  return (
    <div className="gauge" role="group" aria-label={`${label} spend`} data-level={level}>
      <div className="gauge-label">
        <span>{label}</span>
        <span>
          <strong>{formatUSD(spent)}</strong>
          {inFlight && <span className="muted">{inFlight}</span>}
          {block != null ? <> of {formatPrice(block)}</> : warn != null ? <> (warn at {formatPrice(warn)})</> : <span className="muted"> · no limit</span>}
          {level === 'blocked' && <strong className="bad-text"> · refusing</strong>}
        </span>
      </div>
      {scale != null && fill != null && (
        <div className="gauge-track" role="meter" aria-label={`${label} spend`} aria-valuemin={0} aria-valuemax={scale} aria-valuenow={Math.min(spent + reserved, scale)}
          aria-valuetext={`${formatUSD(spent)} settled${inFlight} of ${formatPrice(scale)}`}>
          {held != null && held > fill && <div className={`gauge-fill held ${tone}`} ref={(el) => el?.style.setProperty('width', `${held}%`)} />}
          <div className={`gauge-fill ${tone}`} ref={(el) => el?.style.setProperty('width', `${fill}%`)} />
          {warnAt != null && block != null && <div className="gauge-mark" title={`warn at ${formatPrice(warn)}`} ref={(el) => el?.style.setProperty('left', `${warnAt}%`)} />}
        </div>
      )}
    </div>
  );
}

/** A key's, service's or organization's badge, with the limits that
 * make it warned or blocked beside it (brief: in its tooltip only). */
export function StatusBadge({ status, brief }: { status: Status; brief?: boolean }) {
  const why = status.reasons.join('; ');
  return (
    <span className="standing" data-testid="status" title={why || undefined}>
      <Badge tone={status.tone}>{status.text}</Badge>
      {!brief && why && <span className="muted small"> {why}</span>}
    </span>
  );
}

/** A meter for a provider rate limit: used share, remaining and reset. */
export function Meter({ label, value, max, detail, tone: given }: { label: string; value: number | null; max: number | null; detail?: ReactNode; tone?: 'ok' | 'warn' | 'bad' }) {
  const fill = value != null ? percent(value, max) : null;
  const tone = given ?? (fill == null ? 'ok' : fill >= 90 ? 'bad' : fill >= 70 ? 'warn' : 'ok');
  return (
    <div className="gauge">
      <div className="gauge-label">
        <span>{label}</span>
        <span>{detail}</span>
      </div>
      {fill != null && (
        <div className="gauge-track" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={max ?? 0} aria-valuenow={value ?? 0}>
          <div className={`gauge-fill ${tone}`} ref={(el) => el?.style.setProperty('width', `${fill}%`)} />
        </div>
      )}
    </div>
  );
}
