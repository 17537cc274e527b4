// A service's routing targets: the credentials it spreads its
// traffic over, by weight and in order, with each one's live state.
import { useEffect, useId, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { ServiceTargetFieldsFragment } from '../gql/graphql';
import { nodes } from '../connection';
import { describeError, noProblem, withConflict, type Problem } from '../errors';
import { maskKey } from '../format';
import { useNow } from '../liveusage';
import { modelMapRows, moveTarget, parseModelMap, parseWeight, targetStatus, type MapRow } from '../targets';
import { Badge, CheckField, Confirm, Dialog, ErrorNote, Loading, ScrollBox, SelectField, TextField } from '../ui';
import { ProvidersAndCredentials } from './Services';

export const ServiceTargetFields = graphql(`
  fragment ServiceTargetFields on ServiceTarget {
    id
    position
    weight
    enabled
    modelMap
    credential {
      id
      displayName
      provider
      apiKeyLastFour
    }
    state {
      healthy
      coolingDownUntil
      lastError
      consecutiveFailures
    }
  }
`);

const ServiceTargetsQuery = graphql(`
  query ServiceTargets($id: ID!) {
    service(id: $id) {
      id
      provider
      targets {
        ...ServiceTargetFields
      }
    }
  }
`);

const AddServiceTarget = graphql(`
  mutation AddServiceTarget($serviceId: ID!, $input: AddServiceTargetInput!) {
    addServiceTarget(serviceId: $serviceId, input: $input) {
      ...ServiceTargetFields
    }
  }
`);

const UpdateServiceTarget = graphql(`
  mutation UpdateServiceTarget($id: ID!, $input: UpdateServiceTargetInput!) {
    updateServiceTarget(id: $id, input: $input) {
      ...ServiceTargetFields
    }
  }
`);

const RemoveServiceTarget = graphql(`
  mutation RemoveServiceTarget($id: ID!) {
    removeServiceTarget(id: $id)
  }
`);

const ReorderServiceTargets = graphql(`
  mutation ReorderServiceTargets($serviceId: ID!, $targetIds: [ID!]!) {
    reorderServiceTargets(serviceId: $serviceId, targetIds: $targetIds) {
      ...ServiceTargetFields
    }
  }
`);

// Queries refetch after any target mutation, even while the list is empty.
const TARGETS_CONTEXT = { additionalTypenames: ['ServiceTarget', 'Service'] };
const CREDENTIALS_CONTEXT = { additionalTypenames: ['ProviderCredential'] };
const POLL_MS = 5000;

export const NO_TARGETS = "No extra targets: requests use the service's credential. Add a target to spread traffic or fail over.";

type Target = ServiceTargetFieldsFragment;

function credentialLabel(t: Target): string {
  return `${t.credential.displayName} (${maskKey(t.credential.apiKeyLastFour)})`;
}

function CredentialCell({ target }: { target: Target }) {
  return (
    <span>
      {target.credential.displayName} <span className="nowrap">({maskKey(target.credential.apiKeyLastFour)})</span>
    </span>
  );
}

/** A target's live state: a badge, the cool-down countdown and the last error. */
export function TargetState({ target, now }: { target: Target; now: number }) {
  const s = targetStatus(target, now);
  return (
    <div className="target-state" data-testid="target-state">
      <Badge tone={s.tone}>{s.label}</Badge>
      {s.detail && <div className="small muted">{s.detail}</div>}
      {target.state.lastError && <div className="small field-error">Last error: {target.state.lastError}</div>}
    </div>
  );
}

function ModelMapCell({ map }: { map: Record<string, unknown> }) {
  const rows = modelMapRows(map);
  if (rows.length === 0) return <span className="muted">as named</span>;
  return (
    <ul className="plain small">
      {rows.map((r) => (
        <li key={r.client}>
          <code>{r.client}</code> → <code>{r.upstream}</code>
        </li>
      ))}
    </ul>
  );
}

/** The targets, read only: what members see, on the service card. */
export function TargetsList({ targets }: { targets: readonly Target[] }) {
  const now = useNow();
  if (targets.length === 0) return null;
  return (
    <ScrollBox label="Targets">
      <table className="stack targets" aria-label="Targets">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Credential</th>
            <th scope="col" className="num">Weight</th>
            <th scope="col">Model map</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {targets.map((t, i) => (
            <tr key={t.id}>
              <td data-label="#">{i + 1}</td>
              <td data-label="Credential"><CredentialCell target={t} /></td>
              <td data-label="Weight" className="num">{t.weight}</td>
              <td data-label="Model map"><ModelMapCell map={t.modelMap} /></td>
              <td data-label="State"><TargetState target={t} now={now} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollBox>
  );
}

/** The editable Targets section of the service edit dialog; members get it read only. */
export function ServiceTargets({ serviceId, provider, canEdit }: { serviceId: string; provider: string; canEdit: boolean }) {
  const [{ data, fetching, error }, refetch] = useQuery({ query: ServiceTargetsQuery, variables: { id: serviceId }, context: TARGETS_CONTEXT });
  const [, updateTarget] = useMutation(UpdateServiceTarget);
  const [reorder, reorderTargets] = useMutation(ReorderServiceTargets);
  const [removal, removeTarget] = useMutation(RemoveServiceTarget);
  const [editing, setEditing] = useState<Target | 'new' | null>(null);
  const [removing, setRemoving] = useState<Target | null>(null);
  const [weights, setWeights] = useState<Record<string, string>>({});
  const [weightErrors, setWeightErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<Problem>(noProblem);
  const now = useNow();
  const headingId = useId();
  const targets = data?.service?.targets ?? [];

  // The state lives in the gateway's memory: ask again while the dialog is open.
  useEffect(() => {
    const t = window.setInterval(() => refetch({ requestPolicy: 'network-only' }), POLL_MS);
    return () => window.clearInterval(t);
  }, [refetch]);

  async function setWeight(e: FormEvent, t: Target) {
    e.preventDefault();
    const parsed = parseWeight(weights[t.id] ?? String(t.weight));
    if (parsed.value == null) {
      setWeightErrors({ ...weightErrors, [t.id]: parsed.error ?? '' });
      return;
    }
    const r = await updateTarget({ id: t.id, input: { weight: parsed.value } });
    const p = describeError(r.error);
    setWeightErrors({ ...weightErrors, [t.id]: p.fields.weight ?? p.message ?? '' });
    if (!r.error) {
      const rest = { ...weights };
      delete rest[t.id];
      setWeights(rest);
    }
  }

  async function toggle(t: Target) {
    const r = await updateTarget({ id: t.id, input: { enabled: !t.enabled } });
    setProblem(describeError(r.error));
  }

  async function move(t: Target, delta: -1 | 1) {
    const ids = moveTarget(targets.map((x) => x.id), t.id, delta);
    if (!ids) return;
    const r = await reorderTargets({ serviceId, targetIds: ids });
    const p = describeError(r.error);
    setProblem(p.fields.targetIds ? { ...p, message: p.fields.targetIds } : p);
    // The row moved: keep the keyboard on its button (or its other one at an end).
    const at = ids.indexOf(t.id);
    const dir = (delta < 0 && at === 0) || (delta > 0 && at === ids.length - 1) ? (delta < 0 ? 'down' : 'up') : delta < 0 ? 'up' : 'down';
    window.setTimeout(() => document.getElementById(`${headingId}-${dir}-${t.id}`)?.focus(), 0);
  }

  return (
    <section className="targets-section" aria-labelledby={headingId}>
      <div className="card-head">
        <h3 id={headingId}>Targets</h3>
        {canEdit && (
          <button type="button" onClick={() => setEditing('new')}>
            Add target
          </button>
        )}
      </div>
      <p className="muted small">
        Traffic is spread by weight over the healthy, enabled targets; a target that is rate-limited or failing is skipped while it cools down, and a request fails over to the next one before its first byte.
        {canEdit && ' Changes here apply at once.'}
      </p>
      {!data && fetching && <Loading what="Loading targets" />}
      <ErrorNote problem={describeError(error)} />
      <ErrorNote problem={problem} />
      {data && targets.length === 0 && <p className="empty-inline" data-testid="no-targets">{NO_TARGETS}</p>}
      {targets.length > 0 && (
        <ScrollBox label="Targets">
          <table className="stack targets" aria-labelledby={headingId}>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Credential</th>
                <th scope="col">Weight</th>
                <th scope="col">Enabled</th>
                <th scope="col">Model map</th>
                <th scope="col">State</th>
                {canEdit && <th scope="col"><span className="sr-only">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {targets.map((t, i) => {
                const name = t.credential.displayName;
                const werr = weightErrors[t.id];
                const wid = `${headingId}-w-${t.id}`;
                return (
                  <tr key={t.id} data-testid="target-row">
                    <td data-label="#">{i + 1}</td>
                    <td data-label="Credential"><CredentialCell target={t} /></td>
                    <td data-label="Weight">
                      {canEdit ? (
                        <div>
                          <form className="inline-form" onSubmit={(e) => setWeight(e, t)} noValidate>
                            <input
                              id={wid}
                              type="number"
                              inputMode="numeric"
                              min={1}
                              aria-label={`Weight of ${name}`}
                              aria-invalid={!!werr}
                              aria-describedby={werr ? `${wid}-err` : undefined}
                              value={weights[t.id] ?? String(t.weight)}
                              onChange={(e) => setWeights({ ...weights, [t.id]: e.target.value })}
                            />
                            <button type="submit" aria-label={`Set weight of ${name}`} disabled={weights[t.id] == null || weights[t.id] === String(t.weight)}>
                              Set
                            </button>
                          </form>
                          {werr && <small id={`${wid}-err`} className="field-error">{werr}</small>}
                        </div>
                      ) : (
                        t.weight
                      )}
                    </td>
                    <td data-label="Enabled">
                      {canEdit ? (
                        <label className="nowrap">
                          <input type="checkbox" checked={t.enabled} onChange={() => toggle(t)} aria-label={`${name} enabled`} /> {t.enabled ? 'on' : 'off'}
                        </label>
                      ) : t.enabled ? (
                        'on'
                      ) : (
                        'off'
                      )}
                    </td>
                    <td data-label="Model map"><ModelMapCell map={t.modelMap} /></td>
                    <td data-label="State"><TargetState target={t} now={now} /></td>
                    {canEdit && (
                      <td data-label="Actions">
                        <div className="row-actions">
                          <button type="button" id={`${headingId}-up-${t.id}`} aria-label={`Move ${name} up`} title="Move up" disabled={i === 0 || reorder.fetching} onClick={() => move(t, -1)}>↑</button>
                          <button type="button" id={`${headingId}-down-${t.id}`} aria-label={`Move ${name} down`} title="Move down" disabled={i === targets.length - 1 || reorder.fetching} onClick={() => move(t, 1)}>↓</button>
                          <button type="button" aria-label={`Change ${name}`} onClick={() => setEditing(t)}>Change</button>
                          <button type="button" className="danger" aria-label={`Remove ${name}`} onClick={() => setRemoving(t)}>Remove</button>
                        </div>
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollBox>
      )}
      {canEdit && editing && (
        <TargetForm serviceId={serviceId} provider={provider} target={editing === 'new' ? null : editing} taken={targets.map((t) => t.credential.id)} onClose={() => setEditing(null)} />
      )}
      {canEdit && (
        <Confirm
          open={!!removing}
          title={`Remove ${removing?.credential.displayName ?? ''} from the targets?`}
          confirmLabel="Remove target"
          busy={removal.fetching}
          problem={describeError(removal.error)}
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            if (!removing) return;
            const r = await removeTarget({ id: removing.id }, TARGETS_CONTEXT);
            if (!r.error) setRemoving(null);
          }}
        >
          <p>
            {targets.length === 1
              ? 'It is the last target: the service goes back to calling its own credential.'
              : 'Its traffic goes to the other targets at once. The credential itself is kept.'}
          </p>
        </Confirm>
      )}
    </section>
  );
}

const blankRow = (): MapRow => ({ client: '', upstream: '' });

/** Adds a target (a credential of the service's provider) or changes one. */
function TargetForm({ serviceId, provider, target, taken, onClose }: { serviceId: string; provider: string; target: Target | null; taken: string[]; onClose: () => void }) {
  const [{ data, fetching }] = useQuery({ query: ProvidersAndCredentials, context: CREDENTIALS_CONTEXT });
  const credentials = nodes(data?.providerCredentials).filter((c) => c.provider === provider && !taken.includes(c.id));
  const [credentialId, setCredentialId] = useState('');
  const [weight, setWeight] = useState(String(target?.weight ?? 1));
  const [enabled, setEnabled] = useState(target?.enabled ?? true);
  const [rows, setRows] = useState<MapRow[]>(() => {
    const r = modelMapRows(target?.modelMap);
    return r.length ? r : [];
  });
  const [rowErrors, setRowErrors] = useState<Record<number, string>>({});
  const [problem, setProblem] = useState<Problem>(noProblem);
  const [add, addTarget] = useMutation(AddServiceTarget);
  const [upd, updateTarget] = useMutation(UpdateServiceTarget);
  const formId = useId();

  function setRow(i: number, patch: Partial<MapRow>) {
    setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    const fields: Record<string, string> = {};
    if (!target && !credentialId) fields.credentialId = 'Pick a credential.';
    const w = parseWeight(weight);
    if (w.error) fields.weight = w.error;
    const mm = parseModelMap(rows);
    setRowErrors(mm.errors);
    if (Object.keys(mm.errors).length) fields.modelMap = 'Fix the model names marked above.';
    if (Object.keys(fields).length) {
      setProblem({ message: 'Check the fields marked below.', fields, code: 'BAD_USER_INPUT' });
      return;
    }
    const r = target
      ? await updateTarget({ id: target.id, input: { weight: w.value, enabled, modelMap: mm.map } })
      : await addTarget({ serviceId, input: { credentialId, weight: w.value, enabled, modelMap: mm.map } }, TARGETS_CONTEXT);
    if (r.error) {
      setProblem(withConflict(describeError(r.error), 'credentialId'));
      return;
    }
    onClose();
  }

  return (
    <Dialog title={target ? `Change target ${target.credential.displayName}` : 'Add a target'} open onClose={onClose}>
      <form id={formId} onSubmit={submit} noValidate>
        {target ? (
          <p>
            Credential: <strong>{credentialLabel(target)}</strong>
          </p>
        ) : (
          <SelectField
            label="Credential"
            value={credentialId}
            onChange={(e) => setCredentialId(e.target.value)}
            error={problem.fields.credentialId ?? problem.fields.serviceId}
            hint={!fetching && credentials.length === 0 ? `Every saved ${provider} credential is a target already: add another on the Provider credentials screen.` : `A saved credential of the service's provider (${provider}).`}
          >
            <option value="">Choose…</option>
            {credentials.map((c) => (
              <option key={c.id} value={c.id}>
                {c.displayName} ({maskKey(c.apiKeyLastFour)})
              </option>
            ))}
          </SelectField>
        )}
        <TextField label="Weight" type="number" inputMode="numeric" min={1} value={weight} onChange={(e) => setWeight(e.target.value)} error={problem.fields.weight} hint="Its share of the traffic relative to the other targets." />
        <CheckField label="Enabled" checked={enabled} onChange={setEnabled} hint="A disabled target gets no traffic." />
        <fieldset>
          <legend>Model map (optional)</legend>
          <p className="hint">The name this upstream knows a model by, e.g. an Azure deployment name. Models not listed are sent as the client named them.</p>
          {rows.map((r, i) => (
            <div key={i} className="map-row" role="group" aria-label={`Mapping ${i + 1}`}>
              <TextField label="Client model" value={r.client} onChange={(e) => setRow(i, { client: e.target.value })} error={rowErrors[i]} placeholder="gpt-4o" />
              <span aria-hidden="true" className="map-arrow">→</span>
              <TextField label="Upstream model" value={r.upstream} onChange={(e) => setRow(i, { upstream: e.target.value })} placeholder="my-deployment" />
              <button type="button" className="danger" aria-label={`Remove mapping ${i + 1}`} onClick={() => { setRows(rows.filter((_, j) => j !== i)); setRowErrors({}); }}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" onClick={() => setRows([...rows, blankRow()])}>
            Add a mapping
          </button>
          {problem.fields.modelMap && <p className="field-error" role="alert">{problem.fields.modelMap}</p>}
        </fieldset>
        <ErrorNote problem={problem} />
        <footer className="dialog-foot">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={add.fetching || upd.fetching}>
            {target ? 'Save target' : 'Add target'}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}
