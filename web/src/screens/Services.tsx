import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { ServiceFieldsFragment, ProvidersAndCredentialsQuery, ProviderUsageFieldsFragment } from '../gql/graphql';
import { nodes } from '../connection';
import { clearOnChange, describeError, fieldProblem, noProblem, withConflict, type Problem } from '../errors';
import { maskKey } from '../format';
import { LimitsFields, limitTexts, parseLimits, setLimits } from '../limits';
import { ProviderUsageView, TestCredentialMutation } from '../liveusage';
import { nextReset, PaceFields, PaceMeters, paceTexts, parsePace, setPace, useUsageRefresh } from '../pace';
import { useOnOff } from '../onoff';
import { ListSearch, Pager, useSearchedPager } from '../pager';
import { SpendGauges } from '../spend';
import { subjectStatus } from '../status';
import { useCanEdit } from '../viewer';
import { BodyCaptureFields, captureInput, captureSummary, captureTexts } from '../bodycapture';
import { ServiceTargets, TargetsList } from './ServiceTargets';
import { CheckField, Confirm, Dialog, Empty, ErrorNote, Loading, Page, SelectField, showProblem, StatusBadge, TextField } from '../ui';

// Lists refetch when a mutation touches these types, even while empty.
const LIST_CONTEXT = { additionalTypenames: ['Service', 'ProviderCredential', 'ServiceTarget'] };

graphql(`
  fragment ServiceFields on Service {
    id
    serviceName
    description
    provider
    credentialID
    modelsEnabled
    allowUnpricedModels
    active
    ...ServiceLimitFields
    bodyCapture {
      mode
      samplePercent
      maxBytes
      retentionDays
      redact
    }
    credential {
      id
      displayName
      apiKeyLastFour
      hasApiKey
      baseUrl
    }
    apiKeys {
      totalCount
    }
    spend {
      ...SpendFields
    }
    pace {
      ...PaceLimitFields
    }
    targets {
      ...ServiceTargetFields
    }
  }
`);

const ServicesQuery = graphql(`
  query Services($after: Cursor, $search: String) {
    services(first: 24, after: $after, where: { serviceNameContainsFold: $search }, orderBy: { field: SERVICE_NAME }) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...ServiceFields
        }
      }
    }
  }
`);

export const ProvidersAndCredentials = graphql(`
  query ProvidersAndCredentials {
    providers {
      name
      displayName
      defaultBaseUrl
      apiStandardHandle
      clientApis
      models
    }
    providerCredentials(first: 200, orderBy: { field: DISPLAY_NAME }) {
      edges {
        node {
          id
          provider
          accountKey
          displayName
          apiKeyLastFour
        }
      }
    }
  }
`);

const CreateService = graphql(`
  mutation CreateService($input: CreateServiceInput!) {
    createService(input: $input) {
      ...ServiceFields
    }
  }
`);

const UpdateService = graphql(`
  mutation UpdateService($id: ID!, $input: UpdateServiceInput!) {
    updateService(id: $id, input: $input) {
      ...ServiceFields
    }
  }
`);

const DeleteService = graphql(`
  mutation DeleteService($id: ID!) {
    deleteService(id: $id)
  }
`);

const ProbeCredential = graphql(`
  query ProbeCredential($id: ID!) {
    providerUsage(credentialId: $id, refresh: true) {
      ...ProviderUsageFields
    }
  }
`);

export function Services() {
  const canEdit = useCanEdit();
  const list = useSearchedPager();
  const { pager, searched } = list;
  const [{ data, fetching, error }, refetch] = useQuery({
    query: ServicesQuery,
    variables: { after: pager.after, search: searched || null },
    context: LIST_CONTEXT,
  });
  const [editing, setEditing] = useState<ServiceFieldsFragment | 'new' | null>(null);
  const [deleting, setDeleting] = useState<ServiceFieldsFragment | null>(null);
  const [del, deleteService] = useMutation(DeleteService);
  const [, toggle] = useMutation(UpdateService);
  const services = nodes(data?.services);
  const onOff = useOnOff((s: ServiceFieldsFragment, active) => toggle({ id: s.id, input: { active } }), (s) => s.serviceName);
  useUsageRefresh(refetch, { resetsIn: nextReset(...services.map((s) => s.pace)) });
  // A target's cool-down ends in the gateway's memory: ask again until none is left.
  const coolingDown = services.some((s) => s.targets.some((t) => t.enabled && !t.state.healthy));
  useEffect(() => {
    if (!coolingDown) return;
    const t = window.setInterval(() => refetch({ requestPolicy: 'network-only' }), 10_000);
    return () => window.clearInterval(t);
  }, [coolingDown, refetch]);

  return (
    <Page
      title="Services"
      intro="A service is what an application calls: a provider, its key, the models it may use and its budgets."
      actions={canEdit && <button type="button" className="primary" onClick={() => setEditing('new')}>New service</button>}
    >
      <ListSearch label="Search services" list={list} placeholder="service name" hint="Services whose name contains this, in any case." />
      {!data && fetching && <Loading what="Loading services" />}
      <ErrorNote problem={describeError(error)} />
      <ErrorNote problem={onOff.pageProblem} />
      {data && services.length === 0 && searched && <Empty title="No services match">No service's name contains “{searched}”.</Empty>}
      {data && services.length === 0 && !searched && (
        <Empty title="No services yet">
          {canEdit ? 'Create one with a provider key and the models your applications need; then create an API key for it.' : 'An admin has not created any services yet.'}
        </Empty>
      )}
      <div className="cards">
        {services.map((s) => (
          <article key={s.id} className="card" aria-labelledby={`svc-${s.id}`}>
            <div className="card-head">
              <h2 id={`svc-${s.id}`}>
                {s.serviceName} <StatusBadge status={subjectStatus(s.active ? null : 'disabled', s.spend, s.pace)} brief />
              </h2>
              {canEdit && (
                <div className="actions">
                  <button type="button" onClick={() => setEditing(s)}>Edit</button>
                  {s.active ? (
                    <button type="button" onClick={() => onOff.disable(s)} aria-label={`Disable ${s.serviceName}`}>Disable</button>
                  ) : (
                    <button type="button" onClick={() => onOff.enable(s)} disabled={onOff.busy} aria-label={`Enable ${s.serviceName}`}>Enable</button>
                  )}
                  <button type="button" className="danger" onClick={() => setDeleting(s)}>Delete</button>
                </div>
              )}
            </div>
            {s.description && <p>{s.description}</p>}
            <StandingNote spend={s.spend} pace={s.pace} active={s.active} />
            <dl className="facts">
              <dt>Provider</dt>
              <dd>{s.provider}</dd>
              <dt>Credential</dt>
              <dd>{s.credential ? `${s.credential.displayName} (${maskKey(s.credential.apiKeyLastFour)})` : 'none'}</dd>
              <dt>Models</dt>
              <dd>{s.modelsEnabled.length ? s.modelsEnabled.join(', ') : 'none'}{s.allowUnpricedModels && <span className="muted"> · unpriced allowed</span>}</dd>
              <dt>API keys</dt>
              <dd>{s.apiKeys.totalCount}</dd>
              <dt>Body capture</dt>
              <dd>{captureSummary(s.bodyCapture)}</dd>
              <dt>Targets</dt>
              <dd>{s.targets.length ? `${s.targets.length}, by weight with failover` : 'none: calls its credential'}</dd>
            </dl>
            <TargetsList targets={s.targets} />
            <SpendGauges spend={s.spend} />
            <PaceMeters pace={s.pace} />
          </article>
        ))}
      </div>
      {data && (pager.page > 1 || data.services.pageInfo.hasNextPage) && (
        <Pager pager={{ ...pager, endCursor: data.services.pageInfo.endCursor }} hasNext={data.services.pageInfo.hasNextPage} total={data.services.totalCount} shown={services.length} />
      )}
      {editing && <ServiceForm service={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />}
      <Confirm {...onOff.confirmProps} title={`Disable ${onOff.asking?.serviceName ?? ''}?`} confirmLabel="Disable service">
        <p>
          The service refuses every request from now on, for all its {onOff.asking?.apiKeys.totalCount ?? 0} API keys, until you enable it again. Its settings, budgets and usage stay.
        </p>
      </Confirm>
      <Confirm
        open={!!deleting}
        title={`Delete ${deleting?.serviceName ?? ''}?`}
        confirmLabel="Delete service"
        busy={del.fetching}
        problem={describeError(del.error)}
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          const r = await deleteService({ id: deleting.id }, { additionalTypenames: ['Service', 'APIKey'] });
          if (!r.error) setDeleting(null);
        }}
      >
        <p>
          This deletes the service and its {deleting?.apiKeys.totalCount ?? 0} API keys; applications using them stop working at once. Recorded usage is kept.
        </p>
      </Confirm>
    </Page>
  );
}

/** Why an active service is blocked or warned, in words, under its name. */
function StandingNote({ spend, pace, active }: Pick<ServiceFieldsFragment, 'spend' | 'pace' | 'active'>) {
  const st = subjectStatus(active ? null : 'disabled', spend, pace);
  if (!st.reasons.length) return null;
  return <p className={st.tone === 'bad' ? 'bad-text' : 'warn-text'}>{st.text === 'blocked' ? 'Refusing requests' : 'Past a warning'}: {st.reasons.join('; ')}</p>;
}

type Providers = ProvidersAndCredentialsQuery['providers'];

/** Says which client APIs can call a service of a provider. */
export function clientApisHint(apis: readonly string[]): string {
  return apis.length ? `Callable through ${apis.join(', ')}.` : 'No client API reaches this provider.';
}

function ServiceForm({ service, onClose }: { service: ServiceFieldsFragment | null; onClose: () => void }) {
  const [{ data }] = useQuery({ query: ProvidersAndCredentials, context: LIST_CONTEXT });
  const providers: Providers = data?.providers ?? [];
  const credentials = nodes(data?.providerCredentials);
  const [serviceName, setServiceName] = useState(service?.serviceName ?? '');
  const [description, setDescription] = useState(service?.description ?? '');
  const [provider, setProvider] = useState(service?.provider ?? '');
  const [keySource, setKeySource] = useState<'new' | 'existing'>('new');
  const [providerApiKey, setProviderApiKey] = useState('');
  const [credentialId, setCredentialId] = useState(service?.credentialID ?? '');
  const [baseUrl, setBaseUrl] = useState('');
  const [models, setModels] = useState<string[]>(service?.modelsEnabled ?? []);
  const [extraModels, setExtraModels] = useState('');
  const [modelFilter, setModelFilter] = useState('');
  const [allowUnpriced, setAllowUnpriced] = useState(service?.allowUnpricedModels ?? false);
  const [active, setActive] = useState(service?.active ?? true);
  const [limits, setLimitTexts] = useState(limitTexts(service));
  const [pace, setPaceTexts] = useState(paceTexts(service));
  const [capture, setCapture] = useState(captureTexts(service?.bodyCapture));
  const [problem, setProblem] = useState<Problem>(noProblem);
  const [create, createService] = useMutation(CreateService);
  const [update, updateService] = useMutation(UpdateService);
  const [test, testCredential] = useMutation(TestCredentialMutation);
  const client = useClient();
  const [probe, setProbe] = useState<{ usage?: ProviderUsageFieldsFragment; problem?: Problem; busy?: boolean }>({});
  const formId = useId();
  const canEdit = useCanEdit();
  const dialogBody = useRef<HTMLDivElement>(null);
  const fail = (p: Problem) => showProblem(setProblem, p, dialogBody.current);

  const info = providers.find((p) => p.name === provider);
  const catalog = info?.models ?? [];
  const shownModels = catalog.filter((m) => m.toLowerCase().includes(modelFilter.toLowerCase()));
  const sameProvider = credentials.filter((c) => c.provider === provider);

  async function runTest() {
    if (keySource === 'new' && providerApiKey) {
      setProbe({ busy: true });
      const r = await testCredential({ input: { provider, providerApiKey, baseUrl: baseUrl || undefined } });
      setProbe({ usage: r.data?.testProviderCredential, problem: describeError(r.error) });
      return;
    }
    const id = keySource === 'existing' ? credentialId : service?.credentialID;
    if (!id) {
      setProbe({ problem: { ...noProblem, message: 'Enter a provider key or pick a credential to test.' } });
      return;
    }
    setProbe({ busy: true });
    const r = await client.query(ProbeCredential, { id }, { requestPolicy: 'network-only' }).toPromise();
    setProbe({ usage: r.data?.providerUsage, problem: describeError(r.error) });
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    const { limits: parsed, errors } = parseLimits(limits);
    const { pace: parsedPace, errors: paceErrors } = parsePace(pace);
    const fields: Record<string, string> = { ...errors, ...paceErrors };
    if (!serviceName.trim()) fields.serviceName = 'Give the service a name.';
    if (!provider) fields.provider = 'Pick a provider.';
    const allModels = [...new Set([...models, ...extraModels.split(/[\s,]+/).filter(Boolean)])];
    if (allModels.length === 0) fields.modelsEnabled = 'Enable at least one model.';
    if (!service && keySource === 'existing' && !credentialId) fields.credentialId = 'Pick a credential, or enter a provider key.';
    if (Object.keys(fields).length) return fail(fieldProblem(fields));
    const common = {
      serviceName: serviceName.trim(),
      description,
      modelsEnabled: allModels,
      allowUnpricedModels: allowUnpriced,
      active,
      bodyCapture: captureInput(capture, service?.bodyCapture),
      ...(keySource === 'new' && providerApiKey ? { providerApiKey } : {}),
      ...(keySource === 'existing' && credentialId ? { credentialId } : {}),
    };
    const r = service
      ? await updateService({ id: service.id, input: { ...common, ...parsed, ...parsedPace } })
      : await createService({ input: { ...common, provider, ...(baseUrl && keySource === 'new' ? { baseUrl } : {}), ...setLimits(parsed), ...setPace(parsedPace) } }, { additionalTypenames: ['Service'] });
    if (r.error) return fail(withConflict(describeError(r.error), 'serviceName', `A service named “${serviceName.trim()}” already exists.`));
    onClose();
  }

  return (
    <Dialog title={service ? `Edit ${service.serviceName}` : 'New service'} open onClose={onClose} wide>
      <div ref={dialogBody}>
      <form id={formId} onSubmit={submit} onChange={clearOnChange(setProblem)} noValidate>
        <div className="grid-2">
          <TextField label="Name" name="serviceName" value={serviceName} onChange={(e) => setServiceName(e.target.value)} error={problem.fields.serviceName} hint="Unique; applications name it in API calls." required />
          <SelectField label="Provider" name="provider" value={provider} onChange={(e) => { setProvider(e.target.value); setModels([]); }} error={problem.fields.provider} disabled={!!service} hint={info && clientApisHint(info.clientApis)}>
            <option value="">Choose a provider…</option>
            {providers.map((p) => (
              <option key={p.name} value={p.name}>{p.displayName}</option>
            ))}
          </SelectField>
        </div>
        <TextField label="Description" name="description" value={description} onChange={(e) => setDescription(e.target.value)} error={problem.fields.description} />

        <fieldset>
          <legend>Provider key</legend>
          <div className="segmented" role="radiogroup" aria-label="Key source">
            <button type="button" role="radio" aria-checked={keySource === 'new'} onClick={() => setKeySource('new')}>{service ? 'Keep or replace the key' : 'Enter a key'}</button>
            <button type="button" role="radio" aria-checked={keySource === 'existing'} onClick={() => setKeySource('existing')} disabled={!provider}>Use a saved credential</button>
          </div>
          {keySource === 'new' ? (
            <div className="grid-2">
              <TextField
                label={service ? 'New provider key (blank keeps the current one)' : 'Provider API key'}
                type="password"
                name="providerApiKey"
                autoComplete="off"
                value={providerApiKey}
                onChange={(e) => setProviderApiKey(e.target.value)}
                error={problem.fields.providerApiKey}
                hint={service?.credential ? `Current key ${maskKey(service.credential.apiKeyLastFour)}. Encrypted at rest, never shown again.` : 'Encrypted at rest and never shown again.'}
              />
              {!service && (
                <TextField label="Base URL" name="baseUrl" type="url" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} error={problem.fields.baseUrl} placeholder={info?.defaultBaseUrl ?? 'https://…'} hint={provider === 'custom' ? 'Required for custom providers.' : 'Leave blank for the provider default.'} />
              )}
            </div>
          ) : (
            <SelectField label="Credential" name="credentialId" value={credentialId} onChange={(e) => setCredentialId(e.target.value)} error={problem.fields.credentialId}>
              <option value="">Choose…</option>
              {sameProvider.map((c) => (
                <option key={c.id} value={c.id}>{c.displayName} ({maskKey(c.apiKeyLastFour)})</option>
              ))}
            </SelectField>
          )}
          <div className="row">
            <button type="button" onClick={runTest} disabled={probe.busy || test.fetching || !provider}>{probe.busy ? 'Testing…' : 'Test connection'}</button>
          </div>
          <ErrorNote problem={probe.problem} />
          {probe.usage && <ProviderUsageView usage={probe.usage} />}
        </fieldset>

        <fieldset>
          <legend>Models</legend>
          {problem.fields.modelsEnabled && <p className="field-error" role="alert">{problem.fields.modelsEnabled}</p>}
          {provider === '' ? (
            <p className="muted">Pick a provider to see the models the price catalog knows.</p>
          ) : (
            <>
              {catalog.length > 8 && <TextField label="Filter models" type="search" value={modelFilter} onChange={(e) => setModelFilter(e.target.value)} />}
              <div className="model-list">
                {shownModels.map((m) => (
                  <label key={m}>
                    <input type="checkbox" name="modelsEnabled" checked={models.includes(m)} onChange={(e) => setModels(e.target.checked ? [...models, m] : models.filter((x) => x !== m))} /> {m}
                  </label>
                ))}
                {models.filter((m) => !catalog.includes(m)).map((m) => (
                  <label key={m}>
                    <input type="checkbox" name="modelsEnabled" checked onChange={() => setModels(models.filter((x) => x !== m))} /> {m} <span className="muted small">(not in the catalog)</span>
                  </label>
                ))}
              </div>
              <TextField label="Other models" name="modelsEnabled" value={extraModels} onChange={(e) => setExtraModels(e.target.value)} hint="Comma-separated model IDs the catalog does not list." />
              <CheckField label="Allow models without a price" checked={allowUnpriced} onChange={setAllowUnpriced} hint="Their usage is recorded as unpriced, never as $0." />
            </>
          )}
        </fieldset>

        <LimitsFields legend="Budgets (blank for no limit)" texts={limits} onChange={setLimitTexts} errors={problem.fields} />
        <PaceFields legend="Pace (blank for no limit; keys without their own inherit it)" texts={pace} onChange={setPaceTexts} errors={problem.fields} />
        <BodyCaptureFields texts={capture} onChange={setCapture} errors={problem.fields} />
        <CheckField label="Active" checked={active} onChange={setActive} hint="A disabled service refuses every request." />
      </form>
      {/* Outside the form: targets have their own forms and apply at once. */}
      {service && (
        <div className="box">
          <ServiceTargets serviceId={service.id} provider={service.provider} canEdit={canEdit} />
        </div>
      )}
      <ErrorNote problem={problem} />
      <footer className="dialog-foot">
        <button type="button" onClick={onClose}>Cancel</button>
        <button type="submit" form={formId} className="primary" disabled={create.fetching || update.fetching}>{service ? 'Save changes' : 'Create service'}</button>
      </footer>
      </div>
    </Dialog>
  );
}
