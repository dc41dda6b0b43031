import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `pnpm build:ui` writes the bundled pages; gitignored, served by the gateway in development. */
export const UI_DIST_DIR = fileURLToPath(new URL('./dist/', import.meta.url));
const UI_DIR = fileURLToPath(new URL('.', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STAMP = '.build-hash';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name !== 'dist' && !name.startsWith('dist.') && name !== 'node_modules')
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? sourceFiles(path) : [path];
    })
    .sort();
}

/** The packages the pages are built from and with (pinned exactly in the root package.json). */
const UI_PACKAGES = ['graphiql', '@graphiql/toolkit', 'graphql', 'graphql-ws', 'react', 'react-dom', 'vite'];

/**
 * Hash of everything the bundle is made from: the page sources and the versions of the packages above (not the whole
 * lockfile, which changes whenever any package of the repository does).
 */
export function uiSourceHash(): string {
  const hash = createHash('sha256');
  for (const file of sourceFiles(UI_DIR)) hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  for (const name of UI_PACKAGES) hash.update(`${name}@${manifest.devDependencies?.[name] ?? '?'}\0`);
  return hash.digest('hex');
}

/** True when ui/dist is missing or was built from other sources than the ones checked out now. */
export function uiBuildIsStale(): boolean {
  const stamp = join(UI_DIST_DIR, STAMP);
  return !existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== uiSourceHash();
}

/**
 * Bundles the IDE and the dashboard with vite when the bundle is missing or stale (or always with `force`).
 * Builds into a temporary folder and swaps it in, so a gateway serving the old bundle never sees a half-written one.
 */
export async function ensureUiBuilt(options: { force?: boolean; log?: (line: string) => void } = {}): Promise<'built' | 'fresh'> {
  if (!options.force && !uiBuildIsStale()) return 'fresh';
  const log = options.log ?? (() => {});
  const hash = uiSourceHash();
  const staging = join(UI_DIR, `dist.tmp-${process.pid}`);
  const started = Date.now();
  log('bundling the IDE and the dashboard (vite)…');
  const { build } = await import('vite');
  // Vite and esbuild choose production transforms from NODE_ENV, which is "test" under vitest.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: join(UI_DIR, 'vite.config.ts'), mode: 'production', build: { outDir: staging, emptyOutDir: true } });
    writeFileSync(join(staging, STAMP), `${hash}\n`);
    rmSync(UI_DIST_DIR, { recursive: true, force: true });
    renameSync(staging, UI_DIST_DIR);
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
    rmSync(staging, { recursive: true, force: true });
  }
  log(`bundled into ${relative(ROOT, UI_DIST_DIR)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 'built';
}

// `pnpm build:ui` (only when stale; `--force` always) — `pnpm start` runs it first.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await ensureUiBuilt({ force: process.argv.includes('--force'), log: (line) => console.log(line) });
  if (result === 'fresh') console.log('ui bundle is up to date');
}
