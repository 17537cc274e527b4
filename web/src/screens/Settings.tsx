import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { PricesQuery } from '../gql/graphql';
import { nodes } from '../connection';
import { describeError, noProblem, withConflict, type Problem } from '../errors';
import { formatPrice, formatRelative, formatUSD, parseUSD, usdInput } from '../format';
import { useCanEdit, useViewer } from '../viewer';
import { Badge, CheckField, Confirm, Dialog, ErrorNote, Loading, Page, ScrollBox, SecretReveal, SelectField, TextField } from '../ui';
import { CreateAPIKey, DeleteAPIKey } from './ApiKeys';
import { Members } from './Members';
import { Link, usePath } from '../router';
import { LimitsFields, limitTexts, parseLimits, type LimitName } from '../limits';
import { PaceFields, paceTexts, parsePace, type PaceName } from '../pace';

// Lists refetch when a mutation touches these types, even while empty.
const LIST_CONTEXT = { additionalTypenames: ['APIKey', 'Balance', 'ProjectSettings'] };

const SettingsQuery = graphql(`
  query Settings {
    viewer {
      organization {
        ...OrganizationLimits
      }
    }
    projectSettings {
      id
      allowOverwrite
      alertWebhookURL
    }
    balance {
      id
      currentBalance
      currency
      enforced
    }
    apiKeys(first: 100, where: { isManagementKey: true }, orderBy: { field: NAME }) {
      edges {
        node {
          id
          name
          description
          keyPrefix
          keyLastFour
          lastUsedAt
        }
      }
    }
  }
`);

export const OrganizationLimits = graphql(`
  fragment OrganizationLimits on Organization {
    id
    limitCostHourWarn
    limitCostHourBlock
    limitCostDayWarn
    limitCostDayBlock
    limitCostMonthWarn
    limitCostMonthBlock
    limitCostTotalBlock
    limitRpm
    limitTpm
    limitConcurrency
  }
`);

const UpdateOrganizationLimits = graphql(`
  mutation UpdateOrganizationLimits($input: UpdateOrganizationLimitsInput!) {
    updateOrganizationLimits(input: $input) {
      ...OrganizationLimits
    }
  }
`);

const UpdateSettings = graphql(`
  mutation UpdateProjectSettings($input: UpdateProjectSettingsInput!) {
    updateProjectSettings(input: $input) {
      id
      allowOverwrite
      alertWebhookURL
    }
  }
`);

const TopUp = graphql(`
  mutation TopUpBalance($amount: USD!) {
    topUpBalance(amount: $amount) {
      id
      currentBalance
      currency
      enforced
    }
  }
`);

const UpdateBalance = graphql(`
  mutation UpdateBalance($input: UpdateBalanceInput!) {
    updateBalance(input: $input) {
      id
      currentBalance
      currency
      enforced
    }
  }
`);

export const PriceFields = graphql(`
  fragment PriceFields on ModelPrice {
    id
    provider
    model
    inputPerMtok
    outputPerMtok
    cachedInputPerMtok
    cacheWritePerMtok
    cacheWrite1hPerMtok
    kind
    customized
  }
`);

const Prices = graphql(`
  query Prices($where: ModelPriceWhereInput) {
    modelPrices(first: 100, where: $where, orderBy: { field: PROVIDER }) {
      totalCount
      edges {
        node {
          ...PriceFields
        }
      }
    }
  }
`);

const UpdatePrice = graphql(`
  mutation UpdateModelPrice($id: ID!, $input: UpdateModelPriceInput!) {
    updateModelPrice(id: $id, input: $input) {
      id
      inputPerMtok
      outputPerMtok
      cachedInputPerMtok
      cacheWritePerMtok
      cacheWrite1hPerMtok
      customized
    }
  }
`);

// The settings' sub-pages, each at its own path under Settings.
export const SETTINGS_TABS = [
  { path: '/dashboard/settings', label: 'General' },
  { path: '/dashboard/settings/keys', label: 'Management keys' },
  { path: '/dashboard/settings/prices', label: 'Prices' },
  { path: '/dashboard/settings/members', label: 'Members' },
] as const;

const CreatePrice = graphql(`
  mutation CreateModelPrice($input: CreateModelPriceInput!) {
    createModelPrice(input: $input) {
      ...PriceFields
    }
  }
`);

const PriceProviders = graphql(`
  query PriceProviders {
    providers {
      name
      displayName
    }
  }
`);

export function Settings() {
  const path = usePath().replace(/\/$/, '');
  const tab = SETTINGS_TABS.find((t) => t.path === path) ?? null;
  const [{ data, fetching, error }] = useQuery({ query: SettingsQuery, context: LIST_CONTEXT, pause: tab?.label === 'Prices' || tab?.label === 'Members' });
  // A link to a card (#org-limits) scrolls to it once it is drawn.
  useEffect(() => {
    const id = window.location.hash.slice(1);
    if (data && id) document.getElementById(id)?.scrollIntoView();
  }, [data, path]);
  return (
    <Page title={tab && tab.label !== 'General' ? `Settings › ${tab.label}` : 'Settings'}>
      <nav className="tabs" aria-label="Settings">
        {SETTINGS_TABS.map((t) => (
          <Link key={t.path} href={t.path} aria-current={t === tab ? 'page' : undefined}>{t.label}</Link>
        ))}
      </nav>
      {!tab && <p>There is no such settings page. Pick one above.</p>}
      {tab?.label === 'Prices' && <PriceCatalog />}
      {tab?.label === 'Members' && <Members />}
      {tab && tab.label !== 'Prices' && tab.label !== 'Members' && (
        <>
          {!data && fetching && <Loading what="Loading settings" />}
          <ErrorNote problem={describeError(error)} />
          {data && tab.label === 'General' && (
            <>
              <ProjectSettingsCard settings={data.projectSettings} />
              {data.viewer && <OrganizationLimitsCard organization={data.viewer.organization} />}
              <BalanceCard balance={data.balance} />
            </>
          )}
          {data && tab.label === 'Management keys' && <ManagementKeys keys={nodes(data.apiKeys)} />}
        </>
      )}
    </Page>
  );
}

function ProjectSettingsCard({ settings }: { settings: { allowOverwrite: boolean; alertWebhookURL?: string | null } }) {
  const canEdit = useCanEdit();
  const [allowOverwrite, setAllowOverwrite] = useState(settings.allowOverwrite);
  const [webhook, setWebhook] = useState(settings.alertWebhookURL ?? '');
  const [saved, setSaved] = useState(false);
  const [result, update] = useMutation(UpdateSettings);
  const problem = describeError(result.error);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    const r = await update({ input: { allowOverwrite, alertWebhookUrl: webhook.trim() } });
    if (!r.error) setSaved(true);
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby="project-title">
      <h2 id="project-title">Project</h2>
      <fieldset disabled={!canEdit}>
        <CheckField label="Let API calls set their own inference parameters" checked={allowOverwrite} onChange={setAllowOverwrite} hint="When off, each service's request defaults are enforced over the client's." />
        <TextField label="Budget alert webhook" type="url" value={webhook} onChange={(e) => setWebhook(e.target.value)} error={problem.fields.alertWebhookUrl} placeholder="https://hooks.example.com/…" hint="Budget warnings are POSTed here. Blank: none." />
      </fieldset>
      <ErrorNote problem={problem.fields.alertWebhookUrl ? { ...problem, message: null } : problem} />
      {canEdit && (
        <div className="row">
          <button type="submit" className="primary" disabled={result.fetching}>Save settings</button>
          {saved && <span role="status" className="ok-text">Saved.</span>}
        </div>
      )}
    </form>
  );
}

/** The organization's cost and pace limits: they cap all its services
 * and keys together, beside each service's and key's own. */
function OrganizationLimitsCard({ organization }: { organization: Partial<Record<LimitName | PaceName, number | null>> }) {
  const canEdit = useCanEdit();
  const [texts, setTexts] = useState(limitTexts(organization));
  const [pace, setPace] = useState(paceTexts(organization));
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  const [result, update] = useMutation(UpdateOrganizationLimits);
  const problem = describeError(result.error);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    const { limits, errors } = parseLimits(texts);
    const { pace: parsedPace, errors: paceErrors } = parsePace(pace);
    const all = { ...errors, ...paceErrors };
    setFieldErrors(all);
    if (Object.keys(all).length) return;
    const r = await update({ input: { ...limits, ...parsedPace } }, { additionalTypenames: ['Organization', 'Spend', 'PaceLimit'] });
    if (!r.error) setSaved(true);
  }
  return (
    <form className="card" id="org-limits" onSubmit={submit} aria-labelledby="org-limits-title">
      <h2 id="org-limits-title">Organization budget</h2>
      <fieldset disabled={!canEdit}>
        <LimitsFields legend="Limits on the spend of every service and key together (blank for no limit)" texts={texts} onChange={setTexts} errors={{ ...problem.fields, ...fieldErrors }} />
        <PaceFields legend="Limits on the pace of every service and key together (blank for no limit)" texts={pace} onChange={setPace} errors={{ ...problem.fields, ...fieldErrors }} />
      </fieldset>
      <ErrorNote problem={Object.keys(problem.fields).length ? { ...problem, message: null } : problem} />
      {canEdit && (
        <div className="row">
          <button type="submit" className="primary" disabled={result.fetching}>Save limits</button>
          {saved && <span role="status" className="ok-text">Saved.</span>}
        </div>
      )}
    </form>
  );
}

function BalanceCard({ balance }: { balance: { currentBalance: number; currency: string; enforced: boolean } }) {
  const viewer = useViewer();
  const canEdit = viewer.role === 'admin' && viewer.isInstanceAdmin;
  const [amount, setAmount] = useState('');
  const [amountError, setAmountError] = useState<string>();
  const [top, topUp] = useMutation(TopUp);
  const [upd, updateBalance] = useMutation(UpdateBalance);
  async function submit(e: FormEvent) {
    e.preventDefault();
    const p = parseUSD(amount);
    if (p.error || p.value == null || p.value <= 0) return setAmountError(p.error ?? 'Enter an amount above zero.');
    setAmountError(undefined);
    const r = await topUp({ amount: p.value });
    if (!r.error) setAmount('');
  }
  const problem = describeError(top.error ?? upd.error);
  return (
    <section className="card" aria-labelledby="balance-title">
      <h2 id="balance-title">Prepaid balance</h2>
      <p className="big" data-testid="balance">{formatUSD(balance.currentBalance)} <span className="muted small">{balance.currency}</span></p>
      <p>{balance.enforced ? <Badge tone="warn">enforced</Badge> : <Badge>not enforced</Badge>} <span className="muted small">When enforced, proxied requests are refused once the balance reaches zero.</span></p>
      {canEdit && (
        <form onSubmit={submit} className="row">
          <TextField label="Top up (USD)" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} error={amountError ?? problem.fields.amount} />
          <button type="submit" disabled={top.fetching}>Add to balance</button>
          <button type="button" disabled={upd.fetching} onClick={() => updateBalance({ input: { enforced: !balance.enforced } })}>
            {balance.enforced ? 'Stop enforcing' : 'Enforce the balance'}
          </button>
        </form>
      )}
      <ErrorNote problem={problem.fields.amount ? { ...problem, message: null } : problem} />
    </section>
  );
}

type MgmtKey = { id: string; name: string; description: string; keyPrefix: string; keyLastFour: string; lastUsedAt?: string | null };

function ManagementKeys({ keys }: { keys: MgmtKey[] }) {
  const canEdit = useCanEdit();
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [problem, setProblem] = useState<Problem>(noProblem);
  const [secret, setSecret] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<MgmtKey | null>(null);
  const [create, createKey] = useMutation(CreateAPIKey);
  const [del, deleteKey] = useMutation(DeleteAPIKey);
  function close() {
    setCreating(false);
    setSecret(null);
    setName('');
    setDescription('');
    setProblem(noProblem);
  }
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!name.trim()) return setProblem({ message: null, fields: { name: 'Give the key a name.' }, code: 'BAD_USER_INPUT' });
    const r = await createKey({ input: { name: name.trim(), description, isManagementKey: true } }, { additionalTypenames: ['APIKey'] });
    if (r.error) return setProblem(withConflict(describeError(r.error)));
    if (r.data) setSecret(r.data.createAPIKey.key);
  }
  return (
    <section className="card" aria-labelledby="mgmt-title">
      <div className="card-head">
        <h2 id="mgmt-title">Management keys</h2>
        {canEdit && <button type="button" onClick={() => setCreating(true)}>New management key</button>}
      </div>
      <p className="muted small">A management key works on the admin API with admin rights in this organization, for scripts and CI. It cannot call the proxy.</p>
      {keys.length === 0 ? (
        <p className="muted">No management keys.</p>
      ) : (
        <ul className="plain">
          {keys.map((k) => (
            <li key={k.id} className="row">
              <strong>{k.name}</strong> <code>{k.keyPrefix}…{k.keyLastFour}</code>
              <span className="muted small">{k.lastUsedAt ? `used ${formatRelative(k.lastUsedAt)}` : 'never used'}</span>
              {canEdit && <button type="button" className="danger" onClick={() => setDeleting(k)} aria-label={`Delete ${k.name}`}>Delete</button>}
            </li>
          ))}
        </ul>
      )}
      <Dialog title={secret ? `Key ${name} created` : 'New management key'} open={creating} onClose={close}>
        {secret ? (
          <SecretReveal secret={secret} onDone={close} />
        ) : (
          <form onSubmit={submit} noValidate>
            <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} error={problem.fields.name} required />
            <TextField label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
            <ErrorNote problem={problem} />
            <footer className="dialog-foot">
              <button type="button" onClick={close}>Cancel</button>
              <button type="submit" className="primary" disabled={create.fetching}>Create key</button>
            </footer>
          </form>
        )}
      </Dialog>
      <Confirm
        open={!!deleting}
        title={`Delete ${deleting?.name ?? ''}?`}
        confirmLabel="Delete key"
        busy={del.fetching}
        problem={describeError(del.error)}
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          const r = await deleteKey({ name: deleting.name }, { additionalTypenames: ['APIKey'] });
          if (!r.error) setDeleting(null);
        }}
      >
        <p>Scripts using this key lose access at once.</p>
      </Confirm>
    </section>
  );
}

type Price = NonNullable<NonNullable<NonNullable<PricesQuery['modelPrices']['edges']>[number]>['node']>;

function PriceCatalog() {
  const viewer = useViewer();
  const canEdit = viewer.role === 'admin' && viewer.isInstanceAdmin;
  const [filter, setFilter] = useState('');
  const [debounced, setDebounced] = useState('');
  useEffect(() => {
    const t = window.setTimeout(() => setDebounced(filter.trim()), 250);
    return () => window.clearTimeout(t);
  }, [filter]);
  const where = debounced ? { or: [{ modelContainsFold: debounced }, { providerContainsFold: debounced }] } : undefined;
  const [{ data, fetching, error }] = useQuery({ query: Prices, variables: { where } });
  const [editing, setEditing] = useState<Price | null>(null);
  const [adding, setAdding] = useState(false);
  const prices = nodes(data?.modelPrices);
  return (
    <section className="card" aria-labelledby="prices-title">
      <div className="card-head">
        <h2 id="prices-title">Price catalog</h2>
        {canEdit && <button type="button" onClick={() => setAdding(true)}>Add a price</button>}
      </div>
      <p className="muted small">USD per million tokens (per image for image models). Shared by the instance; edited prices are no longer overwritten by the built-in catalog.</p>
      <TextField label="Find a model" type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="gpt-4o, claude, gemini…" />
      {!data && fetching && <Loading what="Loading prices" />}
      <ErrorNote problem={describeError(error)} />
      {data && (
        <ScrollBox label="Model prices">
          <table>
            <thead>
              <tr><th>Provider</th><th>Model</th><th className="num">Input</th><th className="num">Cached input</th><th className="num">Cache write</th><th className="num">Output</th>{canEdit && <th><span className="sr-only">Actions</span></th>}</tr>
            </thead>
            <tbody>
              {prices.map((p) => (
                <tr key={p.id}>
                  <td>{p.provider}</td>
                  <td>{p.model} {p.kind !== 'text' && <Badge>{p.kind}</Badge>} {p.customized && <Badge tone="warn">edited</Badge>}</td>
                  <td className="num">{formatPrice(p.inputPerMtok)}</td>
                  <td className="num">{formatPrice(p.cachedInputPerMtok)}</td>
                  <td className="num">
                    {formatPrice(p.cacheWritePerMtok)}
                    {p.cacheWrite1hPerMtok != null && <span className="muted small"> · 1 h {formatPrice(p.cacheWrite1hPerMtok)}</span>}
                  </td>
                  <td className="num">{formatPrice(p.outputPerMtok)}</td>
                  {canEdit && <td className="actions"><button type="button" onClick={() => setEditing(p)} aria-label={`Edit price of ${p.model}`}>Edit</button></td>}
                </tr>
              ))}
            </tbody>
          </table>
          {data.modelPrices.totalCount > prices.length && <p className="muted small">Showing {prices.length} of {data.modelPrices.totalCount}; search to narrow.</p>}
        </ScrollBox>
      )}
      {editing && <PriceForm price={editing} onClose={() => setEditing(null)} />}
      {adding && <PriceForm onClose={() => setAdding(false)} onCreated={(p) => setFilter(p.model)} />}
    </section>
  );
}

/** Edits a price, or adds one to the catalog when given none. */
function PriceForm({ price, onClose, onCreated }: { price?: Price; onClose: () => void; onCreated?: (p: { model: string }) => void }) {
  const [provider, setProvider] = useState('');
  const [modelName, setModelName] = useState('');
  const [kind, setKind] = useState('text');
  const [input, setInput] = useState(usdInput(price?.inputPerMtok));
  const [cached, setCached] = useState(usdInput(price?.cachedInputPerMtok));
  const [write, setWrite] = useState(usdInput(price?.cacheWritePerMtok));
  const [write1h, setWrite1h] = useState(usdInput(price?.cacheWrite1hPerMtok));
  const [output, setOutput] = useState(usdInput(price?.outputPerMtok));
  const [problem, setProblem] = useState<Problem>(noProblem);
  const [result, update] = useMutation(UpdatePrice);
  const [created, create] = useMutation(CreatePrice);
  const [{ data: known }] = useQuery({ query: PriceProviders, pause: !!price });
  async function submit(e: FormEvent) {
    e.preventDefault();
    const i = parseUSD(input);
    const c = parseUSD(cached);
    const w = parseUSD(write);
    const w1 = parseUSD(write1h);
    const o = parseUSD(output);
    const fields: Record<string, string> = {};
    if (i.error || i.value == null) fields.inputPerMtok = i.error ?? 'Required.';
    if (o.error || o.value == null) fields.outputPerMtok = o.error ?? 'Required.';
    if (c.error) fields.cachedInputPerMtok = c.error;
    if (w.error) fields.cacheWritePerMtok = w.error;
    if (w1.error) fields.cacheWrite1hPerMtok = w1.error;
    if (!price && !provider) fields.provider = 'Choose the provider.';
    if (!price && !modelName.trim()) fields.model = 'Name the model as clients send it.';
    if (Object.keys(fields).length) return setProblem({ message: null, fields, code: 'BAD_USER_INPUT' });
    if (!price) {
      const r = await create({ input: {
        provider, model: modelName.trim(), kind,
        inputPerMtok: i.value as number, outputPerMtok: o.value as number, cachedInputPerMtok: c.value,
        cacheWritePerMtok: w.value, cacheWrite1hPerMtok: w1.value,
      } }, { additionalTypenames: ['ModelPrice'] });
      if (r.error) return setProblem(withConflict(describeError(r.error)));
      onCreated?.({ model: modelName.trim() });
      return onClose();
    }
    const r = await update({ id: price.id, input: {
      inputPerMtok: i.value, outputPerMtok: o.value, cachedInputPerMtok: c.value,
      cacheWritePerMtok: w.value, cacheWrite1hPerMtok: w1.value,
    } });
    if (r.error) return setProblem(describeError(r.error));
    onClose();
  }
  return (
    <Dialog title={price ? `Price of ${price.model}` : 'Add a price'} open onClose={onClose}>
      <form onSubmit={submit} noValidate>
        {!price && (
          <>
            <SelectField label="Provider" value={provider} onChange={(e) => setProvider(e.target.value)} error={problem.fields.provider} required>
              <option value="">Choose a provider…</option>
              {(known?.providers ?? []).map((p) => <option key={p.name} value={p.name}>{p.displayName}</option>)}
            </SelectField>
            <TextField label="Model" value={modelName} onChange={(e) => setModelName(e.target.value)} error={problem.fields.model} hint="The model name clients send." required />
            <SelectField label="Kind" value={kind} onChange={(e) => setKind(e.target.value)} error={problem.fields.kind}>
              <option value="text">text</option>
              <option value="image">image (prices per image)</option>
              <option value="embedding">embedding</option>
            </SelectField>
          </>
        )}
        <TextField label="Input per million tokens (USD)" inputMode="decimal" value={input} onChange={(e) => setInput(e.target.value)} error={problem.fields.inputPerMtok} />
        <TextField label="Cached input per million tokens (USD)" inputMode="decimal" value={cached} onChange={(e) => setCached(e.target.value)} error={problem.fields.cachedInputPerMtok} hint="Blank: no discount." />
        <TextField label="Cache write per million tokens (USD)" inputMode="decimal" value={write} onChange={(e) => setWrite(e.target.value)} error={problem.fields.cacheWritePerMtok} hint="Input written to the provider's prompt cache (Anthropic: 1.25× input). Blank: billed as input." />
        <TextField label="One-hour cache write per million tokens (USD)" inputMode="decimal" value={write1h} onChange={(e) => setWrite1h(e.target.value)} error={problem.fields.cacheWrite1hPerMtok} hint="Anthropic: 2× input. Blank: billed as other cache writes." />
        <TextField label="Output per million tokens (USD)" inputMode="decimal" value={output} onChange={(e) => setOutput(e.target.value)} error={problem.fields.outputPerMtok} />
        <ErrorNote problem={problem} />
        <footer className="dialog-foot">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={result.fetching || created.fetching}>{price ? 'Save price' : 'Add price'}</button>
        </footer>
      </form>
    </Dialog>
  );
}
