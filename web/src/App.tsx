import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { Provider, useMutation, useQuery } from 'urql';
import { graphql } from './gql';
import { makeClient } from './client';
import { clearToken, getToken, onTokenChange, setToken } from './session';
import { Link, usePath } from './router';
import { ViewerContext, type ViewerInfo } from './viewer';
import { ErrorNote, Loading } from './ui';
import { describeError } from './errors';
import { Login } from './screens/Login';
import { Overview } from './screens/Overview';
import { Services } from './screens/Services';
import { ApiKeys } from './screens/ApiKeys';
import { Credentials } from './screens/Credentials';
import { Standards } from './screens/Standards';
import { UsageLog } from './screens/UsageLog';
import { AuditLog } from './screens/AuditLog';
import { Settings } from './screens/Settings';
import { Account } from './screens/Account';
import { AcceptInvitation, ACCEPT_PATH } from './screens/AcceptInvitation';
import { TwoFactorRequiredPage } from './screens/TwoFactor';

const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      username
      role
      isManagementKey
      isInstanceAdmin
      hasPassword
      mustEnrollTwoFactor
      organization {
        id
        name
      }
      memberships {
        role
        organization {
          id
          name
        }
      }
    }
  }
`);

const Logout = graphql(`
  mutation Logout {
    logout
  }
`);

const SwitchOrganization = graphql(`
  mutation SwitchOrganization($id: ID!) {
    switchOrganization(id: $id) {
      token
    }
  }
`);

// Screens live under /dashboard/ so that they never collide with the
// proxy's own paths (GET /services, /v1/…): a reload or a shared
// link must reach the app, not the proxy.
export const ROUTES = [
  { path: '/', label: 'Overview', screen: Overview },
  { path: '/dashboard/services', label: 'Services', screen: Services },
  { path: '/dashboard/keys', label: 'API keys', screen: ApiKeys },
  { path: '/dashboard/credentials', label: 'Provider credentials', screen: Credentials },
  { path: '/dashboard/standards', label: 'API standards', screen: Standards },
  { path: '/dashboard/usage', label: 'Usage log', screen: UsageLog },
  { path: '/dashboard/audit', label: 'Audit log', screen: AuditLog },
  { path: '/dashboard/settings', label: 'Settings', screen: Settings },
  { path: '/dashboard/account', label: 'My account', screen: Account },
] as const;

/** The route of a path: a screen's own path or one of its sub-pages
 * (/dashboard/settings/prices is Settings'). */
export function routeOf(path: string) {
  const p = path === '/dashboard' || path === '/dashboard/' ? '/' : path.replace(/\/$/, '') || '/';
  return ROUTES.find((r) => r.path === p || (r.path !== '/' && p.startsWith(r.path + '/'))) ?? null;
}

export function App() {
  const token = useSyncExternalStore(onTokenChange, getToken, () => null);
  const client = useMemo(() => makeClient(), [token]);
  const path = usePath();
  if (path === ACCEPT_PATH) {
    return (
      <Provider value={client}>
        <AcceptInvitation />
      </Provider>
    );
  }
  if (!token) {
    return (
      <Provider value={client}>
        <Login />
      </Provider>
    );
  }
  return (
    <Provider value={client}>
      <Shell />
    </Provider>
  );
}

function Shell() {
  const [{ data, fetching, error }] = useQuery({ query: ViewerQuery });
  const path = usePath();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [path]);
  useEffect(() => {
    // A token that no longer names anyone (expired, user removed): log in again.
    if (data && !data.viewer) clearToken();
  }, [data]);

  if (!data) {
    return <main className="center">{fetching || !error ? <Loading what="Opening the dashboard" /> : <ErrorNote problem={describeError(error)} />}</main>;
  }
  if (!data.viewer) return null;
  const v = data.viewer;
  if (v.mustEnrollTwoFactor) return <TwoFactorRequiredPage logout={<LogoutButton />} />;
  const viewer: ViewerInfo = {
    username: v.username,
    role: v.role,
    isManagementKey: v.isManagementKey,
    isInstanceAdmin: v.isInstanceAdmin,
    hasPassword: v.hasPassword,
    organization: v.organization.name,
  };
  const route = routeOf(path);
  const Screen = route?.screen;
  return (
    <ViewerContext.Provider value={viewer}>
      <a className="skip" href="#main">Skip to content</a>
      <div className="shell">
        <header className="topbar">
          <Link href="/" className="brand">
            <img src="/favicon.svg" alt="" width={24} height={24} /> Sluice
          </Link>
          <button type="button" className="menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
            Menu
          </button>
        </header>
        <nav id="nav" className={menuOpen ? 'open' : undefined} aria-label="Main">
          <ul>
            {ROUTES.map((r) => (
              <li key={r.path}>
                <Link href={r.path} aria-current={r === route ? 'page' : undefined}>
                  {r.label}
                </Link>
              </li>
            ))}
          </ul>
          <div className="who">
            <span>
              {viewer.username} <span className="muted">· {viewer.role}</span>
            </span>
            {v.memberships.length > 1 ? (
              <OrganizationSwitcher current={v.organization.id} memberships={v.memberships} />
            ) : (
              <span className="muted small">{viewer.organization}</span>
            )}
            <LogoutButton />
          </div>
        </nav>
        <main id="main" tabIndex={-1}>
          {Screen ? <Screen /> : <NotFound />}
        </main>
      </div>
    </ViewerContext.Provider>
  );
}

/** Logs out: the session ends on the gateway, not only in this browser. */
function LogoutButton() {
  const [result, logout] = useMutation(Logout);
  async function out() {
    await logout({});
    clearToken();
  }
  return (
    <button type="button" onClick={out} disabled={result.fetching}>Log out</button>
  );
}

/** Switches to another organization the viewer belongs to: a new login
 * there replaces this one. */
function OrganizationSwitcher({ current, memberships }: { current: string; memberships: { role: string; organization: { id: string; name: string } }[] }) {
  const [result, switchTo] = useMutation(SwitchOrganization);
  async function pick(id: string) {
    const r = await switchTo({ id });
    if (r.data) {
      setToken(r.data.switchOrganization.token);
    }
  }
  return (
    <label className="small">
      <span className="sr-only">Organization</span>
      <select value={String(current)} disabled={result.fetching} onChange={(e) => void pick(e.target.value)} aria-label="Organization">
        {memberships.map((m) => (
          <option key={m.organization.id} value={String(m.organization.id)}>
            {m.organization.name} ({m.role})
          </option>
        ))}
      </select>
      {result.error && <span className="error-text">{describeError(result.error).message}</span>}
    </label>
  );
}

function NotFound() {
  return (
    <section className="page">
      <h1>Not found</h1>
      <p>
        There is no page here. Go to the <Link href="/">overview</Link>.
      </p>
    </section>
  );
}
