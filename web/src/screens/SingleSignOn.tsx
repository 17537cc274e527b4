import { useEffect, useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import { setToken } from '../session';
import { navigate } from '../router';

export const LoginOptionsQuery = graphql(`
  query LoginOptions {
    loginOptions {
      passwordLogin
      sso {
        name
        loginUrl
      }
    }
  }
`);

/** What the login screen offers: password login (on until the server
 * says otherwise) and single sign-on, if configured. */
export function useLoginOptions() {
  const [{ data }] = useQuery({ query: LoginOptionsQuery });
  return { passwordLogin: data?.loginOptions.passwordLogin ?? true, sso: data?.loginOptions.sso ?? null };
}

/** Why a single sign-on failed, by the code the gateway's callback sends. */
export const SSO_ERRORS: Record<string, string> = {
  state_mismatch: 'The sign-in expired or was started in another window. Try again.',
  provider_refused: 'The identity provider did not sign you in. Try again.',
  code_refused: 'The identity provider refused to complete the sign-in. Try again.',
  bad_token: 'The identity provider’s answer could not be verified. Ask your administrator to check the single sign-on setup.',
  email_unverified: 'Your identity provider has not verified your email address.',
  domain_not_allowed: 'Your email domain may not sign in to this gateway.',
  no_account: 'You have no account on this gateway. Ask an administrator to add you.',
  no_organization: 'None of your groups matches an organization on this gateway. Ask an administrator.',
  account_conflict: 'An account with your email is linked to another identity. Ask an administrator.',
  unavailable: 'The identity provider cannot be reached. Try again later.',
  internal: 'The sign-in failed on the gateway. Try again.',
};

function apiURL(path: string): string {
  return new URL(path, new URL(__GRAPHQL_URL__, window.location.href)).toString();
}

/** Finishes a single sign-on when the gateway's callback sent the browser
 * back (?sso=done): exchanges the one-time cookie for the token, once.
 * Returns the message to show, if the sign-in failed. */
export function useFinishSignOn(): { message: string | null; finishing: boolean } {
  const params = new URLSearchParams(window.location.search);
  const done = params.get('sso') === 'done';
  const failed = params.get('sso_error');
  const [message, setMessage] = useState<string | null>(failed ? (SSO_ERRORS[failed] ?? SSO_ERRORS.internal) : null);
  const [finishing, setFinishing] = useState(done);
  useEffect(() => {
    if (!done) return;
    let live = true;
    fetch(apiURL('/api/admin/auth/oidc/session'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}', credentials: 'same-origin' })
      .then(async (r) => {
        const body = await r.json().catch(() => ({}));
        if (!live) return;
        if (r.ok && body.access_token) {
          navigate('/', true);
          setToken(body.access_token);
        } else {
          setMessage(body.detail ?? SSO_ERRORS.internal);
        }
      })
      .catch(() => live && setMessage(SSO_ERRORS.internal))
      .finally(() => live && setFinishing(false));
    return () => {
      live = false;
    };
  }, [done]);
  return { message, finishing };
}

/** The "Sign in with <provider>" button: a plain link, since the browser
 * itself goes to the provider. */
export function SingleSignOnButton({ name, loginUrl }: { name: string; loginUrl: string }) {
  return (
    <a className="button primary wide sso-button" href={apiURL(loginUrl)}>
      Sign in with {name}
    </a>
  );
}
