import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { incidentService } from '@itsm/incident';
import { appendEvents } from '@itsm/kit';
import { chromium, type BrowserContext, type Page, type WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TENANT_ID } from '../scripts/demo-tenant.js';
import { ensureUiBuilt } from '../ui/build.js';
import { startTestGraph, type TestGraph } from './harness.js';

/**
 * The IDE and the dashboard in Debian's headless Chromium, driven by playwright-core, against a real graph.
 * `UPDATE_SCREENSHOTS=1 pnpm vitest run test/browser.test.ts` refreshes the README's docs/screenshots/*.png.
 */
const CHROMIUM = '/usr/bin/chromium';
/** The README's screenshots are rewritten only on request (UPDATE_SCREENSHOTS=1), so a test run leaves git clean. */
const SCREENSHOTS =
  process.env.UPDATE_SCREENSHOTS === '1' ? fileURLToPath(new URL('../docs/screenshots/', import.meta.url)) : join(tmpdir(), 'itsm-screenshots');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let graph: TestGraph;
let browser: BrowserContext;
let userDataDir: string;
let origin: string;
/** Every URL a page asked for: the pages must work offline, so nothing may leave the gateway's origin. */
const requested: string[] = [];

/** Without Chromium a laptop skips these tests; CI (CI=true) installs it in .ci/run and must run them. */
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`);
if (!hasChromium) console.warn(`browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('pages in headless Chromium', () => {
  beforeAll(async () => {
    // The bundle is built here when missing or stale (a fresh clone, a changed page); a fresh one is reused.
    await ensureUiBuilt({ log: (line) => console.log(line) });
    graph = await startTestGraph();
    origin = new URL(graph.url).origin;
    userDataDir = mkdtempSync(join(tmpdir(), 'itsm-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 760 },
    });
    browser.on('request', (request) => requested.push(request.url()));
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await graph?.stop();
  });

  async function createIncident(tenantId: string, input: { title: string; impact: number; urgency: number }, now = new Date()) {
    const result = await incidentService.createIncident(graph.databases.incident.db, { userId: 'browser-test', tenantId, roles: ['agent'] }, input, now);
    expect(result.errors).toEqual([]);
    return result.incident!;
  }

  function offOrigin(): string[] {
    return requested.filter((url) => !url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:'));
  }

  describe('GraphiQL at /ide', () => {
    it('runs a query with the prefilled dev token and shows the result, and a subscription over graphql-ws', async () => {
      // The page's token is the demo tenant's; this test graph has its own database, so the tenant is this file's.
      const incident = await createIncident(DEMO_TENANT_ID, { title: 'Printer queue stuck on floor 3', impact: 2, urgency: 2 });
      const page = await browser.newPage();
      await page.goto(`${origin}/ide`);
      await page.locator('.graphiql-query-editor .monaco-editor').waitFor({ timeout: 60_000 });
      const headers = page.locator('section.graphiql-editor-tool[aria-label="Headers"]');
      await expect.poll(async () => normalize(await headers.textContent())).toMatch(/"Authorization": "Bearer eyJ/);

      await replaceQuery(page, `query IncidentByNumber { incident(number: "${incident.number}") { number title priorityLabel state } }`);
      await page.getByRole('button', { name: /^Prettify query/ }).click();
      await waitForOperation(page, 'IncidentByNumber');
      await page.locator('.graphiql-execute-button').click();
      const response = page.locator('.graphiql-response');
      await expect.poll(async () => normalize(await response.textContent()), { timeout: 30_000 }).toContain(
        `"incident": { "number": "${incident.number}", "title": "Printer queue stuck on floor 3", "priorityLabel": "High", "state": "NEW" }`,
      );
      await page.screenshot({ path: join(SCREENSHOTS, 'ide.png') });

      // A subscription runs over the gateway's graphql-ws with the same token.
      await replaceQuery(page, 'subscription WatchSlaEvents { slaEvents { kind slaKind incident { number title } } }');
      await waitForOperation(page, 'WatchSlaEvents');
      await page.locator('.graphiql-execute-button').click();
      const expected = `"slaEvents": { "kind": "WARNING", "slaKind": "RESPONSE", "incident": { "number": "${incident.number}", "title": "Printer queue stuck on floor 3" } }`;
      // The stream starts once the gateway has opened it upstream: fire until the first event shows (bounded).
      for (let attempt = 0; attempt < 30 && !normalize(await response.textContent()).includes(expected); attempt++) {
        await fireSlaEvent(DEMO_TENANT_ID, incident, 'SLA_WARNING', { kind: 'RESPONSE', level: 1, percent: 70 });
        await expect.poll(async () => normalize(await response.textContent()), { timeout: 1000 }).toContain(expected).catch(() => {});
      }
      expect(normalize(await response.textContent())).toContain(expected);
      expect(offOrigin()).toEqual([]);
      await page.close();
    });
  });

  describe('SLA dashboard at /dashboard', () => {
    it('lists SLAs at risk and breached by priority, streams breaches and conflicts, and resumes from its cursor after a drop', async () => {
      const tenantId = crypto.randomUUID();
      const token = await graph.token({ tenant: tenantId, roles: ['agent'] });
      // Priority 1 runs on the 24x7 calendar, so its percentages do not depend on the hour the test runs: opened
      // 20 minutes ago its 15-minute response SLA is breached, opened 12 minutes ago it is at 80 %.
      const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
      const critical = await createIncident(tenantId, { title: 'Core switch down in DC1', impact: 1, urgency: 1 }, minutesAgo(20));
      const atRisk = await createIncident(tenantId, { title: 'Payment gateway timeouts', impact: 1, urgency: 1 }, minutesAgo(12));
      const fresh = await createIncident(tenantId, { title: 'VPN drops every 10 minutes', impact: 2, urgency: 2 });

      const page = await browser.newPage();
      // The page's WebSocket goes through this proxy, so the test can cut it and refuse reconnects for a while.
      const network = { down: false, sockets: [] as WebSocketRoute[] };
      await page.routeWebSocket(/\/graphql$/, (socket) => {
        if (network.down) return void socket.close({ code: 4000, reason: 'network down (test)' });
        socket.connectToServer();
        network.sockets.push(socket);
      });
      await page.goto(`${origin}/dashboard#token=${token}`);
      await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor({ timeout: 30_000 });
      const rows = page.getByTestId('sla-row');
      await expect.poll(async () => (await rows.allTextContents()).map(normalize), { timeout: 30_000 }).toEqual(
        expect.arrayContaining([expect.stringMatching(new RegExp(`^${critical.number}Core switch down in DC1response\\d+ %.* over$`))]),
      );
      await expect.poll(async () => (await rows.allTextContents()).map(normalize)).toEqual(
        expect.arrayContaining([expect.stringMatching(new RegExp(`^${atRisk.number}Payment gateway timeoutsresponse\\d+ %.* left$`))]),
      );
      expect((await rows.allTextContents()).some((t) => t.startsWith(fresh.number))).toBe(false);

      // A stream opened without a cursor starts "now", once the gateway has opened it on the incident subgraph: until
      // the first event reaches the page, an event could land before that. So a level-1 warning is fired until one
      // shows (bounded); from then on the page holds a cursor and every later event is replayed or streamed.
      const warning = page.getByTestId('alert').filter({ hasText: `${fresh.number} response at 70 %` });
      for (let attempt = 0; attempt < 30 && !(await warning.count()); attempt++) {
        await fireSlaEvent(tenantId, fresh, 'SLA_WARNING', { kind: 'RESPONSE', level: 1, percent: 70 });
        await warning.first().waitFor({ timeout: 1000 }).catch(() => {});
      }
      await warning.first().waitFor({ timeout: 1000 });

      // The breach, as the SLA monitor records it: an outbox event in the incident subgraph's schema.
      await fireSlaEvent(tenantId, fresh, 'SLA_BREACHED', { kind: 'RESOLUTION', level: null, percent: 100 });
      const alert = page.getByTestId('alert').filter({ hasText: `${fresh.number} resolution breached` });
      await alert.waitFor({ timeout: 30_000 });
      expect(normalize(await alert.textContent())).toContain('P2 High · VPN drops every 10 minutes');

      // The connection drops and stays down (every reconnect refused) while a breach is recorded; once the network
      // is back the page resubscribes from its last cursor and the breach it missed arrives.
      network.down = true;
      for (const socket of network.sockets.splice(0)) await socket.close({ code: 4000, reason: 'network dropped (test)' });
      await page.getByTestId('connection').filter({ hasText: 'reconnecting' }).waitFor({ timeout: 30_000 });
      await fireSlaEvent(tenantId, atRisk, 'SLA_BREACHED', { kind: 'RESPONSE', level: null, percent: 100 });
      network.down = false;
      await page.getByTestId('alert').filter({ hasText: `${atRisk.number} response breached` }).waitFor({ timeout: 60_000 });
      await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor({ timeout: 30_000 });

      // A change-conflict alert from real detection: two changes on the same configuration item, overlapping.
      const changeToken = await graph.token({ tenant: tenantId, roles: ['change_manager'] });
      const start = Date.now() + 86_400_000;
      const hours = (h: number) => new Date(start + h * 3_600_000).toISOString();
      const numbers: string[] = [];
      for (const [title, from, to] of [['Replace mail relay disks', 0, 2], ['Patch mail relay OS', 1, 3]] as const) {
        const created = await graph.request<any>(
          `mutation ($input: CreateChangeRequestInput!) { createChangeRequest(input: $input) { changeRequest { number } errors { code message } } }`,
          { input: { title, type: 'NORMAL', configurationItems: ['mail-relay-01'], plannedStart: hours(from), plannedEnd: hours(to) } },
          changeToken,
        );
        expect(created.body.errors).toBeUndefined();
        expect(created.body.data.createChangeRequest.errors).toEqual([]);
        numbers.push(created.body.data.createChangeRequest.changeRequest.number);
      }
      // Detection records the overlap on both changes: one alert each, naming the other.
      const conflicts = page.getByTestId('alert').filter({ hasText: 'overlapping change' }).locator('strong');
      await expect.poll(async () => (await conflicts.allTextContents()).map(normalize).sort(), { timeout: 30_000 }).toEqual([
        `${numbers[0]} ↔ ${numbers[1]}: overlapping change (HIGH)`,
        `${numbers[1]} ↔ ${numbers[0]}: overlapping change (HIGH)`,
      ]);
      await page.screenshot({ path: join(SCREENSHOTS, 'dashboard.png') });
      expect(offOrigin()).toEqual([]);
      await page.close();
    });
  });

});

/** Appends an SLA event to the incident subgraph's outbox, in the shape the SLA monitor writes. */
async function fireSlaEvent(
  tenantId: string,
  incident: { id: string; number: string },
  type: 'SLA_WARNING' | 'SLA_BREACHED',
  sla: { kind: 'RESPONSE' | 'RESOLUTION'; level: 1 | null; percent: number },
): Promise<void> {
  const now = new Date().toISOString();
  await graph.databases.incident.db.transaction((tx) =>
    appendEvents(tx, 'incident', [
      { tenantId, type, payload: { incidentId: incident.id, incidentNumber: incident.number, slaId: crypto.randomUUID(), ...sla, dueAt: now, firedAt: now } },
    ]),
  );
}

/** Replaces the text of GraphiQL's (Monaco) query editor; insertText avoids the editor's bracket auto-closing. */
async function replaceQuery(page: Page, query: string): Promise<void> {
  await page.locator('.graphiql-query-editor .monaco-editor').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(query);
}

/** GraphiQL reads the operation name from the editor after a debounce: run only once its tab shows the new name. */
async function waitForOperation(page: Page, name: string): Promise<void> {
  await page.locator('[aria-label="Select active operation"]').filter({ hasText: name }).waitFor({ timeout: 10_000 });
}

/** Collapses whitespace (Monaco renders spaces as non-breaking ones) so results compare on their text. */
function normalize(text: string | null): string {
  return (text ?? '').replace(/[\s\u00a0]+/g, ' ').trim();
}
