/// <reference types="vite/client" />
/** The admin API: same origin in production, the gateway in development. */
declare const __GRAPHQL_URL__: string;
