import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import type { Config, Route } from '@itsm/kit';
import { issueToken } from '../auth.js';

export interface UiRoutesOptions {
  /** The bundle `pnpm build:ui` writes (ui/dist). */
  distDir: string;
  /** Where the GraphQL endpoint is on this origin. */
  graphqlPath?: string;
  /** Mints the token prefilled in the IDE and used by the dashboard; absent when tokens come from an identity provider. */
  devToken?: () => Promise<string>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json; charset=utf-8',
};

const PAGES: Record<string, string> = { '/ide': 'ide/index.html', '/dashboard': 'dashboard/index.html' };

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'x-content-type-options': 'nosniff', ...headers });
  res.end(body);
}

/** JSON that is safe inside a <script> element (no "</script>" or "<!--" can close it). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/**
 * Development pages on the gateway: GraphiQL at /ide and the live SLA dashboard at /dashboard, both bundled at build
 * time and served from local files (no CDN). Each page gets its configuration (GraphQL path, dev token) injected as
 * JSON. A browser opening /graphql or / is sent to the IDE instead of Apollo's CDN-hosted landing page.
 */
export function uiRoutes(options: UiRoutesOptions): Route {
  const graphqlPath = options.graphqlPath ?? '/graphql';
  const assetsDir = join(options.distDir, 'assets');
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';

    if (path === '/' || (path === graphqlPath && !url.search && (req.headers.accept ?? '').includes('text/html'))) {
      res.writeHead(302, { location: '/ide' }).end();
      return true;
    }

    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return true;
    }

    const page = PAGES[path];
    if (page) {
      const file = join(options.distDir, page);
      if (!existsSync(file)) {
        send(res, 503, 'text/plain; charset=utf-8', 'The UI is not built: run `pnpm build:ui` (pnpm start does it for you).\n');
        return true;
      }
      const config = { graphqlPath, ...(options.devToken ? { devToken: await options.devToken() } : {}) };
      const html = readFileSync(file, 'utf8').replace('<head>', `<head>\n    <script id="itsm-config" type="application/json">${scriptJson(config)}</script>`);
      send(res, 200, 'text/html; charset=utf-8', html, { 'cache-control': 'no-store' });
      return true;
    }

    if (url.pathname.startsWith('/ui/assets/')) {
      let name: string;
      try {
        name = decodeURIComponent(url.pathname.slice('/ui/assets/'.length));
      } catch {
        name = '';
      }
      const file = normalize(join(assetsDir, name));
      if (!name || !file.startsWith(assetsDir + sep)) {
        send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
        return true;
      }
      const body = await readFile(file).catch(() => undefined);
      if (!body) send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
      // File names carry a content hash: a new build gets new names, so browsers may keep these forever.
      else send(res, 200, CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', body, { 'cache-control': 'public, max-age=31536000, immutable' });
      return true;
    }
    return false;
  };
}

/** Roles of the development token: enough to explore every query and mutation of the demo tenant. */
const DEV_TOKEN_ROLES = ['admin', 'manager', 'agent', 'change_manager'] as const;

/**
 * The UI routes outside production: pages served from `distDir` with a 12-hour token for the demo tenant minted
 * per page load (only when tokens are signed with a dev secret; with JWKS the pages ask for a token instead).
 */
export function developmentUiRoutes(config: Pick<Config, 'env' | 'jwt'>, options: { distDir: string; demoTenantId: string }): Route[] {
  if (config.env === 'production') return [];
  const secret = config.jwt.jwksUrl ? undefined : config.jwt.secret;
  const devToken = secret ? () => issueToken(secret, { sub: 'dev-ui', tenant: options.demoTenantId, roles: DEV_TOKEN_ROLES }, '12h') : undefined;
  return [uiRoutes({ distDir: options.distDir, devToken })];
}
