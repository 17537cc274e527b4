import { useId } from 'react';
import type { BodyCaptureInput, BodyCaptureMode } from './gql/graphql';
import { SelectField, TextField } from './ui';

/** A service's body capture as the API returns it. */
export interface BodyCaptureSetting {
  mode: BodyCaptureMode;
  samplePercent: number;
  maxBytes: number;
  retentionDays: number;
  redact: string[];
}

/** The capture form's texts. */
export interface CaptureTexts {
  mode: BodyCaptureMode;
  samplePercent: string;
  maxBytes: string;
  retentionDays: string;
  redact: string;
}

export function captureTexts(s?: BodyCaptureSetting | null): CaptureTexts {
  return {
    mode: s?.mode ?? ('OFF' as BodyCaptureMode),
    samplePercent: String(s?.samplePercent ?? 0),
    maxBytes: String(s?.maxBytes ?? 65536),
    retentionDays: String(s?.retentionDays ?? 7),
    redact: (s?.redact ?? []).join('\n'),
  };
}

/** The input the texts ask for, or undefined when they change nothing of
 * was (so that a save of other fields leaves the audited setting alone). */
export function captureInput(t: CaptureTexts, was?: BodyCaptureSetting | null): BodyCaptureInput | undefined {
  const input: BodyCaptureInput = {
    mode: t.mode,
    samplePercent: Number(t.samplePercent),
    maxBytes: Number(t.maxBytes),
    retentionDays: Number(t.retentionDays),
    redact: t.redact.split('\n').map((l) => l.trim()).filter(Boolean),
  };
  const before = captureTexts(was);
  const same = (Object.keys(before) as (keyof CaptureTexts)[]).every((k) => k === 'redact'
    ? before.redact === (input.redact ?? []).join('\n')
    : String(before[k]) === String(input[k as keyof BodyCaptureInput]));
  return same ? undefined : input;
}

/** One line summing up a capture setting. */
export function captureSummary(s?: BodyCaptureSetting | null): string {
  if (!s || s.mode === 'OFF') return 'off';
  const which = s.mode === 'ALL' ? 'all requests' : s.mode === 'ERRORS' ? 'failed requests' : `${s.samplePercent}% of requests`;
  return `${which}, up to ${s.maxBytes} bytes a body, kept ${s.retentionDays} days`;
}

/** The body capture fields of the service form. */
export function BodyCaptureFields({ texts, onChange, errors }: { texts: CaptureTexts; onChange: (t: CaptureTexts) => void; errors: Record<string, string | undefined> }) {
  const id = useId();
  const set = (p: Partial<CaptureTexts>) => onChange({ ...texts, ...p });
  const redactError = errors['bodyCapture.redact'];
  return (
    <fieldset>
      <legend>Body capture</legend>
      <p className="muted small">Keeps request and response bodies for debugging, redacted (API keys, bearer tokens, your patterns) and encrypted; only admins read them. Changes are audited.</p>
      <div className="grid-2">
        <SelectField label="Capture" name="bodyCaptureMode" value={texts.mode} onChange={(e) => set({ mode: e.target.value as BodyCaptureMode })} error={errors['bodyCapture.mode']}>
          <option value="OFF">Off</option>
          <option value="ERRORS">Failed requests only</option>
          <option value="ALL">All requests</option>
          <option value="SAMPLE">A sample</option>
        </SelectField>
        {texts.mode === 'SAMPLE' && (
          <TextField label="Sample (%)" name="bodyCaptureSample" inputMode="numeric" value={texts.samplePercent} onChange={(e) => set({ samplePercent: e.target.value })} error={errors['bodyCapture.samplePercent']} />
        )}
      </div>
      {texts.mode !== 'OFF' && (
        <>
          <div className="grid-2">
            <TextField label="Cap per body (bytes)" name="bodyCaptureMaxBytes" inputMode="numeric" value={texts.maxBytes} onChange={(e) => set({ maxBytes: e.target.value })} error={errors['bodyCapture.maxBytes']} hint="Longer bodies are cut and marked truncated." />
            <TextField label="Keep for (days)" name="bodyCaptureRetention" inputMode="numeric" value={texts.retentionDays} onChange={(e) => set({ retentionDays: e.target.value })} error={errors['bodyCapture.retentionDays']} />
          </div>
          <div className={`field${redactError ? ' has-error' : ''}`}>
            <label htmlFor={id}>Redact patterns</label>
            <textarea id={id} name="bodyCaptureRedact" rows={3} value={texts.redact} onChange={(e) => set({ redact: e.target.value })} aria-invalid={!!redactError} aria-describedby={`${id}-note`} />
            {redactError ? <small id={`${id}-note`} className="field-error">{redactError}</small> : <small id={`${id}-note`} className="hint">Regular expressions (RE2), one a line; their matches are replaced by [redacted].</small>}
          </div>
        </>
      )}
    </fieldset>
  );
}
