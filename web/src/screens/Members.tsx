import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import { describeError, noProblem, type Problem } from '../errors';
import { formatRelative, formatTime } from '../format';
import { useCanEdit, useViewer } from '../viewer';
import { Badge, Confirm, ErrorNote, Loading, ScrollBox, SecretReveal, SelectField, TextField } from '../ui';
import { RequireTwoFactorCard, ResetTwoFactorButton } from './TwoFactor';

// Lists refetch when a mutation touches these types, even while empty.
const LIST_CONTEXT = { additionalTypenames: ['Member', 'Invitation', 'CreatedInvitation'] };

const MembersQuery = graphql(`
  query Members {
    members {
      userId
      username
      role
      joinedAt
      lastLoginAt
      isViewer
      twoFactorEnabled
    }
  }
`);

const InvitationsQuery = graphql(`
  query Invitations {
    invitations {
      id
      role
      note
      createdAt
      expiresAt
      acceptedAt
      revokedAt
    }
  }
`);

const CreateInvitation = graphql(`
  mutation CreateInvitation($role: Role!, $note: String) {
    createInvitation(role: $role, note: $note) {
      token
      invitation {
        id
      }
    }
  }
`);

const RevokeInvitation = graphql(`
  mutation RevokeInvitation($id: ID!) {
    revokeInvitation(id: $id)
  }
`);

const UpdateMemberRole = graphql(`
  mutation UpdateMemberRole($userId: ID!, $role: Role!) {
    updateMemberRole(userId: $userId, role: $role) {
      userId
      role
    }
  }
`);

const RemoveMember = graphql(`
  mutation RemoveMember($userId: ID!) {
    removeMember(userId: $userId)
  }
`);

/** The link an invited person opens: the token travels in the fragment,
 * which browsers never send to a server or put in a Referer. */
export function invitationLink(token: string, origin = window.location.origin): string {
  return `${origin}/dashboard/accept-invitation#${token}`;
}

/** Settings › Members: the organization's people, their roles, and
 * invitations by a link shown once. */
export function Members() {
  const canEdit = useCanEdit();
  const [{ data, fetching, error }] = useQuery({ query: MembersQuery, context: LIST_CONTEXT });
  return (
    <>
      {canEdit && <InviteCard />}
      {canEdit && <RequireTwoFactorCard />}
      <section className="card" aria-labelledby="members-title">
        <h2 id="members-title">Members</h2>
        {!data && fetching && <Loading what="Loading members" />}
        <ErrorNote problem={describeError(error)} />
        {data && (
          <ScrollBox label="Members"><table>
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Role</th>
                <th scope="col">Joined</th>
                <th scope="col">Last login</th>
                <th scope="col">Two-factor</th>
                {canEdit && <th scope="col"><span className="sr-only">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {data.members.map((m) => (
                <MemberRow key={m.userId} member={m} canEdit={canEdit} />
              ))}
            </tbody>
          </table></ScrollBox>
        )}
      </section>
      {canEdit && <InvitationsCard />}
    </>
  );
}

type MemberInfo = { userId: string; username: string; role: 'admin' | 'member'; joinedAt: string; lastLoginAt?: string | null; isViewer: boolean; twoFactorEnabled: boolean };

function MemberRow({ member, canEdit }: { member: MemberInfo; canEdit: boolean }) {
  const [roleResult, setRole] = useMutation(UpdateMemberRole);
  const [removeResult, remove] = useMutation(RemoveMember);
  const [confirm, setConfirm] = useState(false);
  const [problem, setProblem] = useState<Problem>(noProblem);
  async function changeRole(role: 'admin' | 'member') {
    const r = await setRole({ userId: member.userId, role }, LIST_CONTEXT);
    setProblem(describeError(r.error));
  }
  async function doRemove() {
    const r = await remove({ userId: member.userId }, LIST_CONTEXT);
    if (!r.error) setConfirm(false);
    setProblem(describeError(r.error));
  }
  const roleProblem = problem.fields.userId ?? problem.message;
  return (
    <tr>
      <td>
        {member.username} {member.isViewer && <Badge>you</Badge>}
      </td>
      <td>
        {canEdit ? (
          <>
            <SelectField label={`Role of ${member.username}`} value={member.role} disabled={roleResult.fetching}
              onChange={(e) => changeRole(e.target.value as 'admin' | 'member')}>
              <option value="admin">admin</option>
              <option value="member">member</option>
            </SelectField>
            {roleProblem && !confirm && <ErrorNote>{roleProblem}</ErrorNote>}
          </>
        ) : (
          member.role
        )}
      </td>
      <td title={formatTime(member.joinedAt)}>{formatRelative(member.joinedAt)}</td>
      <td>{member.lastLoginAt ? formatRelative(member.lastLoginAt) : 'never'}</td>
      <td>{member.twoFactorEnabled ? <Badge tone="ok">on</Badge> : 'off'}</td>
      {canEdit && (
        <td>
          {member.twoFactorEnabled && !member.isViewer && <ResetTwoFactorButton userId={member.userId} username={member.username} />}
          <button type="button" className="danger" onClick={() => { setProblem(noProblem); setConfirm(true); }}>Remove</button>
          <Confirm open={confirm} title={`Remove ${member.username}?`} confirmLabel="Remove" busy={removeResult.fetching}
            problem={problem} onConfirm={doRemove} onClose={() => setConfirm(false)}>
            <p>{member.username} loses access to this organization at once; their logins to it end.</p>
          </Confirm>
        </td>
      )}
    </tr>
  );
}

function InviteCard() {
  const viewer = useViewer();
  const [role, setRole] = useState<'admin' | 'member'>('member');
  const [note, setNote] = useState('');
  const [link, setLink] = useState<string | null>(null);
  const [result, invite] = useMutation(CreateInvitation);
  const problem = describeError(result.error);
  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await invite({ role, note: note.trim() || null }, LIST_CONTEXT);
    if (r.data) {
      setLink(invitationLink(r.data.createInvitation.token));
      setNote('');
    }
  }
  if (link) {
    return (
      <section className="card" aria-labelledby="invite-title">
        <h2 id="invite-title">Invitation link</h2>
        <SecretReveal secret={link} what="link" onDone={() => setLink(null)}>
          <p className="muted">Send it to the person you invite to {viewer.organization}. It works once and expires in 3 days.</p>
        </SecretReveal>
      </section>
    );
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby="invite-title">
      <h2 id="invite-title">Invite a person</h2>
      <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as 'admin' | 'member')} error={problem.fields.role}
        hint="Members read everything but secrets; admins also change things.">
        <option value="member">member</option>
        <option value="admin">admin</option>
      </SelectField>
      <TextField label="For whom (a note)" name="note" value={note} onChange={(e) => setNote(e.target.value)} error={problem.fields.note} maxLength={200} />
      <ErrorNote problem={problem.fields.role || problem.fields.note ? { ...problem, message: null } : problem} />
      <div className="row">
        <button type="submit" className="primary" disabled={result.fetching}>Create invitation link</button>
      </div>
    </form>
  );
}

function InvitationsCard() {
  const [{ data, error }] = useQuery({ query: InvitationsQuery, context: LIST_CONTEXT });
  const [revokeResult, revoke] = useMutation(RevokeInvitation);
  const open = data?.invitations.filter((i) => !i.acceptedAt && !i.revokedAt && Date.parse(i.expiresAt) > Date.now()) ?? [];
  return (
    <section className="card" aria-labelledby="invitations-title">
      <h2 id="invitations-title">Open invitations</h2>
      <ErrorNote problem={describeError(error ?? revokeResult.error)} />
      {data && open.length === 0 && <p className="muted">None.</p>}
      {open.length > 0 && (
        <ul className="plain">
          {open.map((i) => (
            <li key={i.id} className="row">
              <span>
                {i.note || 'An invitation'} · {i.role} · expires {formatRelative(i.expiresAt)}
              </span>
              <button type="button" onClick={() => revoke({ id: i.id }, LIST_CONTEXT)} disabled={revokeResult.fetching}>Withdraw</button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
