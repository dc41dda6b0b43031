import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { developmentUiRoutes, uiRoutes } from '@itsm/gateway';
import type { Route } from '@itsm/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The gateway's UI routes on a bare HTTP server, over a fake bundle: what they serve, inject and refuse. */
let dist: string;
const servers: Server[] = [];

async function serve(route: Route): Promise<string> {
  const server = createServer(async (req, res) => {
    if (!(await route(req, res))) res.writeHead(418).end('not a UI route');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(() => {
  dist = mkdtempSync(join(tmpdir(), 'itsm-ui-dist-'));
  mkdirSync(join(dist, 'ide'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'ide/index.html'), '<!doctype html><html><head><title>ide</title></head><body></body></html>');
  writeFileSync(join(dist, 'assets/ide-abc123.js'), 'console.log("ide")');
  writeFileSync(join(tmpdir(), 'itsm-ui-secret.txt'), 'secret');
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  rmSync(dist, { recursive: true, force: true });
});

describe('gateway UI routes', () => {
  it('serves a page with its configuration injected as script-safe JSON', async () => {
    const origin = await serve(uiRoutes({ distDir: dist, devToken: async () => 'tok</script><b>' }));
    const response = await fetch(`${origin}/ide`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const html = await response.text();
    expect(html).toContain('<script id="itsm-config" type="application/json">{"graphqlPath":"/graphql","devToken":"tok\\u003c/script>\\u003cb>"}</script>');
  });

  it('serves hashed assets with a long cache, and refuses paths outside the bundle', async () => {
    const origin = await serve(uiRoutes({ distDir: dist }));
    const asset = await fetch(`${origin}/ui/assets/ide-abc123.js`);
    expect([asset.status, asset.headers.get('content-type'), asset.headers.get('cache-control')]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'public, max-age=31536000, immutable',
    ]);
    expect((await fetch(`${origin}/ui/assets/%2e%2e%2f%2e%2e%2fitsm-ui-secret.txt`)).status).toBe(404);
    expect((await fetch(`${origin}/ui/assets/%E0%A4%A`)).status).toBe(404);
    expect((await fetch(`${origin}/ui/assets/missing.js`)).status).toBe(404);
  });

  it('sends a browser opening / or /graphql to the IDE, and leaves API requests alone', async () => {
    const origin = await serve(uiRoutes({ distDir: dist }));
    const root = await fetch(`${origin}/`, { redirect: 'manual' });
    expect([root.status, root.headers.get('location')]).toEqual([302, '/ide']);
    const browser = await fetch(`${origin}/graphql`, { redirect: 'manual', headers: { accept: 'text/html,application/xhtml+xml' } });
    expect([browser.status, browser.headers.get('location')]).toEqual([302, '/ide']);
    expect((await fetch(`${origin}/graphql`, { headers: { accept: 'application/json' } })).status).toBe(418);
    expect((await fetch(`${origin}/graphql?query=%7B__typename%7D`, { headers: { accept: 'text/html' } })).status).toBe(418);
  });

  it('answers 503 with the command to run when the bundle is not built', async () => {
    const origin = await serve(uiRoutes({ distDir: join(dist, 'nothing-here') }));
    const response = await fetch(`${origin}/dashboard`);
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('pnpm build:ui');
  });

  it('is mounted outside production only, with a dev token only when tokens are signed with a dev secret', () => {
    const options = { distDir: dist, demoTenantId: '00000000-0000-4000-8000-000000000001' };
    expect(developmentUiRoutes({ env: 'production', jwt: { secret: 'x'.repeat(32) } }, options)).toEqual([]);
    expect(developmentUiRoutes({ env: 'development', jwt: { secret: 'x'.repeat(32) } }, options)).toHaveLength(1);
  });
});
