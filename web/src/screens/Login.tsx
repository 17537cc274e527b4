import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import { setToken } from '../session';
import { describeError } from '../errors';
import { ErrorNote, TextField } from '../ui';
import { SingleSignOnButton, useFinishSignOn, useLoginOptions } from './SingleSignOn';
import { TwoFactorLoginStep } from './TwoFactor';

const LoginMutation = graphql(`
  mutation Login($username: String!, $password: String!) {
    login(username: $username, password: $password) {
      token
      expiresAt
      twoFactorChallenge
    }
  }
`);

export function Login() {
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [result, login] = useMutation(LoginMutation);
  const [localError, setLocalError] = useState<string | null>(null);
  const options = useLoginOptions();
  const signOn = useFinishSignOn();
  const [challenge, setChallenge] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setLocalError(null);
    if (!username.trim() || !password) {
      setLocalError('Enter your username and password.');
      return;
    }
    const r = await login({ username: username.trim(), password });
    if (r.data?.login.token) setToken(r.data.login.token);
    else if (r.data?.login.twoFactorChallenge) setChallenge(r.data.login.twoFactorChallenge);
  }

  if (challenge) {
    return (
      <main className="login">
        <TwoFactorLoginStep challenge={challenge} onCancel={() => { setChallenge(null); setPassword(''); }} />
      </main>
    );
  }

  const problem = describeError(result.error);
  const message =
    localError ??
    signOn.message ??
    (problem.code === 'UNAUTHENTICATED' ? 'Wrong username or password.' : problem.code === 'RATE_LIMITED' ? 'Too many attempts. Wait a minute, then try again.' : problem.message);
  return (
    <main className="login">
      <form onSubmit={submit} className="card login-card" aria-labelledby="login-title" noValidate>
        <h1 id="login-title">
          <img src="/favicon.svg" alt="" width={28} height={28} /> Sluice
        </h1>
        <p className="muted">{signOn.finishing ? 'Finishing your sign-in…' : 'Log in to manage your LLM gateway.'}</p>
        {options.sso && <SingleSignOnButton name={options.sso.name} loginUrl={options.sso.loginUrl} />}
        {options.passwordLogin && (
          <>
            <TextField label="Username" name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus={!options.sso} />
            <TextField label="Password" name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
          </>
        )}
        <ErrorNote>{message}</ErrorNote>
        {options.passwordLogin && (
          <>
            <button type="submit" className="primary wide" disabled={result.fetching}>
              {result.fetching ? 'Logging in…' : 'Log in'}
            </button>
            <p className="muted small">
              The first admin is <code>admin</code>; its password was printed once in the gateway's log (or set with <code>SLUICE_ADMIN_PASSWORD</code>).
            </p>
          </>
        )}
      </form>
    </main>
  );
}
