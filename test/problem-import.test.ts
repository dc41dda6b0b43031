import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cursorReached, encodeEventCursor, readConsumerCursor } from '@itsm/kit';
import { RECURRENCE_CONSUMER } from '@itsm/problem';
import { INCIDENT_EVENT_TYPES } from '../subgraphs/problem/src/services/recurrence-detector.js';
import { importServiceNowLog } from '../scripts/import/servicenow-import.js';
import { parseServiceNowLog } from '../scripts/import/servicenow-log.js';
import { startTestGraph, type TestGraph } from './harness.js';

const logUrl = new URL('../../shared/data/servicenow-incident-event-log.csv', import.meta.url);
const logAvailable = existsSync(logUrl);

/**
 * Problem management on the real event log. Only the rows of Problem ID  2's incidents are
 * imported (test/import.test.ts imports the whole file): enough for the problem facts, fast.
 */
describe.skipIf(!logAvailable)(`problems of the imported ServiceNow log (${fileURLToPath(logUrl)})`, { timeout: 240_000 }, () => {
  let graph: TestGraph;
  let token: string;
  let incidentNumbers: string[];

  beforeAll(async () => {
    graph = await startTestGraph();
    const csvText = readFileSync(logUrl, 'utf8');
    incidentNumbers = parseServiceNowLog(csvText).problems.find((p) => p.externalRef === 'Problem ID  2')!.incidentNumbers;
    const [header, ...rows] = csvText.split('\n');
    const wanted = new Set(incidentNumbers);
    const slice = [header, ...rows.filter((row) => wanted.has(row.slice(0, row.indexOf(','))))].join('\n') + '\n';
    const tenantId = randomUUID();
    const report = await importServiceNowLog(graph.databases, { tenantId, csvText: slice });
    expect(report).toMatchObject({ rowsRejected: 0, incidentsCreated: 27, incidentsFailed: [] });
    token = await graph.token({ tenant: tenantId, roles: ['agent'] });
    await detectorSettled(graph);
  }, 240_000);

  afterAll(async () => {
    await graph?.stop();
  });

  it('lists the 27 incidents of Problem ID  2 in one query through the gateway, with occurrence times from the incidents', async () => {
    const result = await graph.request<any>(
      `query ($ref: String) {
        problems(filter: { externalRef: $ref }) {
          totalCount
          edges { node { externalRef origin state incidentCount firstOccurredAt lastOccurredAt incidents { number openedAt problem { externalRef } } } }
        }
      }`,
      { ref: 'Problem ID  2' },
      token,
    );
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data.problems.totalCount).toBe(1);
    const problem = result.body.data.problems.edges[0].node;
    expect(problem).toMatchObject({ externalRef: 'Problem ID  2', origin: 'IMPORT', state: 'NEW', incidentCount: 27 });
    const incidents = problem.incidents as { number: string; openedAt: string; problem: { externalRef: string } }[];
    expect(incidents.map((i) => i.number).sort()).toEqual([...incidentNumbers].sort());
    expect(incidents.every((i) => i.problem.externalRef === 'Problem ID  2')).toBe(true);
    const opened = incidents.map((i) => i.openedAt).sort();
    expect(problem.firstOccurredAt).toBe(opened[0]);
    expect(problem.lastOccurredAt).toBe(opened.at(-1));
  });

  it('opens no problem by recurrence detection for imported history', async () => {
    const result = await graph.request<any>(`{ problems(filter: { origin: [RECURRENCE_DETECTION] }) { totalCount } }`, {}, token);
    expect(result.body.data.problems.totalCount).toBe(0);
  });
});

/** Waits until the recurrence detector has consumed every incident event written so far (never a timed assertion). */
async function detectorSettled(graph: TestGraph): Promise<void> {
  const result = (await graph.databases.incident.db.execute(
    `select txid, position from incident.outbox where type in (${INCIDENT_EVENT_TYPES.map((t) => `'${t}'`).join(', ')})
     order by txid desc, position desc limit 1`,
  )) as unknown as { txid: string; position: string }[] | { rows: { txid: string; position: string }[] };
  const [last] = Array.isArray(result) ? result : result.rows;
  if (!last) return;
  const newest = encodeEventCursor(Number(last.txid), Number(last.position));
  const deadline = Date.now() + 150_000;
  while (!cursorReached(await readConsumerCursor(graph.databases.problem.db, 'problem', RECURRENCE_CONSUMER), newest)) {
    if (Date.now() > deadline) throw new Error('the recurrence detector did not catch up');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
