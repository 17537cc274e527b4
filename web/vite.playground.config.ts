import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { precompress } from './precompress';

// The GraphQL explorer at /playground: GraphiQL, built apart from the
// dashboard into dist/playground/ so that neither bundle carries the other.
// The dashboard's build (vite.config.ts) runs first and empties dist/.
export default defineConfig({
  root: 'playground',
  base: '/playground/',
  publicDir: false,
  plugins: [react(), precompress()],
  // The gateway puts a fresh nonce in place of this on each load of the
  // page (web/web.go), for the style elements GraphiQL's dialogs add.
  html: { cspNonce: 'SLUICE_CSP_NONCE' },
  build: {
    outDir: '../dist/playground',
    emptyOutDir: true,
    sourcemap: false,
    assetsInlineLimit: 0,
    // GraphiQL and React in one chunk; it is loaded only at /playground.
    chunkSizeWarningLimit: 1200,
  },
});
