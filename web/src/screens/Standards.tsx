import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { StandardsQuery } from '../gql/graphql';
import { describeError, noProblem, withConflict, type Problem } from '../errors';
import { useViewer } from '../viewer';
import { Confirm, Dialog, Empty, ErrorNote, Loading, Page, ScrollBox, SelectField, TextField } from '../ui';

// Lists refetch when a mutation touches these types, even while empty.
const LIST_CONTEXT = { additionalTypenames: ['APIStandard'] };

const StandardsQueryDoc = graphql(`
  query Standards {
    apiStandards {
      id
      apiStandardHandle
      description
      keyMethod
      keyField
    }
  }
`);

const CreateStandard = graphql(`
  mutation CreateAPIStandard($input: CreateAPIStandardInput!) {
    createAPIStandard(input: $input) {
      id
      apiStandardHandle
      description
      keyMethod
      keyField
    }
  }
`);

const UpdateStandard = graphql(`
  mutation UpdateAPIStandard($handle: String!, $input: UpdateAPIStandardInput!) {
    updateAPIStandard(handle: $handle, input: $input) {
      id
      apiStandardHandle
      description
      keyMethod
      keyField
    }
  }
`);

const DeleteStandard = graphql(`
  mutation DeleteAPIStandard($handle: String!) {
    deleteAPIStandard(handle: $handle)
  }
`);

type Standard = StandardsQuery['apiStandards'][number];

export const KEY_METHODS: Record<string, string> = {
  auth_bearer: 'Authorization: Bearer <key>',
  auth_apikey: 'the key in a header',
  query_param: 'the key in a query parameter',
  none: 'no authentication',
};

export function Standards() {
  const viewer = useViewer();
  // Standards are shared by the whole instance: admins of the default organization manage them.
  const canEdit = viewer.role === 'admin' && viewer.isInstanceAdmin;
  const [{ data, fetching, error }] = useQuery({ query: StandardsQueryDoc , context: LIST_CONTEXT });
  const [editing, setEditing] = useState<Standard | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Standard | null>(null);
  const [del, deleteStandard] = useMutation(DeleteStandard);
  const standards = data?.apiStandards ?? [];
  return (
    <Page
      title="API standards"
      intro="How the gateway authenticates to an upstream provider. Credentials pick one; providers have a default."
      actions={canEdit && <button type="button" className="primary" onClick={() => setEditing('new')}>New standard</button>}
    >
      {!data && fetching && <Loading what="Loading API standards" />}
      <ErrorNote problem={describeError(error)} />
      {data && standards.length === 0 && <Empty title="No API standards">Create one for the way your provider expects its key.</Empty>}
      {standards.length > 0 && (
        <ScrollBox label="API standards">
          <table>
            <thead>
              <tr>
                <th>Handle</th><th>Key method</th><th>Key field</th><th>Description</th>
                {canEdit && <th><span className="sr-only">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {standards.map((s) => (
                <tr key={s.id}>
                  <td><code>{s.apiStandardHandle}</code></td>
                  <td>{s.keyMethod}<div className="muted small">{KEY_METHODS[s.keyMethod]}</div></td>
                  <td>{s.keyField ? <code>{s.keyField}</code> : '—'}</td>
                  <td className="small">{s.description}</td>
                  {canEdit && (
                    <td className="actions">
                      <button type="button" onClick={() => setEditing(s)} aria-label={`Edit ${s.apiStandardHandle}`}>Edit</button>
                      <button type="button" className="danger" onClick={() => setDeleting(s)} aria-label={`Delete ${s.apiStandardHandle}`}>Delete</button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      )}
      {editing && <StandardForm standard={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />}
      <Confirm
        open={!!deleting}
        title={`Delete ${deleting?.apiStandardHandle ?? ''}?`}
        confirmLabel="Delete standard"
        busy={del.fetching}
        problem={describeError(del.error)}
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          const r = await deleteStandard({ handle: deleting.apiStandardHandle }, { additionalTypenames: ['APIStandard'] });
          if (!r.error) setDeleting(null);
        }}
      >
        <p>A standard that provider credentials use cannot be deleted.</p>
      </Confirm>
    </Page>
  );
}

function StandardForm({ standard, onClose }: { standard: Standard | null; onClose: () => void }) {
  const [handle, setHandle] = useState(standard?.apiStandardHandle ?? '');
  const [description, setDescription] = useState(standard?.description ?? '');
  const [keyMethod, setKeyMethod] = useState<string>(standard?.keyMethod ?? 'auth_bearer');
  const [keyField, setKeyField] = useState(standard?.keyField ?? 'Authorization');
  const [problem, setProblem] = useState<Problem>(noProblem);
  const [create, createStandard] = useMutation(CreateStandard);
  const [update, updateStandard] = useMutation(UpdateStandard);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const fields: Record<string, string> = {};
    if (!handle.trim()) fields.apiStandardHandle = 'Give the standard a handle, e.g. my-provider.';
    if (keyMethod !== 'none' && !keyField.trim()) fields.keyField = 'Name the header or query parameter that carries the key.';
    if (Object.keys(fields).length) return setProblem({ message: null, fields, code: 'BAD_USER_INPUT' });
    const field = keyMethod === 'none' ? '' : keyField.trim();
    const r = standard
      ? await updateStandard({ handle: standard.apiStandardHandle, input: { description, keyMethod, keyField: field } })
      : await createStandard({ input: { apiStandardHandle: handle.trim(), description, keyMethod, keyField: field } }, { additionalTypenames: ['APIStandard'] });
    if (r.error) return setProblem(withConflict(describeError(r.error), 'apiStandardHandle'));
    onClose();
  }

  return (
    <Dialog title={standard ? `Edit ${standard.apiStandardHandle}` : 'New API standard'} open onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <TextField label="Handle" value={handle} onChange={(e) => setHandle(e.target.value)} error={problem.fields.apiStandardHandle} disabled={!!standard} required />
        <TextField label="Description" value={description} onChange={(e) => setDescription(e.target.value)} error={problem.fields.description} hint="What it is, with the provider's API documentation URL." />
        <SelectField label="Key method" value={keyMethod} onChange={(e) => setKeyMethod(e.target.value)} error={problem.fields.keyMethod}>
          {Object.entries(KEY_METHODS).map(([m, text]) => (
            <option key={m} value={m}>{m}: {text}</option>
          ))}
        </SelectField>
        {keyMethod !== 'none' && (
          <TextField label="Key field" value={keyField} onChange={(e) => setKeyField(e.target.value)} error={problem.fields.keyField} hint="Header or query parameter, e.g. Authorization, x-api-key, key." />
        )}
        <ErrorNote problem={problem} />
        <footer className="dialog-foot">
          <button type="button" onClick={onClose}>Cancel</button>
          <button type="submit" className="primary" disabled={create.fetching || update.fetching}>{standard ? 'Save changes' : 'Create standard'}</button>
        </footer>
      </form>
    </Dialog>
  );
}
