import { useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import { describeError } from '../errors';
import { formatTime } from '../format';
import { setToken } from '../session';
import { Badge, CheckField, Confirm, CopyButton, ErrorNote, Loading, TextField } from '../ui';

// Two-factor sign-in: TOTP codes from an authenticator app, recovery codes
// shown once, the organization's requirement and an admin's reset.

const TWO_FACTOR_CONTEXT = { additionalTypenames: ['TwoFactorStatus', 'Viewer', 'Member'] };

const TwoFactorQuery = graphql(`
  query TwoFactorStatus {
    viewer {
      twoFactor {
        enabled
        enabledAt
        pending
        recoveryCodesLeft
        requiredByOrganization
      }
    }
  }
`);

const Enroll = graphql(`
  mutation EnrollTwoFactor {
    enrollTwoFactor {
      secret
      uri
    }
  }
`);

const Confirm2FA = graphql(`
  mutation ConfirmTwoFactor($code: String!) {
    confirmTwoFactor(code: $code)
  }
`);

const Regenerate = graphql(`
  mutation RegenerateRecoveryCodes($code: String!) {
    regenerateRecoveryCodes(code: $code)
  }
`);

const Disable = graphql(`
  mutation DisableTwoFactor($password: String!, $code: String!) {
    disableTwoFactor(password: $password, code: $code)
  }
`);

const LoginTwoFactor = graphql(`
  mutation LoginTwoFactor($challenge: String!, $code: String!) {
    loginTwoFactor(challenge: $challenge, code: $code) {
      token
    }
  }
`);

const RequireTwoFactor = graphql(`
  mutation SetRequireTwoFactor($required: Boolean!) {
    setRequireTwoFactor(required: $required) {
      id
      requireTwoFactor
    }
  }
`);

const OrganizationRequirement = graphql(`
  query OrganizationTwoFactor {
    viewer {
      twoFactor {
        enabled
        requiredByOrganization
      }
    }
  }
`);

const ResetTwoFactor = graphql(`
  mutation ResetTwoFactor($userId: ID!) {
    resetTwoFactor(userId: $userId)
  }
`);

/** The login's second step: a code from the authenticator app or a
 * recovery code completes the login the password began. */
export function TwoFactorLoginStep({ challenge, onCancel }: { challenge: string; onCancel: () => void }) {
  const [code, setCode] = useState('');
  const [result, login] = useMutation(LoginTwoFactor);
  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await login({ challenge, code: code.trim() });
    if (r.data?.loginTwoFactor.token) setToken(r.data.loginTwoFactor.token);
  }
  const problem = describeError(result.error);
  const message =
    problem.code === 'RATE_LIMITED'
      ? 'Too many attempts. Wait a minute, then try again.'
      : problem.fields.code
        ? 'Wrong code, or one already used. Try the next code.'
        : problem.message;
  return (
    <form onSubmit={submit} className="card login-card" aria-labelledby="code-title" noValidate>
      <h1 id="code-title">Two-factor code</h1>
      <p className="muted">Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>
      <TextField label="Code" name="code" autoComplete="one-time-code" inputMode="text" value={code} onChange={(e) => setCode(e.target.value)} required autoFocus />
      <ErrorNote>{message}</ErrorNote>
      <button type="submit" className="primary wide" disabled={result.fetching || !code.trim()}>
        {result.fetching ? 'Checking…' : 'Log in'}
      </button>
      <button type="button" className="wide" onClick={onCancel}>Start over</button>
    </form>
  );
}

/** My account › Two-factor sign-in: enroll, confirm, recovery codes, turn off. */
export function TwoFactorCard() {
  const [{ data, fetching, error }] = useQuery({ query: TwoFactorQuery, context: TWO_FACTOR_CONTEXT });
  const [codes, setCodes] = useState<string[] | null>(null);
  const st = data?.viewer?.twoFactor;
  return (
    <section className="card" aria-labelledby="two-factor-title">
      <h2 id="two-factor-title">
        Two-factor sign-in {st && (st.enabled ? <Badge tone="ok">on</Badge> : <Badge tone={st.requiredByOrganization ? 'bad' : 'neutral'}>off</Badge>)}
      </h2>
      {!data && fetching && <Loading what="Loading two-factor" />}
      <ErrorNote problem={describeError(error)} />
      {codes && <RecoveryCodes codes={codes} onDone={() => setCodes(null)} />}
      {st && !codes && !st.enabled && <EnrollSteps required={st.requiredByOrganization} onCodes={setCodes} />}
      {st && !codes && st.enabled && (
        <>
          <p>
            On since {st.enabledAt ? formatTime(st.enabledAt) : '—'}. {st.recoveryCodesLeft} recovery code{st.recoveryCodesLeft === 1 ? '' : 's'} left.
          </p>
          <RegenerateForm onCodes={setCodes} />
          {!st.requiredByOrganization && <DisableForm />}
          {st.requiredByOrganization && <p className="muted small">Your organization requires two-factor sign-in, so it stays on.</p>}
        </>
      )}
    </section>
  );
}

function EnrollSteps({ required, onCodes }: { required: boolean; onCodes: (c: string[]) => void }) {
  const [enrollResult, enroll] = useMutation(Enroll);
  const [confirmResult, confirm] = useMutation(Confirm2FA);
  const [code, setCode] = useState('');
  const secret = enrollResult.data?.enrollTwoFactor;
  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await confirm({ code: code.trim() }, TWO_FACTOR_CONTEXT);
    if (r.data) onCodes(r.data.confirmTwoFactor);
  }
  const problem = describeError(confirmResult.error);
  if (!secret) {
    return (
      <>
        <p>{required ? 'Your organization requires two-factor sign-in. ' : ''}With it on, logging in asks for a code from an authenticator app besides your password.</p>
        <ErrorNote problem={describeError(enrollResult.error)} />
        <div className="row">
          <button type="button" className="primary" onClick={() => enroll({})} disabled={enrollResult.fetching}>Set up two-factor</button>
        </div>
      </>
    );
  }
  return (
    <form onSubmit={submit} noValidate>
      <p>Add this account to your authenticator app: open the link below on the phone, or type the secret in (time-based, 6 digits, 30 seconds).</p>
      <div className="secret-row">
        <code data-testid="totp-secret" tabIndex={0}>{secret.secret}</code>
        <CopyButton text={secret.secret} label="Copy secret" />
      </div>
      <div className="secret-row">
        <code data-testid="totp-uri" tabIndex={0} className="small">{secret.uri}</code>
        <CopyButton text={secret.uri} label="Copy link" />
      </div>
      <TextField label="Code from the app" name="code" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)}
        error={problem.fields.code} required />
      <ErrorNote problem={problem.fields.code ? { ...problem, message: null } : problem} />
      <div className="row">
        <button type="submit" className="primary" disabled={confirmResult.fetching || !code.trim()}>Turn on</button>
      </div>
    </form>
  );
}

/** Recovery codes, shown once. */
function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const text = codes.join('\n');
  return (
    <div className="secret">
      <p className="warn-text"><strong>Save these recovery codes now: you will not see them again.</strong> Each logs in once in place of a code, if you lose your phone.</p>
      <ul className="plain" data-testid="recovery-codes" aria-label="Recovery codes">
        {codes.map((c) => (
          <li key={c}><code>{c}</code></li>
        ))}
      </ul>
      <div className="row">
        <CopyButton text={text} label="Copy codes" />
        <button type="button" className="primary" onClick={onDone}>I have saved them</button>
      </div>
    </div>
  );
}

function RegenerateForm({ onCodes }: { onCodes: (c: string[]) => void }) {
  const [code, setCode] = useState('');
  const [result, regenerate] = useMutation(Regenerate);
  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await regenerate({ code: code.trim() }, TWO_FACTOR_CONTEXT);
    if (r.data) {
      setCode('');
      onCodes(r.data.regenerateRecoveryCodes);
    }
  }
  const problem = describeError(result.error);
  return (
    <form onSubmit={submit} aria-labelledby="regenerate-title" noValidate>
      <h3 id="regenerate-title">New recovery codes</h3>
      <TextField label="Code for new recovery codes" name="regenerate-code" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)}
        error={problem.fields.code} hint="The old recovery codes stop working." required />
      <ErrorNote problem={problem.fields.code ? { ...problem, message: null } : problem} />
      <div className="row">
        <button type="submit" disabled={result.fetching || !code.trim()}>Make new recovery codes</button>
      </div>
    </form>
  );
}

function DisableForm() {
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [result, disable] = useMutation(Disable);
  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await disable({ password, code: code.trim() }, TWO_FACTOR_CONTEXT);
    if (r.data) {
      setPassword('');
      setCode('');
    }
  }
  const problem = describeError(result.error);
  return (
    <form onSubmit={submit} aria-labelledby="disable-title" noValidate>
      <h3 id="disable-title">Turn off</h3>
      <TextField label="Password" name="disable-password" type="password" autoComplete="current-password" value={password}
        onChange={(e) => setPassword(e.target.value)} error={problem.fields.password} required />
      <TextField label="Code to turn off" name="disable-code" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)}
        error={problem.fields.code} required />
      <ErrorNote problem={problem.fields.code || problem.fields.password ? { ...problem, message: null } : problem} />
      <div className="row">
        <button type="submit" className="danger" disabled={result.fetching || !password || !code.trim()}>Turn off two-factor</button>
      </div>
    </form>
  );
}

/** The page a login that must enroll sees in place of the dashboard. */
export function TwoFactorRequiredPage({ logout }: { logout: ReactNode }) {
  return (
    <main className="login" id="main">
      <div className="card login-card">
        <h1>Turn on two-factor sign-in</h1>
        <p>Your organization requires two-factor sign-in. Set it up to continue.</p>
      </div>
      <TwoFactorCard />
      <div className="row">{logout}</div>
    </main>
  );
}

/** Settings › Members: whether the organization requires two-factor (admins). */
export function RequireTwoFactorCard() {
  const [{ data }] = useQuery({ query: OrganizationRequirement, context: TWO_FACTOR_CONTEXT });
  const [result, setRequired] = useMutation(RequireTwoFactor);
  const st = data?.viewer?.twoFactor;
  if (!st) return null;
  return (
    <section className="card" aria-labelledby="require-title">
      <h2 id="require-title">Two-factor sign-in</h2>
      <CheckField label="Require two-factor sign-in of every member" checked={st.requiredByOrganization}
        onChange={(v) => void setRequired({ required: v }, TWO_FACTOR_CONTEXT)}
        hint={st.enabled ? 'Members without it can only set it up until they do. Management keys are not affected.' : 'Turn it on for yourself first (My account).'} />
      <ErrorNote problem={describeError(result.error)} />
    </section>
  );
}

/** An admin's reset of a member's two-factor, for a lost phone. */
export function ResetTwoFactorButton({ userId, username }: { userId: string; username: string }) {
  const [open, setOpen] = useState(false);
  const [result, reset] = useMutation(ResetTwoFactor);
  async function doReset() {
    const r = await reset({ userId }, TWO_FACTOR_CONTEXT);
    if (!r.error) setOpen(false);
  }
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>Reset two-factor</button>
      <Confirm open={open} title={`Reset ${username}'s two-factor?`} confirmLabel="Reset" busy={result.fetching} problem={describeError(result.error)}
        onConfirm={doReset} onClose={() => setOpen(false)}>
        <p>{username} logs in with the password alone until they set up two-factor again (at once, if the organization requires it).</p>
      </Confirm>
    </>
  );
}
