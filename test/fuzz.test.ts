import { randomUUID } from 'node:crypto';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGraph, type TestGraph } from './harness.js';
import {
  changedTables,
  errorCodes,
  inputTypeOf,
  newMarker,
  operationFor,
  rootFields,
  seedTenant,
  snapshotTenant,
  VALID_INPUTS,
  type GraphQLBody,
  type SeededTenant,
  type TenantSnapshot,
} from './probe-kit.js';

/**
 * Every mutation of the API schema fuzzed from a valid input: 1 to 3 of its fields (found by walking the input type)
 * replaced with out-of-range numbers, huge, empty and odd strings, invalid instants, dates and zones, unknown enum
 * values, wrong ids and the ids of another tenant, nulls and omissions, empty and oversized lists. Every answer must
 * be a success or a typed error (payload errors, or GraphQL errors coded other than INTERNAL_SERVER_ERROR), and a
 * refused call must leave every row of the tenant (and of the other tenant) as it was.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_301);
const CALLS_PER_MUTATION = Number(process.env.FUZZ_CALLS_PER_MUTATION ?? 34);

/** mulberry32: a small seeded generator, so a failing run can be replayed with FUZZ_SEED. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!,
  };
}
type Rng = ReturnType<typeof generator>;

const OMIT = Symbol('omit');
const HUGE = 'x'.repeat(100_000);

/** A place in an input that can be replaced: its path from the input and its type. */
interface Slot {
  path: (string | number)[];
  type: GraphQLInputType;
}

/** Every slot of an input, walking its type (fields the valid input leaves out included) and its lists' first element. */
function slotsOf(type: GraphQLInputType, value: unknown, path: (string | number)[] = [], depth = 0): Slot[] {
  const slots: Slot[] = path.length ? [{ path, type }] : [];
  if (depth > 4) return slots;
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isInputObjectType(inner)) {
    const object = (value ?? {}) as Record<string, unknown>;
    for (const field of Object.values(inner.getFields())) slots.push(...slotsOf(field.type, object[field.name], [...path, field.name], depth + 1));
  } else if (isListType(inner) && Array.isArray(value) && value.length) {
    slots.push(...slotsOf(inner.ofType, value[0], [...path, 0], depth + 1));
  }
  return slots;
}

/** A copy of `input` with the value at `path` replaced (or removed for OMIT). */
function replaced(input: Record<string, unknown>, path: (string | number)[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(input);
  let target: any = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof target[key] !== 'object' || target[key] === null) target[key] = typeof key === 'number' ? [] : {};
    target = target[key];
  }
  const last = path[path.length - 1]!;
  if (value === OMIT) {
    if (Array.isArray(target)) target.splice(Number(last), 1);
    else delete target[last];
  } else target[last] = value;
  return copy;
}

/** Bad and borderline values for a slot, by its type and its name. */
function fuzzValue(slot: Slot, current: unknown, rng: Rng, ids: { other: SeededTenant; own: SeededTenant }): unknown {
  const { type } = slot;
  const name = String(slot.path.filter((p) => typeof p === 'string').pop() ?? '');
  if (!isNonNullType(type) && rng.next() < 0.12) return rng.pick([null, OMIT]);
  if (isNonNullType(type) && rng.next() < 0.04) return rng.pick([null, OMIT]);
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) {
    const element = Array.isArray(current) && current.length ? current[0] : undefined;
    return rng.pick([[], element === undefined ? [] : [element, element], element === undefined ? [null] : Array.from({ length: 1_000 }, () => element), [null], 'not a list']);
  }
  if (isInputObjectType(inner)) return rng.pick([{}, null, 'not an object', { unknownField: 1 }]);
  const named = getNamedType(inner);
  if (isEnumType(named)) return rng.pick(['BOGUS', '', 'new', 42, ...named.getValues().map((v) => v.name)]);
  switch (named.name) {
    case 'Int':
      return rng.pick([-1, 0, 1, 3, 6, 101, 366, 1_000_000, -2_147_483_648, 2_147_483_647, 2_147_483_648, 3.5, '5']);
    case 'Float':
      return rng.pick([-1, 0, 1e-9, 0.5, 0.9999999, 1, 1.0000001, 5, 1e308, -1e308, '0.5']);
    case 'Boolean':
      return rng.pick([true, false, 'yes', 1]);
    case 'DateTime':
      return rng.pick([
        'not a date',
        '',
        '2026-02-30T00:00:00Z',
        '2030-01-01',
        '2030-01-01T10:00:00',
        '0000-01-01T00:00:00Z',
        '0001-01-01T00:00:00Z',
        '9999-12-31T23:59:59Z',
        '+275760-09-13T00:00:00Z',
        '2030-01-01T00:00:00+14:00',
        '2030-01-01T00:00:00.123456789Z',
        1_893_456_000_000,
      ]);
    case 'ID': {
      const otherIds = [...ids.other.incidents, ...ids.other.problems, ...ids.other.knownErrors, ...ids.other.changes, ...ids.other.meetings, ...ids.other.windows, ...ids.other.templates, ...ids.other.calendars, ...ids.other.policies];
      const ownIds = [...ids.own.incidents, ...ids.own.problems, ...ids.own.changes, ...ids.own.meetings, ...ids.own.calendars];
      return rng.pick(['', 'not-a-uuid', randomUUID(), '00000000-0000-0000-0000-000000000000', rng.pick(otherIds).id, rng.pick(ownIds).id, HUGE, "'; drop table incident.incidents; --", 'INC0000001']);
    }
  }
  // Strings, by what the field holds.
  if (/timeZone/i.test(name)) return rng.pick(['Mars/Olympus', 'UTC+5', '', 'utc', 'Europe/Paris', 'America/New_York', 'Etc/GMT-14', HUGE]);
  if (name === 'start' && slot.path.includes('intervals')) return rng.pick(['24:00', '25:61', '9:00', '', '17:00', '00:00']);
  if (name === 'end' && slot.path.includes('intervals')) return rng.pick(['24:00', '24:01', '08:59', '', '99:99']);
  if (name === 'start') return rng.pick(['2030-02-30T10:00', '2030-01-01', '2030-13-01T00:00', '2030-03-31T02:30', 'tomorrow', '', '2030-01-01T10:00Z']);
  if (name === 'date') return rng.pick(['2030-02-30', '2030-13-01', '', '02-30', '9999-12-31', 'yesterday']);
  if (name === 'rrule') return rng.pick(['FREQ=SECONDLY', 'FREQ=WEEKLY;BYDAY=XX', 'garbage', 'FREQ=MINUTELY;INTERVAL=1', 'FREQ=DAILY;COUNT=100000000', 'DTSTART:20300101T000000Z\nRRULE:FREQ=DAILY', '', HUGE]);
  if (name === 'profile') return rng.pick(['CUSTOM', 'SERVICENOW_3X3', 'ITIL_5X5', 'itil_5x5', '', 'BOGUS']);
  return rng.pick(['', ' ', '   padded   ', HUGE, 'a'.repeat(256), '\u0000', 'a\u0000b', '日本語 🙂 עברית', "' or 1=1 --", '<script>alert(1)</script>', '\n\t', `${randomUUID()}`]);
}

let graph: TestGraph;
let own: SeededTenant;
let other: SeededTenant;
let token: string;

beforeAll(async () => {
  graph = await startTestGraph({ background: false });
  own = await seedTenant(graph, randomUUID(), newMarker('fuzz'));
  other = await seedTenant(graph, randomUUID(), newMarker('other'));
  token = own.token;
}, 120_000);

afterAll(async () => {
  await graph?.stop();
});

/** Re-reads the versions of the tenant's records, so valid inputs name current versions after successful calls. */
async function refreshVersions(tenant: SeededTenant): Promise<void> {
  const { body } = await graph.request<any>(
    `{ incidents(first: 100) { edges { node { id version } } } problems(first: 100) { edges { node { id version } } }
       knownErrors(first: 100) { edges { node { id version } } } changeRequests(first: 100) { edges { node { id version } } }
       standardChangeTemplates { id version } businessCalendars { id version } slaPolicies { id version } }`,
    {},
    tenant.token,
  );
  const versions = new Map<string, number>();
  for (const connection of ['incidents', 'problems', 'knownErrors', 'changeRequests']) for (const edge of body.data[connection].edges) versions.set(edge.node.id, edge.node.version);
  for (const list of ['standardChangeTemplates', 'businessCalendars', 'slaPolicies']) for (const row of body.data[list]) versions.set(row.id, row.version);
  for (const rows of [tenant.incidents, tenant.problems, tenant.knownErrors, tenant.changes, tenant.templates, tenant.calendars, tenant.policies]) {
    for (const row of rows as { id: string; version?: number }[]) if (versions.has(row.id)) row.version = versions.get(row.id)!;
  }
}

describe('what the fuzz run found', () => {
  const post = (query: string, variables: Record<string, unknown>) => graph.request<any>(query, variables, token);

  it('refuses an instant that is not ISO-8601 with an offset, or outside years 1-9999, with the subgraph BAD_USER_INPUT', async () => {
    const CREATE_MEETING = `mutation ($input: CreateCabMeetingInput!) { createCabMeeting(input: $input) { cabMeeting { id } errors { code } } }`;
    for (const scheduledAt of ['2030-01-01', '0000-01-01T00:00:00Z', '9999-12-31T23:00:00-14:00']) {
      const { body } = await post(CREATE_MEETING, { input: { board: 'CAB', title: 'Fuzz', scheduledAt } });
      expect([scheduledAt, body.data, body.errors?.map((e: any) => [e.extensions.code, e.extensions.serviceName])]).toEqual([scheduledAt, null, [['BAD_USER_INPUT', 'change']]]);
      expect(body.errors![0]!.message).toContain('DateTime must be an ISO-8601 instant with an offset');
    }
    const { body } = await post(CREATE_MEETING, { input: { board: 'CAB', title: 'Fuzz', scheduledAt: '0001-01-01T00:00:00Z' } });
    expect(body.data.createCabMeeting.errors).toEqual([]);
  });

  it('refuses a NUL character in any string with VALIDATION_FAILED naming the field, writing nothing', async () => {
    const before = await snapshotTenant(graph, own.tenantId);
    const { body } = await post(`mutation ($input: CreateIncidentInput!) { createIncident(input: $input) { incident { id } errors { code } } }`, {
      input: { title: 'Printer', description: 'jam\u0000', impact: 3, urgency: 3 },
    });
    expect(body).toEqual({
      data: null,
      errors: [{ message: 'input.description must not contain NUL characters (U+0000)', extensions: { code: 'VALIDATION_FAILED', field: 'input.description', rule: 'format', serviceName: 'incident' } }],
    });
    const literal = await post(`{ knownErrors(search: "mail\\u0000") { totalCount } }`, {});
    expect(literal.body.errors!.map((e: any) => [e.extensions.code, e.extensions.field])).toEqual([['VALIDATION_FAILED', 'search']]);
    expect(changedTables(before, await snapshotTenant(graph, own.tenantId))).toEqual([]);
  });

  it('answers createKnownError with an empty problemId NotFound', async () => {
    const { body } = await post(`mutation ($input: CreateKnownErrorInput!) { createKnownError(input: $input) { knownError { id } errors { __typename code } } }`, {
      input: { title: 'Fuzz', symptoms: 'fuzz', problemId: '' },
    });
    expect(body.data.createKnownError).toEqual({ knownError: null, errors: [{ __typename: 'NotFound', code: 'NOT_FOUND' }] });
  });
});

describe('fuzzing every mutation', () => {
  it(`answers every call with a success or a typed error and writes nothing when it refuses (seed ${SEED})`, async () => {
    const rng = generator(SEED);
    const mutations = rootFields('Mutation');
    const missing = mutations.filter((m) => !VALID_INPUTS[m.name]).map((m) => m.name);
    expect(missing).toEqual([]);
    const internal: string[] = [];
    const changedOnRefusal: string[] = [];
    const outcomes = { calls: 0, successes: 0, payloadErrors: 0, graphqlErrors: 0 };
    let snapshot: TenantSnapshot = await snapshotTenant(graph, own.tenantId);
    const otherSnapshot = await snapshotTenant(graph, other.tenantId);
    let stale = false;

    const call = async (field: GraphQLField<unknown, unknown>, input: unknown, label: string) => {
      const { query } = operationFor('mutation', field, { input: {} }, `__typename errors { __typename code message }`);
      const response = await fetch(graph.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables: { input } }),
      });
      const text = await response.text();
      outcomes.calls++;
      let body: GraphQLBody;
      try {
        body = JSON.parse(text) as GraphQLBody;
      } catch {
        internal.push(`${label}: HTTP ${response.status} not JSON: ${text.slice(0, 200)}`);
        return;
      }
      const codes = errorCodes(body);
      const payload = body.data?.[field.name] as { errors?: { code: string }[] } | null | undefined;
      if (codes.includes('INTERNAL_SERVER_ERROR') || response.status >= 500) {
        internal.push(`${label}: HTTP ${response.status} ${JSON.stringify(body.errors).slice(0, 300)} input ${JSON.stringify(input).slice(0, 400)}`);
      }
      const refused = codes.length > 0 || !payload || (payload.errors?.length ?? 0) > 0;
      if (!refused) {
        outcomes.successes++;
        stale = true;
        snapshot = await snapshotTenant(graph, own.tenantId);
        return;
      }
      if (codes.length) outcomes.graphqlErrors++;
      else outcomes.payloadErrors++;
      const after = await snapshotTenant(graph, own.tenantId);
      const changed = changedTables(snapshot, after);
      if (changed.length) {
        changedOnRefusal.push(`${label}: ${changed.join(', ')} after ${JSON.stringify(payload?.errors ?? body.errors).slice(0, 300)} input ${JSON.stringify(input).slice(0, 300)}`);
        snapshot = after;
      }
    };

    for (let round = 0; round < CALLS_PER_MUTATION; round++) {
      for (const field of mutations) {
        if (stale) {
          await refreshVersions(own);
          stale = false;
        }
        const type = inputTypeOf(field);
        const valid = VALID_INPUTS[field.name]!(() => own);
        let input: Record<string, unknown>;
        let label: string;
        if (round === 0) {
          // The valid input itself, so the fuzzed ones start from calls that reach the service's checks.
          input = valid;
          label = `${field.name} valid`;
        } else if (round % 11 === 1) {
          input = VALID_INPUTS[field.name]!(() => other);
          label = `${field.name} ids of the other tenant`;
        } else {
          input = valid;
          const changes: string[] = [];
          for (let n = 1 + rng.int(3); n > 0; n--) {
            const slots = slotsOf(type, input);
            if (!slots.length) break;
            const slot = rng.pick(slots);
            const current = slot.path.reduce<any>((value, key) => value?.[key], input);
            const value = fuzzValue(slot, current, rng, { other, own });
            input = replaced(input, slot.path, value);
            changes.push(`${slot.path.join('.')}=${value === OMIT ? 'omitted' : JSON.stringify(value)?.slice(0, 40)}`);
          }
          label = `${field.name} ${changes.join(' ')}`;
        }
        await call(field, input, label);
      }
    }

    console.log(
      `fuzz (seed ${SEED}): ${outcomes.calls} calls over ${mutations.length} mutations; ${outcomes.successes} succeeded, ${outcomes.payloadErrors} refused with payload errors, ` +
        `${outcomes.graphqlErrors} with GraphQL errors; internal errors: ${internal.length}; rows changed on refusal: ${changedOnRefusal.length}`,
    );
    expect(outcomes.calls).toBe(mutations.length * CALLS_PER_MUTATION);
    expect(internal).toEqual([]);
    expect(changedOnRefusal).toEqual([]);
    expect(changedTables(otherSnapshot, await snapshotTenant(graph, other.tenantId))).toEqual([]);
  }, 300_000);
});
