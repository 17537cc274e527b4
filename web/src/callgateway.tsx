import { useState } from 'react';
import { callGuide, envLine } from './snippets';
import { CopyButton } from './ui';

/** How to call the gateway with a new key: the base URL for the service's
 * protocol and examples (curl and SDKs), each with a copy button. */
export function CallGateway({ secret, protocol, model }: { secret: string; protocol: string; model: string }) {
  const guide = callGuide(protocol, window.location.origin, secret, model);
  const [tab, setTab] = useState(0);
  const shown = guide.snippets[tab] ?? guide.snippets[0];
  return (
    <section className="call-guide" aria-labelledby="call-guide-title">
      <h3 id="call-guide-title">Call the gateway</h3>
      <div className="secret-row">
        <span className="muted">Base URL</span>
        <code data-testid="base-url">{guide.baseUrl}</code>
        <CopyButton text={guide.baseUrl} label="Copy URL" />
      </div>
      <div className="segmented" role="group" aria-label="Example">
        {guide.snippets.map((s, i) => (
          <button key={s.label} type="button" aria-pressed={i === tab} onClick={() => setTab(i)}>{s.label}</button>
        ))}
      </div>
      <pre data-testid="snippet"><code>{shown.code}</code></pre>
      <div className="row">
        <CopyButton text={shown.code} label="Copy example" />
        {tab > 0 && <span className="muted small">Set the key first: <code>{envLine(secret)}</code></span>}
      </div>
    </section>
  );
}
