import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from 'urql';
import { createClient as createWSClient, type Client as WSClient } from 'graphql-ws';
import { clearToken, getToken } from './session';
import { isUnauthenticated } from './errors';

function websocketURL(httpURL: string): string {
  const u = new URL(httpURL, window.location.href);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

let ws: WSClient | null = null;

function socket(): WSClient {
  ws ??= createWSClient({
    url: websocketURL(__GRAPHQL_URL__),
    lazy: true,
    retryAttempts: 5,
    connectionParams: () => {
      const token = getToken();
      return token ? { Authorization: `Bearer ${token}` } : {};
    },
  });
  return ws;
}

/** A fresh client per login, so no cached data outlives a session. */
export function makeClient(): Client {
  ws?.dispose();
  ws = null;
  return new Client({
    url: __GRAPHQL_URL__,
    requestPolicy: 'cache-and-network',
    fetchOptions: (): RequestInit => {
      const token = getToken();
      const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
      return { headers };
    },
    exchanges: [
      cacheExchange,
      mapExchange({
        onError(error) {
          if (isUnauthenticated(error) && getToken()) clearToken();
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const unsubscribe = socket().subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
}
