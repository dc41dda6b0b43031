import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '@itsm/kit';
import { startTestGraph, type TestGraph } from './harness.js';

let graph: TestGraph;
beforeAll(async () => {
  graph = await startTestGraph();
});
afterAll(async () => {
  await graph?.stop();
});

const SCHEMAS = ['incident', 'problem', 'change'] as const;

describe('row-level security, the second wall', () => {
  it('enables a tenant policy on every table of every subgraph that has a tenant_id', async () => {
    for (const schema of SCHEMAS) {
      const rows = await queryRows<{ table_name: string; rls: boolean; policies: number }>(
        graph.databases[schema].db,
        sql`select c.relname as table_name, c.relrowsecurity as rls,
                   (select count(*)::int from pg_policies p where p.schemaname = n.nspname and p.tablename = c.relname) as policies
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = ${schema} and c.relkind in ('r', 'p')
              and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)
            order by 1`,
      );
      expect(rows.length).toBeGreaterThan(2);
      expect(rows.filter((r) => !r.rls || r.policies !== 1)).toEqual([]);
    }
  });

  it('a query that forgets its tenant filter still sees only the caller\'s rows', async () => {
    const tenantA = randomUUID();
    const tokenA = await graph.token({ tenant: tenantA });
    for (const title of ['Disk full', 'VPN down', 'Mail bounce']) {
      const { body } = await graph.request<any>(`mutation ($t: String!) { createIncident(input: { title: $t, impact: 3, urgency: 3 }) { errors { code } } }`, { t: title }, tokenA);
      expect(body.data.createIncident.errors).toEqual([]);
    }
    const unfiltered = sql`select count(*)::int as n from incident.incidents`;
    const [asA] = await queryRows<{ n: number }>(graph.databases.incident.forTenant(tenantA), unfiltered);
    const [asB] = await queryRows<{ n: number }>(graph.databases.incident.forTenant(randomUUID()), unfiltered);
    const [asOwner] = await queryRows<{ n: number }>(graph.databases.incident.db, sql`select count(*)::int as n from incident.incidents where tenant_id = ${tenantA}`);
    expect(asA!.n).toBe(3);
    expect(asOwner!.n).toBe(3);
    expect(asB!.n).toBe(0);
  });

  it('refuses to write a row for another tenant and leaves nothing behind', async () => {
    const tenantA = randomUUID();
    const tenantB = randomUUID();
    const insert = sql`insert into problem.counters (tenant_id, name, value) values (${tenantA}, 'probe', 1)`;
    const refused = await graph.databases.problem.forTenant(tenantB).execute(insert).then(() => null, (error: { cause?: Error }) => error);
    expect(refused?.cause?.message).toMatch(/violates row-level security policy/);
    const [left] = await queryRows<{ n: number }>(graph.databases.problem.db, sql`select count(*)::int as n from problem.counters where tenant_id = ${tenantA}`);
    expect(left!.n).toBe(0);
  });

  it('keeps the tenant setting inside its own transaction on pooled connections', async () => {
    const tenants = Array.from({ length: 8 }, () => randomUUID());
    const seen = await Promise.all(
      tenants.flatMap((tenant) =>
        Array.from({ length: 5 }, () =>
          queryRows<{ tenant: string }>(graph.databases.change.forTenant(tenant), sql`select current_setting('app.tenant_id', true) as tenant`),
        ),
      ),
    );
    expect(seen.map((rows) => rows[0]!.tenant)).toEqual(tenants.flatMap((t) => Array(5).fill(t)));
    const [outside] = await queryRows<{ tenant: string | null }>(graph.databases.change.db, sql`select nullif(current_setting('app.tenant_id', true), '') as tenant`);
    expect(outside!.tenant).toBeNull();
  });
});
