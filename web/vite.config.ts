import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { precompress } from './precompress';

// In development the dashboard (http://localhost:5173) calls a running
// gateway directly; the gateway's CORS allows this origin by default.
// Set SLUICE_URL to point it elsewhere.
const gateway = process.env.SLUICE_URL ?? 'http://localhost:8080';

export default defineConfig({
  plugins: [react(), precompress()],
  define: {
    __GRAPHQL_URL__: JSON.stringify(process.env.NODE_ENV === 'production' ? '/graphql' : `${gateway}/graphql`),
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    assetsInlineLimit: 0,
  },
  server: { port: 5173, strictPort: true },
  test: {
    include: ['src/**/*.test.{ts,tsx}', 'playground/**/*.test.ts', '*.test.ts'],
    environment: 'node',
  },
});
