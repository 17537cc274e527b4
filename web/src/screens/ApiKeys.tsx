import { useDeferredValue, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { ApiKeyFieldsFragment, ServiceOptionFieldsFragment } from '../gql/graphql';
import { nodes } from '../connection';
import { clearOnChange, describeError, fieldProblem, noProblem, withConflict, type Problem } from '../errors';
import { CallGateway } from '../callgateway';
import { formatRelative, formatTime, fromLocalInput, toLocalInput } from '../format';
import { LimitsFields, limitTexts, parseLimits, setLimits } from '../limits';
import { nextReset, PaceFields, PaceMeters, paceTexts, parsePace, setPace, useUsageRefresh } from '../pace';
import { useOnOff } from '../onoff';
import { ListSearch, Pager, useSearchedPager } from '../pager';
import { SpendGauges } from '../spend';
import { standing, statusOf, subjectStatus, withService, type Status } from '../status';
import { useCanEdit } from '../viewer';
import { CheckField, Confirm, Dialog, Empty, ErrorNote, Loading, Page, ScrollBox, SecretReveal, SelectField, showProblem, StatusBadge, TextField } from '../ui';

// Lists refetch when a mutation touches these types, even while empty.
const LIST_CONTEXT = { additionalTypenames: ['APIKey', 'Service'] };

graphql(`
  fragment APIKeyFields on APIKey {
    id
    name
    description
    keyPrefix
    keyLastFour
    isActive
    isManagementKey
    expiresAt
    lastUsedAt
    createdAt
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
    service {
      id
      serviceName
      spend {
        ...SpendFields
      }
      pace {
        ...PaceLimitFields
      }
    }
    spend {
      ...SpendFields
    }
    pace {
      ...PaceLimitFields
    }
  }
`);

const ApiKeysQuery = graphql(`
  query APIKeys($after: Cursor, $search: String) {
    apiKeys(first: 50, after: $after, where: { isManagementKey: false, search: $search }, orderBy: { field: NAME }) {
      totalCount
      totalCountIsExact
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...APIKeyFields
        }
      }
    }
    anyService: services(first: 1) {
      edges {
        node {
          id
        }
      }
    }
  }
`);

// What the key form shows of a service: its name, what a key of it calls,
// and the budgets and pace its keys inherit.
graphql(`
  fragment ServiceOptionFields on Service {
    id
    serviceName
    provider
    modelsEnabled
    active
    ...ServiceLimitFields
  }
`);

/** The services a new key may call, a page of those whose name contains
 * the search: an organization may have more than a list can show. */
const KeyFormServices = graphql(`
  query KeyFormServices($search: String) {
    services(first: 50, where: { serviceNameContainsFold: $search }, orderBy: { field: SERVICE_NAME }) {
      totalCount
      edges {
        node {
          ...ServiceOptionFields
        }
      }
    }
    providers {
      name
      protocol
    }
  }
`);

/** One key's service, for editing the key or calling with its new secret. */
const KeyService = graphql(`
  query KeyService($id: ID!) {
    service(id: $id) {
      ...ServiceOptionFields
    }
    providers {
      name
      protocol
    }
  }
`);

export const CreateAPIKey = graphql(`
  mutation CreateAPIKey($input: CreateAPIKeyInput!) {
    createAPIKey(input: $input) {
      key
      apiKey {
        ...APIKeyFields
      }
    }
  }
`);

const UpdateAPIKey = graphql(`
  mutation UpdateAPIKey($id: ID!, $input: UpdateAPIKeyInput!) {
    updateAPIKey(id: $id, input: $input) {
      ...APIKeyFields
    }
  }
`);

const RotateAPIKey = graphql(`
  mutation RotateAPIKey($id: ID!) {
    rotateAPIKey(id: $id) {
      key
      apiKey {
        ...APIKeyFields
      }
    }
  }
`);

export const DeleteAPIKey = graphql(`
  mutation DeleteAPIKey($name: String!) {
    deleteAPIKey(name: $name)
  }
`);

type Limited = Partial<Pick<ApiKeyFieldsFragment, 'spend' | 'pace'>>;

/** A key's badge: disabled or expired, else blocked or warned by its
 * spend and pace against its effective limits or by its service's
 * (given with its own spend and pace), else active. */
export function keyStatus(k: Pick<ApiKeyFieldsFragment, 'isActive' | 'expiresAt'> & Limited, now = Date.now(), service?: ({ serviceName: string } & Limited) | null): Status {
  if (!k.isActive) return subjectStatus('disabled');
  if (k.expiresAt && new Date(k.expiresAt).getTime() <= now) return { ...subjectStatus('expired'), tone: 'bad' };
  const own = standing(k.spend, k.pace);
  return statusOf(null, service ? withService(own, standing(service.spend, service.pace), service.serviceName) : own);
}

/** How to call the gateway with a key of a service: its protocol (from
 * its provider) and a model it allows. */
function callTarget(service: { provider: string; modelsEnabled: readonly string[] } | undefined, providers: readonly { name: string; protocol: string }[]) {
  if (!service) return null;
  return { protocol: providers.find((p) => p.name === service.provider)?.protocol ?? 'openai', model: service.modelsEnabled[0] ?? 'MODEL' };
}

export function ApiKeys() {
  const canEdit = useCanEdit();
  const list = useSearchedPager();
  const { pager, searched } = list;
  const [{ data, fetching, error }, refetch] = useQuery({
    query: ApiKeysQuery,
    variables: { after: pager.after, search: searched || null },
    context: LIST_CONTEXT,
  });
  const [editing, setEditing] = useState<ApiKeyFieldsFragment | 'new' | null>(null);
  const [rotating, setRotating] = useState<ApiKeyFieldsFragment | null>(null);
  const [deleting, setDeleting] = useState<ApiKeyFieldsFragment | null>(null);
  const [secret, setSecret] = useState<{ key: string; serviceId?: string } | null>(null);
  const [rot, rotate] = useMutation(RotateAPIKey);
  const [del, deleteKey] = useMutation(DeleteAPIKey);
  const [, update] = useMutation(UpdateAPIKey);
  const keys = nodes(data?.apiKeys);
  const hasServices = nodes(data?.anyService).length > 0;
  useUsageRefresh(refetch, { resetsIn: nextReset(...keys.map((k) => k.pace), ...keys.map((k) => k.service?.pace)) });
  const onOff = useOnOff((k: ApiKeyFieldsFragment, isActive) => update({ id: k.id, input: { isActive } }), (k) => k.name);

  return (
    <Page
      title="API keys"
      intro="Keys your applications send to the gateway. Each calls one service, within its own budgets or the service's."
      actions={canEdit && <button type="button" className="primary" onClick={() => setEditing('new')} disabled={!hasServices}>New API key</button>}
    >
      <ListSearch label="Search keys" list={list} placeholder="name or sk_ prefix" hint="Keys whose name or key starts with this, exactly as typed." />
      {!data && fetching && <Loading what="Loading API keys" />}
      <ErrorNote problem={describeError(error)} />
      <ErrorNote problem={onOff.pageProblem} />
      {data && keys.length === 0 && searched && (
        <Empty title="No keys match">No key's name or key starts with “{searched}”.</Empty>
      )}
      {data && keys.length === 0 && !searched && (
        <Empty title="No API keys yet">
          {!hasServices ? 'Create a service first; keys call a service.' : canEdit ? 'Create a key and give it to your application.' : 'An admin has not created any keys yet.'}
        </Empty>
      )}
      {keys.length > 0 && (
        <ScrollBox label="API keys">
          <table>
            <thead>
              <tr>
                <th>Name</th><th>Key</th><th>Service</th><th>Status</th><th>Spend</th><th>Pace</th><th>Last used</th><th>Expires</th>
                {canEdit && <th><span className="sr-only">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => {
                const st = keyStatus(k, Date.now(), k.service);
                return (
                  <tr key={k.id}>
                    <td>{k.name}{k.description && <div className="muted small">{k.description}</div>}</td>
                    <td className="nowrap"><code>{k.keyPrefix}…{k.keyLastFour}</code></td>
                    <td>{k.service?.serviceName ?? '—'}</td>
                    <td><StatusBadge status={st} /></td>
                    <td><SpendGauges spend={k.spend} compact /></td>
                    <td>{k.pace.length ? <PaceMeters pace={k.pace} compact /> : <span className="muted">no limit</span>}</td>
                    <td title={formatTime(k.lastUsedAt)}>{k.lastUsedAt ? formatRelative(k.lastUsedAt) : 'never'}</td>
                    <td>{k.expiresAt ? formatTime(k.expiresAt) : 'never'}</td>
                    {canEdit && (
                      <td className="actions">
                        <button type="button" onClick={() => setEditing(k)} aria-label={`Edit ${k.name}`}>Edit</button>
                        {k.isActive ? (
                          <button type="button" onClick={() => onOff.disable(k)} aria-label={`Disable ${k.name}`}>Disable</button>
                        ) : (
                          <button type="button" onClick={() => onOff.enable(k)} disabled={onOff.busy} aria-label={`Enable ${k.name}`}>Enable</button>
                        )}
                        <button type="button" onClick={() => setRotating(k)}>Rotate</button>
                        <button type="button" className="danger" onClick={() => setDeleting(k)} aria-label={`Delete ${k.name}`}>Delete</button>
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollBox>
      )}
      {keys.length > 0 && (
        <Pager pager={{ ...pager, endCursor: data?.apiKeys.pageInfo.endCursor }} hasNext={!!data?.apiKeys.pageInfo.hasNextPage} total={data?.apiKeys.totalCount ?? 0} exact={data?.apiKeys.totalCountIsExact ?? true} shown={keys.length} />
      )}
      {editing && <KeyForm apiKey={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />}
      <Confirm {...onOff.confirmProps} title={`Disable ${onOff.asking?.name ?? ''}?`} confirmLabel="Disable key">
        <p>Applications using this key are refused from now on, until you enable it again. Its settings, budgets and usage stay.</p>
      </Confirm>
      <Confirm
        open={!!rotating}
        title={`Rotate ${rotating?.name ?? ''}?`}
        confirmLabel="Rotate key"
        busy={rot.fetching}
        problem={describeError(rot.error)}
        onClose={() => setRotating(null)}
        onConfirm={async () => {
          if (!rotating) return;
          const r = await rotate({ id: rotating.id });
          if (r.data) {
            setRotating(null);
            setSecret({ key: r.data.rotateAPIKey.key, serviceId: r.data.rotateAPIKey.apiKey.service?.id });
          }
        }}
      >
        <p>A new secret replaces the old one, which stops working at once. Settings and budgets stay.</p>
      </Confirm>
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
        <p>Applications using this key are refused from now on. Its recorded usage is kept.</p>
      </Confirm>
      <Dialog title="New secret" open={!!secret} onClose={() => setSecret(null)}>
        {secret && (
          <SecretReveal secret={secret.key} onDone={() => setSecret(null)}>
            {secret.serviceId && <CallWithService secret={secret.key} serviceId={secret.serviceId} />}
          </SecretReveal>
        )}
      </Dialog>
    </Page>
  );
}

/** How to call the gateway with a new secret of the key's service. */
function CallWithService({ secret, serviceId }: { secret: string; serviceId: string }) {
  const [{ data }] = useQuery({ query: KeyService, variables: { id: serviceId } });
  const target = callTarget(data?.service ?? undefined, data?.providers ?? []);
  return target && <CallGateway secret={secret} {...target} />;
}

/** The service a key form is for, and those it offers: the edited key's
 * own, or for a new key a searched page of the organization's (it may
 * have more than a list can show), the one chosen kept in the list while
 * the search changes. */
function useServiceChoice(apiKey: ApiKeyFieldsFragment | null) {
  const [search, setSearch] = useState('');
  const searched = useDeferredValue(search.trim());
  const ownId = apiKey?.service?.id;
  const [own] = useQuery({ query: KeyService, variables: { id: ownId ?? '' }, pause: !ownId });
  const [page] = useQuery({ query: KeyFormServices, variables: { search: searched || null }, pause: !!apiKey, context: LIST_CONTEXT });
  const [chosen, setChosen] = useState<ServiceOptionFieldsFragment | null>(null);
  const listed = ownId ? (own.data?.service ? [own.data.service] : []) : nodes(page.data?.services);
  const total = page.data?.services.totalCount ?? 0;
  const paged = searched !== '' || total > listed.length;
  // A new key of an organization with one service calls it.
  const service = ownId ? listed[0] : (chosen ?? (listed.length === 1 && !paged ? listed[0] : undefined));
  const options = chosen && !listed.some((s) => s.id === chosen.id) ? [chosen, ...listed] : listed;
  return {
    search,
    setSearch,
    paged,
    options,
    service,
    choose: (id: string) => setChosen(options.find((s) => s.id === id) ?? null),
    providers: (ownId ? own.data?.providers : page.data?.providers) ?? [],
  };
}

function KeyForm({ apiKey, onClose }: { apiKey: ApiKeyFieldsFragment | null; onClose: () => void }) {
  const [name, setName] = useState(apiKey?.name ?? '');
  const [description, setDescription] = useState(apiKey?.description ?? '');
  const choice = useServiceChoice(apiKey);
  const { service, providers } = choice;
  const serviceId = service?.id ?? '';
  const [expires, setExpires] = useState(toLocalInput(apiKey?.expiresAt));
  const [isActive, setIsActive] = useState(apiKey?.isActive ?? true);
  const [limits, setLimitTexts] = useState(limitTexts(apiKey));
  const [pace, setPaceTexts] = useState(paceTexts(apiKey));
  const [problem, setProblem] = useState<Problem>(noProblem);
  const [secret, setSecret] = useState<string | null>(null);
  const [create, createKey] = useMutation(CreateAPIKey);
  const [update, updateKey] = useMutation(UpdateAPIKey);
  const formRef = useRef<HTMLFormElement>(null);
  const fail = (p: Problem) => showProblem(setProblem, p, formRef.current);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const { limits: parsed, errors } = parseLimits(limits);
    const { pace: parsedPace, errors: paceErrors } = parsePace(pace);
    const fields: Record<string, string> = { ...errors, ...paceErrors };
    if (!name.trim()) fields.name = 'Give the key a name.';
    if (!apiKey && !serviceId) fields.serviceId = 'Pick the service this key calls.';
    const expiresAt = fromLocalInput(expires);
    if (expiresAt && new Date(expiresAt).getTime() <= Date.now()) fields.expiresAt = 'Pick a time in the future.';
    if (Object.keys(fields).length) return fail(fieldProblem(fields));
    const taken = `A key named “${name.trim()}” already exists.`;
    if (apiKey) {
      const r = await updateKey({ id: apiKey.id, input: { name: name.trim(), description, isActive, expiresAt, ...parsed, ...parsedPace } });
      if (r.error) return fail(withConflict(describeError(r.error), 'name', taken));
      onClose();
      return;
    }
    const r = await createKey(
      { input: { name: name.trim(), description, serviceId, isActive, ...(expiresAt ? { expiresAt } : {}), ...setLimits(parsed), ...setPace(parsedPace) } },
      { additionalTypenames: ['APIKey'] },
    );
    if (r.error) return fail(withConflict(describeError(r.error), 'name', taken));
    if (r.data) setSecret(r.data.createAPIKey.key);
  }

  const target = callTarget(service, providers);
  if (secret) {
    return (
      <Dialog title={`Key ${name} created`} open onClose={onClose}>
        <SecretReveal secret={secret} onDone={onClose}>
          {target && <CallGateway secret={secret} {...target} />}
        </SecretReveal>
      </Dialog>
    );
  }
  return (
    <Dialog title={apiKey ? `Edit ${apiKey.name}` : 'New API key'} open onClose={onClose} wide>
      <form ref={formRef} onSubmit={submit} onChange={clearOnChange(setProblem)} noValidate>
        <div className="grid-2">
          <TextField label="Name" name="name" value={name} onChange={(e) => setName(e.target.value)} error={problem.fields.name} hint="Unique in the organization." required />
          <div>
            {choice.paged && !apiKey && (
              <TextField label="Find a service" type="search" value={choice.search} onChange={(e) => choice.setSearch(e.target.value)} hint="Services whose name contains this." />
            )}
            <SelectField label="Service" name="serviceId" value={serviceId} onChange={(e) => choice.choose(e.target.value)} error={problem.fields.serviceId} disabled={!!apiKey}>
              <option value="">Choose a service…</option>
              {choice.options.map((s) => (
                <option key={s.id} value={s.id}>{s.serviceName}{s.active ? '' : ' (disabled)'}</option>
              ))}
            </SelectField>
          </div>
        </div>
        <TextField label="Description" name="description" value={description} onChange={(e) => setDescription(e.target.value)} error={problem.fields.description} />
        <div className="grid-2">
          <TextField label="Expires" name="expiresAt" type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} error={problem.fields.expiresAt} hint="Blank: never." />
          <CheckField label="Active" checked={isActive} onChange={setIsActive} />
        </div>
        <LimitsFields legend="Key budgets (blank inherits the service's)" texts={limits} onChange={setLimitTexts} errors={problem.fields} inherited={service ?? {}} />
        <PaceFields legend="Key pace (blank inherits the service's)" texts={pace} onChange={setPaceTexts} errors={problem.fields} inherited={service ?? {}} />
        <ErrorNote problem={problem} />
        <footer className="dialog-foot">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={create.fetching || update.fetching}>{apiKey ? 'Save changes' : 'Create key'}</button>
        </footer>
      </form>
    </Dialog>
  );
}
