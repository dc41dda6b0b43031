import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const page = (name: string) => fileURLToPath(new URL(`./${name}/index.html`, import.meta.url));

/**
 * The pages the gateway serves in development (/ide, /dashboard), bundled at build time into ui/dist with every
 * asset local (no CDN): `pnpm build:ui`. The gateway serves ui/dist/assets under /ui/.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  logLevel: 'warn',
  mode: 'production',
  // React and friends pick their production build from this; a build started under vitest (NODE_ENV=test) would
  // otherwise ship React's development build.
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  esbuild: { jsx: 'automatic', jsxDev: false },
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 8000,
    rollupOptions: {
      input: { ide: page('ide'), dashboard: page('dashboard') },
      // React libraries mark modules "use client" for server components; meaningless in a client bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
});
