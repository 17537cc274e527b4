import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import { describeError } from '../errors';
import { getToken, setToken } from '../session';
import { navigate } from '../router';
import { ErrorNote, TextField } from '../ui';

const Accept = graphql(`
  mutation AcceptInvitation($token: String!, $username: String, $password: String) {
    acceptInvitation(token: $token, username: $username, password: $password) {
      token
    }
  }
`);

export const ACCEPT_PATH = '/dashboard/accept-invitation';

/** The page an invitation link opens: a new person chooses a username and
 * password; someone with an account gives its password, or joins with the
 * login this browser has. */
export function AcceptInvitation() {
  const token = window.location.hash.slice(1);
  const loggedIn = getToken() !== null;
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [result, accept] = useMutation(Accept);
  const problem = describeError(result.error);

  async function join(vars: { username?: string; password?: string }) {
    const r = await accept({ token, ...vars });
    if (r.data) {
      setToken(r.data.acceptInvitation.token);
      navigate('/', true);
    }
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    void join({ username: username.trim(), password });
  }
  return (
    <main className="login">
      <form onSubmit={submit} className="card login-card" aria-labelledby="accept-title" noValidate>
        <h1 id="accept-title">
          <img src="/favicon.svg" alt="" width={28} height={28} /> Join an organization
        </h1>
        {!token ? (
          <ErrorNote>This link has no invitation in it. Open the whole link you were sent.</ErrorNote>
        ) : (
          <>
            <p className="muted">Choose a username and a password. If you have an account already, give its username and password.</p>
            <TextField label="Username" name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)}
              error={problem.fields.username} required autoFocus />
            <TextField label="Password" name="password" type="password" autoComplete="new-password" value={password}
              onChange={(e) => setPassword(e.target.value)} error={problem.fields.password} hint="At least 10 characters." required />
            <ErrorNote>{problem.fields.token ?? problem.message}</ErrorNote>
            <button type="submit" className="primary wide" disabled={result.fetching}>
              {result.fetching ? 'Joining…' : 'Join'}
            </button>
            {loggedIn && (
              <button type="button" className="wide" disabled={result.fetching} onClick={() => void join({})}>
                Join with the account I am logged in with
              </button>
            )}
          </>
        )}
      </form>
    </main>
  );
}
