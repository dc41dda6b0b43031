import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import WebSocket from 'ws';
import { createTokenVerifier, startGateway, type RunningGateway } from '@itsm/gateway';
import { appendEvents, DATA_DIR_LOCK_FILE, IDENTITY_HEADERS, openDatabase, signIdentity } from '@itsm/kit';
import { problemSubgraph } from '@itsm/problem';
import { SUPERGRAPH_FILE } from '../schema/compose.js';
import { fillDemoTenant } from '../scripts/first-start.js';
import { importServiceNowLog } from '../scripts/import/servicenow-import.js';
import { startTestGraph, type TestGraph } from './harness.js';
import { subscribeOverWebSocket } from './ws-client.js';

/**
 * Attacks on the graph from outside (identity smuggling, odd tokens, subscriptions abuse) and the races of
 * ordinary clients (parallel creates, transitions, links), all through the gateway on PostgreSQL.
 */

let graph: TestGraph;
beforeAll(async () => {
  graph = await startTestGraph({ background: false });
});
afterAll(async () => {
  await graph?.stop();
});

const CREATE = `mutation ($input: CreateIncidentInput!) { createIncident(input: $input) { incident { id number version state } errors { __typename code message } } }`;
const TRANSITION = `mutation ($input: TransitionIncidentInput!) { transitionIncident(input: $input) { incident { id state version } errors { __typename code message ... on VersionConflict { currentVersion } } } }`;
const COUNT = `{ incidents(first: 1) { totalCount } }`;
const SLA_EVENTS = `subscription ($after: String) { slaEvents(after: $after) { cursor kind incident { id number } } }`;

/** Posts to the gateway with extra headers. */
async function post(body: unknown, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const response = await fetch(graph.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

/** Headers of every request the incident subgraph receives while `run` runs. */
async function incidentSubgraphHeaders(run: () => Promise<void>): Promise<IncomingHttpHeaders[]> {
  const seen: IncomingHttpHeaders[] = [];
  const record = (req: IncomingMessage) => void (req.url?.startsWith('/graphql') && seen.push({ ...req.headers }));
  graph.subgraphs.incident.server.prependListener('request', record);
  try {
    await run();
  } finally {
    graph.subgraphs.incident.server.removeListener('request', record);
  }
  return seen;
}

const codeOf = (body: any) => body.errors?.[0]?.extensions?.code;

/** Waits until `condition` holds, checking every 20 ms (fails the test after 15 s). */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
const hs256 = (secret: string) => new TextEncoder().encode(secret);

/** An SLA breach in the tenant's outbox, as the SLA monitor writes it. */
async function appendBreach(tenantId: string, incident: { id: string; number: string }): Promise<void> {
  const now = new Date().toISOString();
  await graph.databases.incident.db.transaction((tx) =>
    appendEvents(tx, 'incident', [
      { tenantId, type: 'SLA_BREACHED', payload: { incidentId: incident.id, incidentNumber: incident.number, slaId: randomUUID(), kind: 'RESOLUTION', level: null, percent: 100, dueAt: now, firedAt: now } },
    ]),
  );
}

describe('identity', () => {
  it('identity and request-id headers a client sends the gateway never reach a subgraph', async () => {
    const victim = randomUUID();
    const victimToken = await graph.token({ tenant: victim, roles: ['admin'] });
    expect((await graph.request(CREATE, { input: { title: 'victim incident', impact: 3, urgency: 3 } }, victimToken)).body.errors).toBeUndefined();

    const attacker = randomUUID();
    const attackerToken = await graph.token({ tenant: attacker, roles: ['partner'], sub: 'mallory' });
    const forged = signIdentity({ userId: 'boss', tenantId: victim, roles: ['admin'] }, 'not-the-internal-secret-0000000000000000');
    const smuggled = { ...forged, [IDENTITY_HEADERS.requestId]: 'forged id; with spaces', authorization: `Bearer ${attackerToken}` };
    let read: { status: number; body: any } | undefined;
    let write: { status: number; body: any } | undefined;
    const headers = await incidentSubgraphHeaders(async () => {
      read = await post({ query: COUNT }, smuggled);
      write = await post({ query: CREATE, variables: { input: { title: 'smuggled', impact: 1, urgency: 1 } } }, smuggled);
    });
    expect(read!.body).toEqual({ data: { incidents: { totalCount: 0 } } });
    expect(write!.body.data.createIncident).toEqual({ incident: null, errors: [expect.objectContaining({ __typename: 'Forbidden', code: 'FORBIDDEN' })] });
    expect(headers).toHaveLength(2);
    for (const h of headers) {
      expect([h[IDENTITY_HEADERS.tenant], h[IDENTITY_HEADERS.user], h[IDENTITY_HEADERS.roles]]).toEqual([attacker, 'mallory', 'partner']);
      expect(h[IDENTITY_HEADERS.signature]).not.toBe(forged[IDENTITY_HEADERS.signature]);
      expect(h[IDENTITY_HEADERS.requestId]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
    // A safe request id is the caller's to choose (it follows the request through the logs), and only that.
    const traced = await incidentSubgraphHeaders(async () => void (await post({ query: COUNT }, { authorization: `Bearer ${attackerToken}`, [IDENTITY_HEADERS.requestId]: 'trace-123' })));
    expect(traced.map((h) => [h[IDENTITY_HEADERS.requestId], h[IDENTITY_HEADERS.tenant]])).toEqual([['trace-123', attacker]]);
    // The victim's incident is still alone in its tenant.
    expect((await graph.request(COUNT, {}, victimToken)).body.data).toEqual({ incidents: { totalCount: 1 } });
  });

  it('reads the tenant claim as a uuid only: upper case is the same tenant, anything else INVALID_TOKEN', async () => {
    const tenant = randomUUID();
    const lower = await graph.token({ tenant, roles: ['agent'] });
    await graph.request(CREATE, { input: { title: 'mine', impact: 3, urgency: 3 } }, lower);
    const upper = await graph.token({ tenant: tenant.toUpperCase(), roles: ['agent'] });
    expect((await graph.request(COUNT, {}, upper)).body).toEqual({ data: { incidents: { totalCount: 1 } } });

    const secret = hs256(graph.config.jwt.secret!);
    for (const odd of [` ${tenant}`, `${tenant}\n`, [tenant], { id: tenant }, 42, null, '', `${tenant},${randomUUID()}`]) {
      const token = await new SignJWT({ tenant: odd as never, roles: ['agent'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('u').setExpirationTime('1h').sign(secret);
      const response = await graph.request(COUNT, {}, token);
      expect([JSON.stringify(odd), response.status, codeOf(response.body), response.body.data]).toEqual([JSON.stringify(odd), 401, 'INVALID_TOKEN', undefined]);
    }
  });

  it('refuses alg none, a token without exp and a token not valid yet (nbf), and writes nothing', async () => {
    const tenant = randomUUID();
    const secret = hs256(graph.config.jwt.secret!);
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const cases = {
      algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'u', tenant, roles: ['admin'], exp })}.`,
      noExp: await new SignJWT({ tenant, roles: ['agent'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('u').setIssuedAt().sign(secret),
      notYet: await new SignJWT({ tenant, roles: ['agent'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('u').setNotBefore('10m').setExpirationTime('1h').sign(secret),
    };
    const outcome: Record<string, unknown> = {};
    for (const [name, token] of Object.entries(cases)) {
      const response = await graph.request(CREATE, { input: { title: name, impact: 3, urgency: 3 } }, token);
      outcome[name] = [response.status, codeOf(response.body), response.body.data];
    }
    expect(outcome).toEqual({ algNone: [401, 'INVALID_TOKEN', undefined], noExp: [401, 'INVALID_TOKEN', undefined], notYet: [401, 'INVALID_TOKEN', undefined] });
    // Over graphql-ws too: a token without exp would otherwise keep a connection open for good.
    const sub = subscribeOverWebSocket(graph.url, cases.noExp, SLA_EVENTS);
    expect(await sub.ended).toEqual({ kind: 'closed', code: 4401, reason: expect.stringMatching(/^INVALID_TOKEN: /) });
    await sub.close();
    expect((await graph.request(COUNT, {}, await graph.token({ tenant }))).body.data).toEqual({ incidents: { totalCount: 0 } });
  });

  it('refuses a roles claim that is not a list (rather than reading it as no roles)', async () => {
    const tenant = randomUUID();
    const secret = hs256(graph.config.jwt.secret!);
    const sign = (roles: unknown) => new SignJWT({ tenant, roles: roles as never }).setProtectedHeader({ alg: 'HS256' }).setSubject('u').setExpirationTime('1h').sign(secret);
    const outcome: unknown[] = [];
    for (const roles of ['admin', 'admin agent', { admin: true }, 7]) {
      const response = await graph.request(COUNT, {}, await sign(roles));
      outcome.push([roles, response.status, codeOf(response.body)]);
    }
    expect(outcome).toEqual([
      ['admin', 401, 'INVALID_TOKEN'],
      ['admin agent', 401, 'INVALID_TOKEN'],
      [{ admin: true }, 401, 'INVALID_TOKEN'],
      [7, 401, 'INVALID_TOKEN'],
    ]);
    // A list keeps the roles it knows and ignores the others (identity providers add their own); no claim is no role.
    const known = await graph.request(CREATE, { input: { title: 'known roles', impact: 3, urgency: 3 } }, await sign(['offline_access', 'agent']));
    expect(known.body.data).toMatchObject({ createIncident: { errors: [], incident: { number: 'INC0000001' } } });
    const none = await new SignJWT({ tenant }).setProtectedHeader({ alg: 'HS256' }).setSubject('u').setExpirationTime('1h').sign(secret);
    const refused = await graph.request(CREATE, { input: { title: 'no roles', impact: 3, urgency: 3 } }, none);
    expect(refused.body.data).toMatchObject({ createIncident: { incident: null, errors: [{ __typename: 'Forbidden' }] } });
  });

  it('a user id outside Latin-1 (from the identity provider) reaches the subgraphs and is recorded as sent', async () => {
    const tenant = randomUUID();
    const token = await graph.token({ tenant, roles: ['agent'], sub: 'zoë.李雷@example.com' });
    const response = await graph.request<any>(`mutation { createIncident(input: { title: "unicode user", impact: 3, urgency: 3 }) { incident { number history { actor } } errors { code } } }`, {}, token);
    expect(response.body).toEqual({ data: { createIncident: { errors: [], incident: { number: 'INC0000001', history: [{ actor: 'zoë.李雷@example.com' }] } } } });
    // Subscriptions too: the gateway opens the subgraph stream with the same identity in its connectionParams.
    const incident = (await graph.request<any>(`{ incidents(first: 1) { edges { node { id number } } } }`, {}, token)).body.data.incidents.edges[0].node;
    const sub = subscribeOverWebSocket<any>(graph.url, token, SLA_EVENTS, { after: '0.0' });
    await appendBreach(tenant, incident);
    expect((await sub.received(1)).map((r) => r.data?.slaEvents?.incident)).toEqual([incident]);
    await sub.close();

  });

  describe('with JWKS_URL (production tokens)', () => {
    let jwks: Server;
    let gateway: RunningGateway;
    let privateKey: CryptoKey;
    let publicJwk: JWK;
    beforeAll(async () => {
      const pair = await generateKeyPair('RS256', { extractable: true });
      privateKey = pair.privateKey;
      publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
      jwks = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [publicJwk] }));
      });
      await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
      gateway = await startGateway({
        supergraphSdl: readFileSync(SUPERGRAPH_FILE, 'utf8'),
        subgraphUrls: { incident: graph.subgraphs.incident.url, problem: graph.subgraphs.problem.url, change: graph.subgraphs.change.url },
        internalSecret: graph.config.internalSecret,
        verifyToken: createTokenVerifier({ jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json` }),
        logger: graph.logger.child({ service: 'gateway-jwks' }),
        host: '127.0.0.1',
        port: 0,
        limits: { ...graph.config.limits, rateLimitPerMinute: 0 },
      });
    });
    afterAll(async () => {
      await gateway?.close();
      await new Promise<void>((resolve) => jwks?.close(() => resolve()));
    });

    const ask = async (token: string) => {
      const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: COUNT }) });
      return [response.status, codeOf(await response.json())];
    };

    it('accepts an RS256 token of the key set and refuses HS256 tokens signed with the public key or the dev secret', async () => {
      const tenant = randomUUID();
      const claims = { tenant, roles: ['admin'] };
      const good = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('u').setExpirationTime('1h').sign(privateKey);
      expect(await ask(good)).toEqual([200, undefined]);
      const confusedKey = hs256(JSON.stringify(publicJwk));
      const confused = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setSubject('u').setExpirationTime('1h').sign(confusedKey);
      const devSecret = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('u').setExpirationTime('1h').sign(hs256(graph.config.jwt.secret!));
      expect(await ask(confused)).toEqual([401, 'INVALID_TOKEN']);
      expect(await ask(devSecret)).toEqual([401, 'INVALID_TOKEN']);
      const noExp = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('u').sign(privateKey);
      expect(await ask(noExp)).toEqual([401, 'INVALID_TOKEN']);
    });
  });
});


/** The tenant's committed outbox cursors, oldest first (read from the table, as the visibility guard may lag). */
async function outboxCursors(tenantId: string): Promise<string[]> {
  const rows = (await graph.databases.incident.postgres!`select txid, position from incident.outbox where tenant_id = ${tenantId} order by txid, position`) as { txid: string; position: string }[];
  return rows.map((r) => `${Number(r.txid).toString(36)}.${Number(r.position).toString(36)}`);
}

describe('subscriptions', () => {
  it('a subgraph refuses WebSocket connections whose signed identity is forged, altered or stale', async () => {
    const tenant = randomUUID();
    const secret = graph.config.internalSecret;
    const identity = { userId: 'u', tenantId: tenant, roles: ['admin' as const] };
    const valid = signIdentity(identity, secret);
    const attempts = {
      forged: signIdentity(identity, 'a-guessed-internal-secret-0000000000000000'),
      otherTenant: { ...valid, [IDENTITY_HEADERS.tenant]: randomUUID() },
      moreRoles: { ...signIdentity({ ...identity, roles: ['partner'] }, secret), [IDENTITY_HEADERS.roles]: 'admin' },
      stale: signIdentity(identity, secret, Date.now() - 6 * 60_000),
    };
    const outcome: Record<string, unknown> = {};
    for (const [name, connectionParams] of Object.entries(attempts)) {
      const sub = subscribeOverWebSocket(graph.subgraphs.incident.url, undefined, `subscription { slaEvents { cursor } }`, {}, { connectionParams });
      const end = (await sub.ended) as { kind: string; code?: number; reason?: string };
      outcome[name] = [end.kind, end.code, end.reason?.split(':')[0]];
      await sub.close();
    }
    expect(outcome).toEqual({
      forged: ['closed', 4403, 'UNSIGNED_REQUEST'],
      otherTenant: ['closed', 4403, 'UNSIGNED_REQUEST'],
      moreRoles: ['closed', 4403, 'UNSIGNED_REQUEST'],
      stale: ['closed', 4403, 'UNSIGNED_REQUEST'],
    });
  });

  it("resuming after another tenant's cursor gives only the subscriber's own events", async () => {
    const a = randomUUID();
    const b = randomUUID();
    const tokenA = await graph.token({ tenant: a, roles: ['agent'] });
    const tokenB = await graph.token({ tenant: b, roles: ['agent'] });
    const create = async (token: string, title: string) => (await graph.request<any>(CREATE, { input: { title, impact: 3, urgency: 3 } }, token)).body.data.createIncident.incident;
    const incidentA = await create(tokenA, 'A secret');
    const incidentB = await create(tokenB, 'B own');
    for (let i = 0; i < 3; i++) await appendBreach(a, incidentA);
    const cursorsA = await outboxCursors(a);
    // B resumes from before A's events, from between them and from A's last one.
    const subs = [cursorsA[0]!, cursorsA[1]!, cursorsA[cursorsA.length - 1]!].map((after) => subscribeOverWebSocket<any>(graph.url, tokenB, SLA_EVENTS, { after }));
    await appendBreach(a, incidentA);
    await appendBreach(b, incidentB);
    const results = await Promise.all(subs.map((s) => s.received(1)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const [i, sub] of subs.entries()) {
      expect([i, sub.results.map((r) => r.data?.slaEvents?.incident)]).toEqual([i, [{ id: incidentB.id, number: incidentB.number }]]);
      expect(JSON.stringify(results[i])).not.toContain(incidentA.id);
      await sub.close();
    }
  });

  it('a token expiring under three live subscriptions closes the connection with TOKEN_EXPIRED and releases all three', async () => {
    await until(() => graph.gateway.subscriptions.activeCount === 0);
    const token = await graph.token({ expiresIn: '2s' });
    const client = createClient({ url: graph.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    const ends = Array.from({ length: 3 }, () => new Promise<unknown>((resolve) => client.subscribe({ query: SLA_EVENTS }, { next: () => {}, error: resolve, complete: () => resolve('complete') })));
    await until(() => graph.gateway.subscriptions.activeCount === 3);
    const closes = await Promise.all(ends);
    expect(closes.map((e) => [(e as { code?: number }).code, (e as { reason?: string }).reason?.split(':')[0]])).toEqual(Array(3).fill([4401, 'TOKEN_EXPIRED']));
    await until(() => graph.gateway.subscriptions.activeCount === 0);
    await client.dispose();
  });

  it('caps subscriptions on one connection: the 101st is refused with TOO_MANY_SUBSCRIPTIONS, the others keep running', async () => {
    const tenant = randomUUID();
    const token = await graph.token({ tenant, roles: ['agent'] });
    const incident = (await graph.request<any>(CREATE, { input: { title: 'capped', impact: 3, urgency: 3 } }, token)).body.data.createIncident.incident;
    await until(() => graph.gateway.subscriptions.activeCount === 0);
    const client = createClient({ url: graph.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
    const subscribe = (variables: Record<string, unknown> = {}) => {
      let dispose!: () => void;
      const outcome = new Promise<unknown>((resolve) => {
        dispose = client.subscribe({ query: SLA_EVENTS, variables }, { next: (result) => resolve(result), error: (error) => resolve(error), complete: () => resolve('complete') });
      });
      return { outcome, dispose };
    };
    // 101 subscribe messages in one burst.
    const subs = Array.from({ length: 101 }, () => subscribe());
    const first = await Promise.race(subs.map((sub, i) => sub.outcome.then((value) => ({ i, value }))));
    expect(first).toEqual({ i: 100, value: [expect.objectContaining({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } })] });
    await until(() => graph.gateway.subscriptions.activeCount === 100);
    // One ends: there is room for one more, which runs.
    subs[0]!.dispose();
    await until(() => graph.gateway.subscriptions.activeCount === 99);
    const again = subscribe({ after: '0.0' });
    await appendBreach(tenant, incident);
    expect(await again.outcome).toMatchObject({ data: { slaEvents: { kind: 'BREACHED', incident: { id: incident.id, number: incident.number } } } });
    expect(graph.gateway.subscriptions.activeCount).toBe(100);
    await client.dispose();
  });
});

describe('WebSocket message size', () => {
  it('refuses a message over MAX_BODY_BYTES with 1009 before reading it: on the gateway (even before the token) and on a subgraph', async () => {
    const tooBig = JSON.stringify({ type: 'connection_init', payload: { junk: 'x'.repeat(graph.config.limits.maxBodyBytes) } });
    const codes: number[] = [];
    for (const url of [graph.url, graph.subgraphs.incident.url]) {
      const ws = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      ws.send(tooBig);
      codes.push(await closed);
    }
    expect(codes).toEqual([1009, 1009]);

    // Authenticated: an operation just under the limit runs, one just over it closes the connection.
    const token = await graph.token();
    const run = (padding: number) => {
      const client = createClient({ url: graph.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
      return new Promise<unknown>((resolve) => {
        client.subscribe({ query: `# ${'x'.repeat(padding)}\n{ __typename }` }, { next: (result) => resolve(result), error: (error) => resolve((error as { code?: number }).code ?? error), complete: () => {} });
      }).finally(() => client.dispose());
    };
    expect(await run(graph.config.limits.maxBodyBytes - 1000)).toEqual({ data: { __typename: 'Query' } });
    expect(await run(graph.config.limits.maxBodyBytes)).toBe(1009);
  });
});

describe('races', () => {
  it('100 createIncident at once in one tenant get 100 distinct numbers, 1 to 100', async () => {
    const token = await graph.token({ roles: ['agent'] });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => graph.request<any>(CREATE, { input: { title: `parallel ${i}`, impact: 3, urgency: 3 } }, token)));
    const numbers = results.map((r) => r.body.data.createIncident.incident.number as string).sort();
    expect(numbers).toEqual(Array.from({ length: 100 }, (_, i) => `INC${String(i + 1).padStart(7, '0')}`));
    expect((await graph.request(COUNT, {}, token)).body.data).toEqual({ incidents: { totalCount: 100 } });
  });

  it('of 10 transitions sent at once with the same version exactly one wins; the others get VersionConflict', async () => {
    const token = await graph.token({ roles: ['agent'] });
    const incident = (await graph.request<any>(CREATE, { input: { title: 'contended', impact: 3, urgency: 3 } }, token)).body.data.createIncident.incident;
    const targets = Array.from({ length: 10 }, (_, i) => (i % 2 ? 'IN_PROGRESS' : 'CANCELLED'));
    const results = await Promise.all(targets.map((to) => graph.request<any>(TRANSITION, { input: { id: incident.id, version: incident.version, to, reason: 'race' } }, token)));
    const payloads = results.map((r) => r.body.data.transitionIncident);
    const winners = payloads.filter((p) => p.incident);
    expect(winners).toHaveLength(1);
    expect(payloads.filter((p) => !p.incident).map((p) => p.errors)).toEqual(Array(9).fill([expect.objectContaining({ __typename: 'VersionConflict', currentVersion: 2 })]));
    const now = await graph.request<any>(`query ($id: ID!) { incident(id: $id) { state version history { field to } } }`, { id: incident.id }, token);
    expect(now.body.data.incident).toMatchObject({ state: winners[0].incident.state, version: 2 });
    expect(now.body.data.incident.history.filter((h: any) => h.field === 'state')).toEqual([
      { field: 'state', to: 'NEW' },
      { field: 'state', to: winners[0].incident.state },
    ]);
  });

  it('the same incident linked to a problem by 10 requests at once makes one link; 10 incidents at once make 10', async () => {
    const token = await graph.token({ roles: ['agent'] });
    const create = (title: string) => graph.request<any>(CREATE, { input: { title, impact: 3, urgency: 3 } }, token);
    const incidents = (await Promise.all(Array.from({ length: 11 }, (_, i) => create(`linked ${i}`)))).map((r) => r.body.data.createIncident.incident);
    const problem = (await graph.request<any>(`mutation { createProblem(input: { title: "race" }) { problem { id } errors { code } } }`, {}, token)).body.data.createProblem.problem;
    const LINK = `mutation ($input: LinkIncidentInput!) { linkIncidentToProblem(input: $input) { problem { incidentCount } errors { code message } } }`;
    const same = await Promise.all(Array.from({ length: 10 }, () => graph.request<any>(LINK, { input: { problemId: problem.id, incidentId: incidents[0].id } }, token)));
    expect(same.map((r) => r.body.data.linkIncidentToProblem)).toEqual(Array(10).fill({ problem: { incidentCount: 1 }, errors: [] }));
    await Promise.all(incidents.slice(1).map((incident) => graph.request<any>(LINK, { input: { problemId: problem.id, incidentId: incident.id } }, token)));
    const PROBLEM = `query ($id: ID!) { problem(id: $id) { incidentCount incidentLinks { incident { id } } incidents { id } } }`;
    const read = (await graph.request<any>(PROBLEM, { id: problem.id }, token)).body.data.problem;
    expect(read.incidentCount).toBe(11);
    expect(new Set(read.incidents.map((i: any) => i.id))).toEqual(new Set(incidents.map((i) => i.id)));
    const events = (await graph.databases.problem.postgres!`select payload->>'incidentId' as id from problem.outbox where tenant_id = ${decodeJwt(token)['tenant'] as string} and type = 'INCIDENT_LINKED'`) as { id: string }[];
    expect(events.filter((e) => e.id === incidents[0].id)).toHaveLength(1);
    expect(events).toHaveLength(11);
  });
});

const SERVICENOW_LOG = fileURLToPath(new URL('../../shared/data/servicenow-incident-event-log.csv', import.meta.url));

describe('first start (pnpm start) stopped half-way', () => {
  /** The event log cut to its first `count` incidents (all their rows). */
  const firstIncidents = (text: string, count: number) => {
    const [header, ...rows] = text.trimEnd().split('\n');
    const numbers: string[] = [];
    const kept = rows.filter((row) => {
      const number = row.slice(0, row.indexOf(','));
      if (!numbers.includes(number)) numbers.push(number);
      return numbers.indexOf(number) < count;
    });
    return [header, ...kept].join('\n') + '\n';
  };
  /** What a client sees of a tenant, and the number its next incident gets. */
  const snapshot = async (tenant: string) => {
    const token = await graph.token({ tenant, roles: ['agent'] });
    const query = `{
      incidents(first: 100) { totalCount edges { node { number state priority version reassignmentCount problem { externalRef incidentCount } relatedChanges { externalRef } } } }
      problems(first: 10) { totalCount edges { node { externalRef incidentCount } } }
    }`;
    const read = await graph.request<any>(query, {}, token);
    expect(read.body.errors).toBeUndefined();
    const next = await graph.request<any>(CREATE, { input: { title: 'after the import', impact: 3, urgency: 3 } }, token);
    const byNumber = (edges: any[]) => edges.map((e) => e.node).sort((a, b) => a.number.localeCompare(b.number));
    const { incidents, problems } = read.body.data;
    return {
      incidents: { totalCount: incidents.totalCount, nodes: byNumber(incidents.edges) },
      problems: { totalCount: problems.totalCount, nodes: problems.edges.map((e: any) => e.node).sort((a: any, b: any) => a.externalRef.localeCompare(b.externalRef)) },
      next: next.body.data.createIncident.incident.number,
    };
  };

  it.skipIf(!existsSync(SERVICENOW_LOG))('the next start finishes an interrupted import (the same tenant as an uninterrupted one), then leaves it alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'itsm-first-start-'));
    try {
      const csvPath = join(dir, 'log.csv');
      const full = firstIncidents(readFileSync(SERVICENOW_LOG, 'utf8'), 20);
      writeFileSync(csvPath, full);
      const lines: string[] = [];
      const options = { demoData: 'auto' as const, csvPath, log: (line: string) => lines.push(line) };

      // An uninterrupted first start.
      const reference = randomUUID();
      expect(await fillDemoTenant(graph.databases, { ...options, tenantId: reference })).toBe('imported');
      // A first start killed after 6 of the 20 incidents: they and their links are there, nothing else (no marker).
      const interrupted = randomUUID();
      await importServiceNowLog(graph.databases, { tenantId: interrupted, csvText: firstIncidents(full, 6) });
      lines.length = 0;
      expect(await fillDemoTenant(graph.databases, { ...options, tenantId: interrupted })).toBe('imported');
      expect(lines[0]).toBe(`resuming the import of ${csvPath} into the demo tenant (an earlier start stopped after 6 incidents)`);
      const expected = await snapshot(reference);
      expect(expected.incidents.totalCount).toBe(20);
      expect(await snapshot(interrupted)).toEqual(expected);

      // Complete now: a later start does not import again (the incident created by snapshot() stays the 21st).
      expect(await fillDemoTenant(graph.databases, { ...options, tenantId: interrupted })).toBe('loaded-before');
      const token = await graph.token({ tenant: interrupted });
      expect((await graph.request(COUNT, {}, token)).body.data).toEqual({ incidents: { totalCount: 21 } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the generated set is seeded once; a tenant with incidents but no marker and no log is left as it is', async () => {
    const options = { demoData: 'generated' as const, csvPath: '/nonexistent.csv' };
    const seeded = randomUUID();
    expect(await fillDemoTenant(graph.databases, { ...options, tenantId: seeded })).toBe('seeded');
    expect(await fillDemoTenant(graph.databases, { ...options, tenantId: seeded })).toBe('loaded-before');
    const token = await graph.token({ tenant: seeded });
    expect((await graph.request(COUNT, {}, token)).body.data).toEqual({ incidents: { totalCount: 36 } });

    const half = randomUUID();
    const halfToken = await graph.token({ tenant: half, roles: ['agent'] });
    await graph.request(CREATE, { input: { title: 'seeded before the kill', impact: 3, urgency: 3 } }, halfToken);
    expect(await fillDemoTenant(graph.databases, { ...options, tenantId: half })).toBe('kept');
    expect((await graph.request(COUNT, {}, halfToken)).body.data).toEqual({ incidents: { totalCount: 1 } });
    expect(await fillDemoTenant(graph.databases, { ...options, demoData: 'none', tenantId: randomUUID() })).toBe('none');
  });
});

describe('two processes on one embedded (PGlite) data directory', () => {
  it('the second opener is refused while the first holds it (their writes would be lost); a lock left by a killed process is taken over', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'itsm-pglite-lock-'));
    const open = () => openDatabase({ dataDir: dir, schemaName: problemSubgraph.schemaName, migrationsFolder: problemSubgraph.migrationsFolder });
    const lockFile = join(dir, DATA_DIR_LOCK_FILE);
    try {
      // Held by another live process (this test's parent stands in for a running `pnpm start`).
      writeFileSync(lockFile, String(process.ppid));
      await expect(open()).rejects.toThrow(`the database directory ${dir} is in use by process ${process.ppid}`);
      // Left by a process killed with -9: taken over.
      const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
      writeFileSync(lockFile, String(dead));
      const first = await open();
      expect(readFileSync(lockFile, 'utf8')).toBe(String(process.pid));
      await expect(open()).rejects.toThrow(`is in use by process ${process.pid} (this one)`);
      await first.close();
      expect(existsSync(lockFile)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
