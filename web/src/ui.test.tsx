import { describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import { ErrorNote, ScrollBox, SecretReveal, SpendGauge, TextField } from './ui';
import { ViewerContext } from './viewer';
import { Standards } from './screens/Standards';
import { ProtocolCell, protocolText } from './screens/UsageLog';
import { clientApisHint } from './screens/Services';
import { PaceFields, PaceMeters, paceTexts } from './pace';
import { Provider, Client } from 'urql';
import { map, never, pipe } from 'wonka';
import { Account } from './screens/Account';

describe('components', () => {
  it('shows a new key once, with a copy button and a warning', () => {
    const html = renderToStaticMarkup(<SecretReveal secret="sk_abc" onDone={() => {}} />);
    expect(html).toContain('sk_abc');
    expect(html).toContain('you will not see it again');
    expect(html).toContain('>Copy<');
  });
  it('marks a field error for assistive technology', () => {
    const html = renderToStaticMarkup(<TextField label="Name" error="taken" value="x" readOnly />);
    expect(html).toContain('aria-invalid="true"');
    expect(html).toMatch(/aria-describedby="[^"]+-err"/);
    expect(html).toContain('taken');
  });
  it('renders no alert without a message', () => {
    expect(renderToStaticMarkup(<ErrorNote problem={{ message: null, fields: {}, code: null }} />)).toBe('');
  });
  it('shows spend against its block, or says there is no limit', () => {
    expect(renderToStaticMarkup(<SpendGauge label="Today" spent={5} warn={50} block={100} />)).toMatch(/\$5\.00.*of.*\$100\.00/);
    const none = renderToStaticMarkup(<SpendGauge label="Today" spent={0} />);
    expect(none).toContain('no limit');
    expect(none).not.toContain('role="meter"');
  });
  it('names a spend meter and says its value in dollars', () => {
    const html = renderToStaticMarkup(<SpendGauge label="Today" spent={120} warn={50} block={100} />);
    expect(html).toContain('role="meter" aria-label="Today spend"');
    expect(html).toContain('aria-valuenow="100"');
    expect(html).toContain('aria-valuetext="$120.00 settled of $100.00"');
  });
  it('labels a table\'s scroll box as a region', () => {
    const html = renderToStaticMarkup(<ScrollBox label="Usage records"><table /></ScrollBox>);
    expect(html).toMatch(/^<div class="table-wrap" role="region" aria-label="Usage records">/);
  });
  it('shows a meter per pace limit in force, with use and reset', () => {
    const html = renderToStaticMarkup(
      <PaceMeters pace={[
        { kind: 'concurrency', limit: 4, remaining: 4, resetsInSeconds: 0 },
        { kind: 'rpm', limit: 60, remaining: 45, resetsInSeconds: 12.2 },
      ]} />,
    );
    expect(html.match(/role="meter"/g)).toHaveLength(2);
    expect(html).toMatch(/Requests per minute.*15 of 60.*resets in 13s.*Requests in flight.*0 of 4/);
    expect(html).toContain('aria-valuenow="15"');
    expect(html).not.toMatch(/Requests in flight.*resets in/);
    expect(renderToStaticMarkup(<PaceMeters pace={[]} />)).toBe('');
  });
  it('says what a key inherits in its pace fields', () => {
    const html = renderToStaticMarkup(<PaceFields legend="Pace" texts={paceTexts()} onChange={() => {}} errors={{ limitRpm: 'too low' }} inherited={{ limitRpm: 1200, limitTpm: null }} />);
    expect(html).toContain('placeholder="inherits 1,200"');
    expect(html).toContain('placeholder="inherits: none"');
    expect(html).toContain('too low');
    expect(renderToStaticMarkup(<PaceFields legend="Pace" texts={paceTexts()} onChange={() => {}} errors={{}} />)).toContain('placeholder="no limit"');
  });
  it('shows members no edit buttons', () => {
    const client = new Client({ url: '/graphql', exchanges: [() => () => never] });
    const render = (role: 'admin' | 'member') =>
      renderToStaticMarkup(
        <Provider value={client}>
          <ViewerContext.Provider value={{ username: 'u', role, isManagementKey: false, isInstanceAdmin: true, hasPassword: true, organization: 'Default' }}>
            <Standards />
          </ViewerContext.Provider>
        </Provider>,
      );
    expect(render('admin')).toContain('New standard');
    expect(render('member')).not.toContain('New standard');
  });
  it('offers a single sign-on account no password or two-factor set-up', () => {
    // Every query answers at once: login options name the provider, other lists are empty.
    const client = new Client({
      url: '/graphql',
      exchanges: [
        () => (ops$) =>
          pipe(
            ops$,
            map((operation) => ({
              operation,
              data: { loginOptions: { passwordLogin: false, sso: { name: 'Example ID', loginUrl: '/sso' } }, mySessions: [] },
              stale: false,
              hasNext: false,
            })),
          ),
      ],
    });
    const render = (hasPassword: boolean) =>
      renderToStaticMarkup(
        <Provider value={client}>
          <ViewerContext.Provider value={{ username: 'u', role: 'member', isManagementKey: false, isInstanceAdmin: false, hasPassword, organization: 'Default' }}>
            <Account />
          </ViewerContext.Provider>
        </Provider>,
      );
    const sso = render(false);
    expect(sso).toContain('You sign in with Example ID; change your password there.');
    expect(sso).not.toContain('Change password');
    expect(sso).not.toContain('Two-factor');
    expect(render(true)).toContain('Change password');
  });
});

describe('protocols', () => {
  const cell = (protocol: string, providerProtocol: string | null) =>
    renderToStaticMarkup(
      <table><tbody><tr><ProtocolCell protocol={protocol} providerProtocol={providerProtocol} /></tr></tbody></table>,
    );
  it.each([
    ['openai', 'openai', 'openai'],
    ['openai', 'anthropic', 'openai → anthropic'],
    ['gemini', 'cohere', 'gemini → cohere'],
    ['anthropic', null, 'anthropic'],
    ['cohere', '', 'cohere'],
  ])('shows %s answered by %s as "%s"', (protocol, upstream, want) => {
    expect(protocolText(protocol, upstream)).toBe(want);
    expect(cell(protocol, upstream)).toContain(`>${want}</td>`);
  });
  it('explains a translated request on hover only', () => {
    expect(cell('openai', 'anthropic')).toContain('title="Translated: called as openai, answered by the anthropic upstream"');
    expect(cell('openai', 'openai')).not.toContain('title=');
  });
  it('lists the client APIs that reach a provider', () => {
    expect(clientApisHint(['OpenAI Chat Completions', 'Anthropic Messages'])).toBe('Callable through OpenAI Chat Completions, Anthropic Messages.');
    expect(clientApisHint([])).toBe('No client API reaches this provider.');
  });
});
