import { getToken } from '../src/session';

/** The headers of a request from the playground: the ones typed into its
 * headers editor, and the dashboard's login token (kept in this origin's
 * storage) as the Authorization header unless one was typed. */
export function withLogin(headers: Record<string, unknown> | undefined, token = getToken()): Record<string, unknown> {
  const out = { ...headers };
  const typed = Object.keys(out).some((k) => k.toLowerCase() === 'authorization');
  if (token && !typed) out.Authorization = `Bearer ${token}`;
  return out;
}

/** The websocket URL for subscriptions beside an HTTP endpoint URL. */
export function websocketURL(httpURL: string, base: string): string {
  const u = new URL(httpURL, base);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}
