import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiSchemaOf } from '../schema/api-schema.js';
import { ACCEPTED_FILE, checkSchema, formatSchemaCheck, parseAccepted, RELEASED_SCHEMA_FILE } from '../schema/check.js';
import { composeSupergraph } from '../schema/compose.js';

const released = readFileSync(RELEASED_SCHEMA_FILE, 'utf8');

describe('schema check against the last release', () => {
  it('finds no unaccepted breaking change between the released API schema and the one composed now', async () => {
    const check = await checkSchema(released, apiSchemaOf(composeSupergraph()), parseAccepted(readFileSync(ACCEPTED_FILE, 'utf8')));
    // The report names every breaking change and tells how to accept one, so the failure message is the fix.
    expect(check.unaccepted.length, formatSchemaCheck(check)).toBe(0);
  });

  const RELEASED = /* GraphQL */ `
    type Query { incident(number: String): Incident }
    type Incident { number: String! priority: Int! priorityLabel: String! state: IncidentState! }
    enum IncidentState { NEW RESOLVED }
  `;

  it('fails on a removed field and names it', async () => {
    const candidate = RELEASED.replace('priorityLabel: String!', '');
    const check = await checkSchema(RELEASED, candidate, []);
    expect(check.unaccepted.map((c) => [c.type, c.path])).toEqual([['FIELD_REMOVED', 'Incident.priorityLabel']]);
    expect(formatSchemaCheck(check)).toContain('BREAKING changes not accepted (1)');
  });

  it('fails on a field made nullable and on a new required argument', async () => {
    const candidate = RELEASED.replace('number: String! priority', 'number: String priority').replace('incident(number: String)', 'incident(number: String, tenant: ID!)');
    const check = await checkSchema(RELEASED, candidate, []);
    expect(check.unaccepted.map((c) => [c.type, c.path]).sort()).toEqual([
      ['FIELD_ARGUMENT_ADDED', 'Query.incident.tenant'],
      ['FIELD_TYPE_CHANGED', 'Incident.number'],
    ]);
  });

  it('passes a breaking change listed as accepted with its reason, and reports entries left over', async () => {
    const candidate = RELEASED.replace('priorityLabel: String!', '');
    const accepted = parseAccepted(
      JSON.stringify([
        { type: 'FIELD_REMOVED', path: 'Incident.priorityLabel', reason: 'deprecated since 2026-01 in favour of a client-side label' },
        { type: 'FIELD_REMOVED', path: 'Incident.title', reason: 'left over from the previous release' },
      ]),
    );
    const check = await checkSchema(RELEASED, candidate, accepted);
    expect(check.unaccepted).toEqual([]);
    expect(check.accepted.map((a) => [a.change.path, a.reason])).toEqual([['Incident.priorityLabel', 'deprecated since 2026-01 in favour of a client-side label']]);
    expect(check.stale.map((s) => s.path)).toEqual(['Incident.title']);
  });

  it('treats an added field as safe and an added enum value as dangerous, neither failing', async () => {
    const candidate = RELEASED.replace('state: IncidentState!', 'state: IncidentState! assignee: String').replace('NEW RESOLVED', 'NEW ON_HOLD RESOLVED');
    const check = await checkSchema(RELEASED, candidate, []);
    expect(check.unaccepted).toEqual([]);
    expect(check.safe.map((c) => [c.type, c.path])).toEqual([['FIELD_ADDED', 'Incident.assignee']]);
    expect(check.dangerous.map((c) => [c.type, c.path])).toEqual([['ENUM_VALUE_ADDED', 'IncidentState.ON_HOLD']]);
  });

  it('refuses an accepted entry without a reason', () => {
    expect(() => parseAccepted('[{"type":"FIELD_REMOVED","path":"Incident.priorityLabel"}]')).toThrow(/reason/);
    expect(() => parseAccepted('[{"type":"FIELD_REMOVED","path":"Incident.priorityLabel","reason":"  "}]')).toThrow(/say why/);
  });
});
