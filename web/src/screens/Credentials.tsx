import { useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { CredentialFieldsFragment } from '../gql/graphql';
import { nodes } from '../connection';
import { clearOnChange, describeError, fieldProblem, noProblem, withConflict, type Problem } from '../errors';
import { maskKey } from '../format';
import { ProviderUsageView, ProviderWindows, TestCredentialMutation, useProviderUsage } from '../liveusage';
import { useCanEdit } from '../viewer';
import { Badge, CheckField, Confirm, Dialog, Empty, ErrorNote, Loading, Page, ScrollBox, SelectField, showProblem, TextField } from '../ui';
import { ProvidersAndCredentials } from './Services';

// Lists refetch when a mutation touches these types, even while empty.
const LIST_CONTEXT = { additionalTypenames: ['ProviderCredential', 'APIStandard'] };

graphql(`
  fragment CredentialFields on ProviderCredential {
    id
    provider
    accountKey
    displayName
    apiKeyLastFour
    hasApiKey
    baseUrl
    apiStandardHandle
    active
    services {
      totalCount
    }
  }
`);

const CredentialsQuery = graphql(`
  query Credentials {
    providerCredentials(first: 200, orderBy: { field: DISPLAY_NAME }) {
      edges {
        node {
          ...CredentialFields
        }
      }
    }
    apiStandards {
      apiStandardHandle
    }
  }
`);

const CreateCredential = graphql(`
  mutation CreateProviderCredential($input: CreateProviderCredentialInput!) {
    createProviderCredential(input: $input) {
      ...CredentialFields
    }
  }
`);

const UpdateCredential = graphql(`
  mutation UpdateProviderCredential($id: ID!, $input: UpdateProviderCredentialInput!) {
    updateProviderCredential(id: $id, input: $input) {
      ...CredentialFields
    }
  }
`);

const DeleteCredential = graphql(`
  mutation DeleteProviderCredential($id: ID!) {
    deleteProviderCredential(id: $id)
  }
`);

export function Credentials() {
  const canEdit = useCanEdit();
  const [{ data, fetching, error }] = useQuery({ query: CredentialsQuery , context: LIST_CONTEXT });
  const [editing, setEditing] = useState<CredentialFieldsFragment | 'new' | null>(null);
  const [deleting, setDeleting] = useState<CredentialFieldsFragment | null>(null);
  const [watching, setWatching] = useState<CredentialFieldsFragment | null>(null);
  const [del, deleteCredential] = useMutation(DeleteCredential);
  const creds = nodes(data?.providerCredentials);
  const standards = data?.apiStandards.map((s) => s.apiStandardHandle) ?? [];

  return (
    <Page
      title="Provider credentials"
      intro="Provider accounts and their keys. Keys are encrypted at rest and never shown again: only their last four characters."
      actions={canEdit && <button type="button" className="primary" onClick={() => setEditing('new')}>New credential</button>}
    >
      {!data && fetching && <Loading what="Loading credentials" />}
      <ErrorNote problem={describeError(error)} />
      {data && creds.length === 0 && (
        <Empty title="No provider credentials yet">
          {canEdit ? 'Add a provider account here, or enter a provider key when you create a service.' : 'An admin has not added any provider accounts yet.'}
        </Empty>
      )}
      {creds.length > 0 && (
        <ScrollBox label="Provider credentials">
          <table>
            <thead>
              <tr>
                <th>Name</th><th>Provider</th><th>Key</th><th>Base URL and standard</th><th>Status</th><th>Provider windows</th><th className="num">Services</th>
                <th><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {creds.map((c) => (
                <tr key={c.id}>
                  <td>{c.displayName}{c.displayName !== c.accountKey && <div className="muted small">{c.accountKey}</div>}</td>
                  <td>{c.provider}</td>
                  <td className="nowrap"><code data-testid="masked-key">{c.hasApiKey ? maskKey(c.apiKeyLastFour) : 'no key'}</code></td>
                  <td className="small">
                    {c.baseUrl ?? <span className="muted">default</span>}
                    {c.apiStandardHandle && <div className="muted">{c.apiStandardHandle}</div>}
                  </td>
                  <td>{c.active ? <Badge tone="ok">active</Badge> : <Badge tone="warn">inactive</Badge>}</td>
                  <td><ProviderWindows credentialId={c.id} /></td>
                  <td className="num">{c.services.totalCount}</td>
                  <td className="actions">
                    <button type="button" onClick={() => setWatching(c)}>Live usage</button>
                    {canEdit && (
                      <>
                        <button type="button" onClick={() => setEditing(c)} aria-label={`Edit ${c.displayName}`}>Edit</button>
                        <button type="button" className="danger" onClick={() => setDeleting(c)} aria-label={`Delete ${c.displayName}`}>Delete</button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      )}
      {watching && <LiveUsageDialog credential={watching} onClose={() => setWatching(null)} />}
      {editing && <CredentialForm credential={editing === 'new' ? null : editing} standards={standards} onClose={() => setEditing(null)} />}
      <Confirm
        open={!!deleting}
        title={`Delete ${deleting?.displayName ?? ''}?`}
        confirmLabel="Delete credential"
        busy={del.fetching}
        problem={describeError(del.error)}
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          const r = await deleteCredential({ id: deleting.id }, { additionalTypenames: ['ProviderCredential'] });
          if (!r.error) setDeleting(null);
        }}
      >
        <p>The encrypted key is deleted. A credential that services still use cannot be deleted.</p>
      </Confirm>
    </Page>
  );
}

function LiveUsageDialog({ credential, onClose }: { credential: CredentialFieldsFragment; onClose: () => void }) {
  const [refresh, setRefresh] = useState(false);
  const { usage, fetching, error, ask } = useProviderUsage(credential.id, refresh);
  return (
    <Dialog title={`Live usage: ${credential.displayName}`} open onClose={onClose}>
      <div className="dialog-body">
        {!usage && fetching && <Loading what="Asking the provider" />}
        <ErrorNote problem={describeError(error)} />
        {usage && <ProviderUsageView usage={usage} />}
      </div>
      <footer className="dialog-foot">
        <button type="button" disabled={fetching} onClick={() => (refresh ? ask({ requestPolicy: 'network-only' }) : setRefresh(true))}>
          {fetching ? 'Refreshing…' : 'Refresh'}
        </button>
        <button type="button" className="primary" onClick={onClose}>Close</button>
      </footer>
    </Dialog>
  );
}

function CredentialForm({ credential, standards, onClose }: { credential: CredentialFieldsFragment | null; standards: string[]; onClose: () => void }) {
  const [{ data }] = useQuery({ query: ProvidersAndCredentials, context: LIST_CONTEXT });
  const providers = data?.providers ?? [];
  const [provider, setProvider] = useState(credential?.provider ?? '');
  const [accountKey, setAccountKey] = useState(credential?.accountKey ?? '');
  const [displayName, setDisplayName] = useState(credential?.displayName ?? '');
  const [providerApiKey, setProviderApiKey] = useState('');
  const [clearKey, setClearKey] = useState(false);
  const [baseUrl, setBaseUrl] = useState(credential?.baseUrl ?? '');
  const [standard, setStandard] = useState(credential?.apiStandardHandle ?? '');
  const [active, setActive] = useState(credential?.active ?? true);
  const [problem, setProblem] = useState<Problem>(noProblem);
  const [create, createCredential] = useMutation(CreateCredential);
  const [update, updateCredential] = useMutation(UpdateCredential);
  const [test, testCredential] = useMutation(TestCredentialMutation);
  const info = providers.find((p) => p.name === provider);
  const formRef = useRef<HTMLFormElement>(null);
  const fail = (p: Problem) => showProblem(setProblem, p, formRef.current);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const fields: Record<string, string> = {};
    if (!provider) fields.provider = 'Pick a provider.';
    if (!accountKey.trim()) fields.accountKey = 'Name the account, e.g. default or team-a.';
    if (Object.keys(fields).length) return fail(fieldProblem(fields));
    const r = credential
      ? await updateCredential({
          id: credential.id,
          input: {
            displayName: displayName || undefined,
            baseUrl,
            apiStandardHandle: standard || undefined,
            active,
            ...(clearKey ? { providerApiKey: '' } : providerApiKey ? { providerApiKey } : {}),
          },
        })
      : await createCredential(
          {
            input: {
              provider,
              accountKey: accountKey.trim(),
              displayName: displayName || undefined,
              providerApiKey: providerApiKey || undefined,
              baseUrl: baseUrl || undefined,
              apiStandardHandle: standard || undefined,
              active,
            },
          },
          { additionalTypenames: ['ProviderCredential'] },
        );
    if (r.error) return fail(withConflict(describeError(r.error), 'accountKey', `${info?.displayName ?? provider} already has a credential for the account “${accountKey.trim()}”.`));
    onClose();
  }

  return (
    <Dialog title={credential ? `Edit ${credential.displayName}` : 'New provider credential'} open onClose={onClose} wide>
      <form ref={formRef} onSubmit={submit} onChange={clearOnChange(setProblem)} noValidate>
        <div className="grid-2">
          <SelectField label="Provider" name="provider" value={provider} onChange={(e) => setProvider(e.target.value)} error={problem.fields.provider} disabled={!!credential}>
            <option value="">Choose a provider…</option>
            {providers.map((p) => (
              <option key={p.name} value={p.name}>{p.displayName}</option>
            ))}
          </SelectField>
          <TextField label="Account" name="accountKey" value={accountKey} onChange={(e) => setAccountKey(e.target.value)} error={problem.fields.accountKey} hint="Names this account among the provider's." disabled={!!credential} />
          <TextField label="Display name" name="displayName" value={displayName} onChange={(e) => setDisplayName(e.target.value)} error={problem.fields.displayName} placeholder={accountKey || 'defaults to the account'} />
          <TextField
            label={credential ? 'New provider key (blank keeps the current one)' : 'Provider API key'}
            type="password"
            name="providerApiKey"
            autoComplete="off"
            value={providerApiKey}
            disabled={clearKey}
            onChange={(e) => setProviderApiKey(e.target.value)}
            error={problem.fields.providerApiKey}
            hint={credential?.hasApiKey ? `Current key ${maskKey(credential.apiKeyLastFour)}.` : 'Encrypted at rest and never shown again.'}
          />
          <TextField label="Base URL" name="baseUrl" type="url" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} error={problem.fields.baseUrl} placeholder={info?.defaultBaseUrl ?? 'https://…'} hint={provider === 'custom' ? 'Required for custom providers.' : 'Blank: the provider default.'} />
          <SelectField label="API standard" name="apiStandardHandle" value={standard} onChange={(e) => setStandard(e.target.value)} error={problem.fields.apiStandardHandle} hint="How requests authenticate upstream.">
            <option value="">{info ? `Provider default (${info.apiStandardHandle})` : 'Provider default'}</option>
            {standards.map((s) => (
              <option key={s} value={s}>{s}</option>
            ))}
          </SelectField>
        </div>
        {credential?.hasApiKey && <CheckField label="Remove the stored key" checked={clearKey} onChange={setClearKey} />}
        <CheckField label="Active" checked={active} onChange={setActive} />
        <div className="row">
          <button
            type="button"
            disabled={!provider || !providerApiKey || test.fetching}
            onClick={() => testCredential({ input: { provider, accountKey: accountKey || undefined, providerApiKey, baseUrl: baseUrl || undefined, apiStandardHandle: standard || undefined } })}
          >
            {test.fetching ? 'Testing…' : 'Test key'}
          </button>
          <span className="muted small">Checks the key against the provider without saving it.</span>
        </div>
        <ErrorNote problem={describeError(test.error)} />
        {test.data && <ProviderUsageView usage={test.data.testProviderCredential} />}
        <ErrorNote problem={problem} />
        <footer className="dialog-foot">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={create.fetching || update.fetching}>{credential ? 'Save changes' : 'Save credential'}</button>
        </footer>
      </form>
    </Dialog>
  );
}
