import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import { describeError, fieldProblem, noProblem, type Problem } from '../errors';
import { formatRelative, formatTime } from '../format';
import { clearToken, setToken } from '../session';
import { useViewer } from '../viewer';
import { Badge, Confirm, ErrorNote, Loading, Page, ScrollBox, TextField } from '../ui';
import { TwoFactorCard } from './TwoFactor';
import { useLoginOptions } from './SingleSignOn';

const SESSIONS_CONTEXT = { additionalTypenames: ['Session'] };

const MySessions = graphql(`
  query MySessions {
    mySessions {
      id
      createdAt
      lastSeenAt
      expiresAt
      clientIp
      userAgent
      current
    }
  }
`);

const ChangePassword = graphql(`
  mutation ChangePassword($current: String!, $new: String!) {
    changePassword(current: $current, new: $new) {
      token
    }
  }
`);

const EndAllSessions = graphql(`
  mutation EndAllSessions {
    endAllSessions
  }
`);

/** My account: the caller's password, two-factor and logins; a single
 * sign-on account has neither password nor two-factor here. */
export function Account() {
  const viewer = useViewer();
  if (viewer.isManagementKey) {
    return (
      <Page title="My account">
        <p>A management key has no password or logins of its own.</p>
      </Page>
    );
  }
  return (
    <Page title="My account" intro={`${viewer.username} in ${viewer.organization}`}>
      {viewer.hasPassword ? (
        <>
          <PasswordCard />
          <TwoFactorCard />
        </>
      ) : (
        <SignInElsewhereCard />
      )}
      <SessionsCard />
    </Page>
  );
}

/** Where a single sign-on account's password lives: with its provider. */
function SignInElsewhereCard() {
  const { sso } = useLoginOptions();
  return (
    <section className="card" aria-labelledby="signin-title">
      <h2 id="signin-title">Password</h2>
      <p>You sign in with {sso?.name ?? 'single sign-on'}; change your password there.</p>
    </section>
  );
}

function PasswordCard() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [local, setLocal] = useState<Problem>(noProblem);
  const [saved, setSaved] = useState(false);
  const [result, change] = useMutation(ChangePassword);
  const problem = local !== noProblem ? local : describeError(result.error);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    if (next !== again) {
      setLocal(fieldProblem({ again: 'The two new passwords differ.' }));
      return;
    }
    setLocal(noProblem);
    const r = await change({ current, new: next }, SESSIONS_CONTEXT);
    if (r.data) {
      // Every other login ended; this one goes on with the new token.
      setToken(r.data.changePassword.token);
      setCurrent('');
      setNext('');
      setAgain('');
      setSaved(true);
    }
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby="password-title" noValidate>
      <h2 id="password-title">Change password</h2>
      <TextField label="Current password" name="current" type="password" autoComplete="current-password" value={current}
        onChange={(e) => setCurrent(e.target.value)} error={problem.fields.current} required />
      <TextField label="New password" name="new" type="password" autoComplete="new-password" value={next}
        onChange={(e) => setNext(e.target.value)} error={problem.fields.new} hint="At least 10 characters." required />
      <TextField label="New password again" name="again" type="password" autoComplete="new-password" value={again}
        onChange={(e) => setAgain(e.target.value)} error={problem.fields.again} required />
      <ErrorNote problem={problem} />
      <div className="row">
        <button type="submit" className="primary" disabled={result.fetching}>Change password</button>
        {saved && <span role="status" className="ok-text">Changed. Your other logins have ended.</span>}
      </div>
    </form>
  );
}

function SessionsCard() {
  const [{ data, fetching, error }] = useQuery({ query: MySessions, context: SESSIONS_CONTEXT });
  const [endResult, endAll] = useMutation(EndAllSessions);
  const [confirm, setConfirm] = useState(false);
  async function doEndAll() {
    const r = await endAll({}, SESSIONS_CONTEXT);
    if (!r.error) clearToken();
  }
  return (
    <section className="card" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Logins</h2>
      {!data && fetching && <Loading what="Loading logins" />}
      <ErrorNote problem={describeError(error)} />
      {data && (
        <ScrollBox label="Logins">
          <table>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Last used</th>
                <th scope="col">From</th>
                <th scope="col">Browser</th>
                <th scope="col">Expires</th>
              </tr>
            </thead>
            <tbody>
              {data.mySessions.map((s) => (
                <tr key={s.id}>
                  <td title={formatTime(s.createdAt)}>{formatRelative(s.createdAt)} {s.current && <Badge tone="ok">this one</Badge>}</td>
                  <td>{formatRelative(s.lastSeenAt)}</td>
                  <td>{s.clientIp || '—'}</td>
                  <td className="muted small">{s.userAgent || '—'}</td>
                  <td>{formatRelative(s.expiresAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      )}
      <div className="row">
        <button type="button" className="danger" onClick={() => setConfirm(true)}>End all logins</button>
      </div>
      <Confirm open={confirm} title="End all logins?" confirmLabel="End all" busy={endResult.fetching} problem={describeError(endResult.error)}
        onConfirm={doEndAll} onClose={() => setConfirm(false)}>
        <p>Every login of yours ends, in every organization and this browser too: you will log in again.</p>
      </Confirm>
    </section>
  );
}
