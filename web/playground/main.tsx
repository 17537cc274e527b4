import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';
import { setNonce } from 'get-nonce';
import 'graphiql/style.css';
import './playground.css';
import { websocketURL, withLogin } from './auth';

const endpoint = '/graphql';

// GraphiQL's dialogs add <style> elements while they are open; the page's
// CSP admits them by the nonce the gateway gave this load of the page.
const nonce = document.querySelector<HTMLMetaElement>('meta[property="csp-nonce"]')?.nonce;
if (nonce) setNonce(nonce);

// Queries and mutations go over HTTP POST, subscriptions over the same
// websocket path the dashboard uses; the headers (the login among them)
// go with both, on the websocket as connection_init's payload.
const base = createGraphiQLFetcher({
  url: endpoint,
  subscriptionUrl: websocketURL(endpoint, window.location.href),
  enableIncrementalDelivery: false,
});

const fetcher: Fetcher = (params, opts) => base(params, { ...opts, headers: withLogin(opts?.headers) });

const defaultQuery = `# Sluice's admin API. Requests carry the dashboard's login when you are
# logged in there; otherwise log in with the login mutation and add
# {"Authorization": "Bearer <token>"} under Headers below.
{
  viewer {
    username
    role
  }
}
`;

createRoot(document.getElementById('graphiql')!).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} isHeadersEditorEnabled shouldPersistHeaders={false} />
  </StrictMode>,
);
