import { describe, expect, it } from 'vitest';
import { detectConflicts, nextFreeSlots, overlaps, type NamedCalendarWindow, type PlannedChange, type ScheduledChange } from './conflicts.js';

const at = (value: string) => new Date(value);

function plannedChange(overrides: Partial<PlannedChange> = {}): PlannedChange {
  return {
    id: 'chg-a',
    number: 'CHG2026000001',
    type: 'NORMAL',
    plannedStart: at('2026-06-01T10:00Z'),
    plannedEnd: at('2026-06-01T12:00Z'),
    configurationItems: ['ci-db-1'],
    services: ['svc-shop'],
    assigneeId: 'user-1',
    dependsOn: [],
    ...overrides,
  };
}

function otherChange(overrides: Partial<ScheduledChange> = {}): ScheduledChange {
  return {
    id: 'chg-b',
    number: 'CHG2026000002',
    state: 'SCHEDULED',
    plannedStart: at('2026-06-01T12:00Z'),
    plannedEnd: at('2026-06-01T14:00Z'),
    configurationItems: ['ci-db-1'],
    services: [],
    assigneeId: 'user-2',
    ...overrides,
  };
}

// 2026-03-07 is a Saturday; Berlin moves to summer time on Sunday 2026-03-29.
const berlinSaturdayBlackout: NamedCalendarWindow = {
  id: 'win-freeze',
  name: 'Weekend freeze',
  kind: 'BLACKOUT',
  timeZone: 'Europe/Berlin',
  start: '2026-03-07T00:00',
  durationMinutes: 360,
  rrule: 'FREQ=WEEKLY;BYDAY=SA',
  scope: { all: true },
};

// 2026-05-31 is a Sunday.
const sundayMaintenance: NamedCalendarWindow = {
  id: 'win-sunday',
  name: 'Sunday night',
  kind: 'MAINTENANCE',
  timeZone: 'UTC',
  start: '2026-05-03T01:00',
  durationMinutes: 240,
  rrule: 'FREQ=WEEKLY;BYDAY=SU',
  scope: { configurationItems: ['ci-db-1'], services: [] },
};

describe('detectConflicts: other changes', () => {
  it('finds nothing when B starts as A ends on the same configuration item', () => {
    expect(detectConflicts(plannedChange(), [otherChange()], [])).toEqual([]);
  });

  it('reports one overlap when B (11:00-13:00) overlaps A (10:00-12:00) on the same configuration item', () => {
    const b = otherChange({ plannedStart: at('2026-06-01T11:00Z'), plannedEnd: at('2026-06-01T13:00Z') });
    expect(detectConflicts(plannedChange(), [b], [])).toEqual([
      {
        kind: 'OVERLAPPING_CHANGE',
        severity: 'HIGH',
        otherChangeId: 'chg-b',
        otherChangeNumber: 'CHG2026000002',
        message: 'Overlaps CHG2026000002 (2026-06-01T11:00Z to 2026-06-01T13:00Z) on configuration item ci-db-1',
      },
    ]);
  });

  it('needs a shared configuration item or service, and ignores cancelled, closed and the change itself', () => {
    const overlapping = { plannedStart: at('2026-06-01T11:00Z'), plannedEnd: at('2026-06-01T13:00Z') };
    const others = [
      otherChange({ ...overlapping, id: 'unrelated', configurationItems: ['ci-mail'] }),
      otherChange({ ...overlapping, id: 'cancelled', state: 'CANCELLED' }),
      otherChange({ ...overlapping, id: 'closed', state: 'CLOSED' }),
      otherChange({ ...overlapping, id: 'chg-a' }),
      otherChange({ ...overlapping, id: 'same-service', configurationItems: [], services: ['svc-shop'] }),
    ];
    expect(detectConflicts(plannedChange(), others, []).map((c) => [c.kind, c.otherChangeId])).toEqual([['OVERLAPPING_CHANGE', 'same-service']]);
  });

  it('reports an assignee booked on two overlapping changes, whatever they touch', () => {
    const b = otherChange({ plannedStart: at('2026-06-01T11:30Z'), configurationItems: ['ci-mail'], assigneeId: 'user-1' });
    expect(detectConflicts(plannedChange(), [b], [])).toMatchObject([{ kind: 'ASSIGNEE_DOUBLE_BOOKED', severity: 'MEDIUM', otherChangeId: 'chg-b' }]);
    expect(detectConflicts(plannedChange({ assigneeId: null }), [{ ...b, assigneeId: null }], [])).toEqual([]);
    expect(detectConflicts(plannedChange(), [{ ...b, plannedStart: at('2026-06-01T12:00Z') }], [])).toEqual([]);
  });
});

describe('detectConflicts: calendar windows', () => {
  it('reports a Monday change outside the Sunday 01:00-05:00 maintenance window', () => {
    expect(detectConflicts(plannedChange(), [], [sundayMaintenance])).toEqual([
      {
        kind: 'OUTSIDE_MAINTENANCE_WINDOW',
        severity: 'MEDIUM',
        message: 'Not inside one occurrence of an applicable maintenance window ("Sunday night")',
      },
    ]);
  });

  it('accepts a change fully inside an occurrence and refuses one running past its end', () => {
    const inside = plannedChange({ plannedStart: at('2026-05-31T01:00Z'), plannedEnd: at('2026-05-31T05:00Z') });
    expect(detectConflicts(inside, [], [sundayMaintenance])).toEqual([]);
    const pastEnd = plannedChange({ plannedStart: at('2026-05-31T04:00Z'), plannedEnd: at('2026-05-31T06:00Z') });
    expect(detectConflicts(pastEnd, [], [sundayMaintenance])).toMatchObject([{ kind: 'OUTSIDE_MAINTENANCE_WINDOW' }]);
  });

  it('ignores maintenance windows that do not apply, and lowers the severity for emergency changes', () => {
    expect(detectConflicts(plannedChange({ configurationItems: ['ci-mail'], services: [] }), [], [sundayMaintenance])).toEqual([]);
    expect(detectConflicts(plannedChange({ type: 'EMERGENCY' }), [], [sundayMaintenance])).toMatchObject([{ severity: 'LOW' }]);
  });

  it('catches a change at Saturday 02:00 Berlin time on the DST weekend in the Saturday blackout', () => {
    // Saturday 2026-03-28 02:00 CET is 01:00Z; the blackout runs 2026-03-27T23:00Z to 2026-03-28T05:00Z.
    const change = plannedChange({ plannedStart: at('2026-03-28T01:00Z'), plannedEnd: at('2026-03-28T02:00Z') });
    expect(detectConflicts(change, [], [berlinSaturdayBlackout])).toEqual([
      {
        kind: 'BLACKOUT',
        severity: 'HIGH',
        windowId: 'win-freeze',
        message: 'Falls in blackout "Weekend freeze" (2026-03-27T23:00Z to 2026-03-28T05:00Z)',
      },
    ]);
  });

  it('follows the blackout to summer time: it ends at 04:00Z the Saturday after', () => {
    // Saturday 2026-04-04 06:30 CEST is 04:30Z: after the blackout, though a fixed +01:00 offset would put it inside.
    const justAfter = plannedChange({ plannedStart: at('2026-04-04T04:30Z'), plannedEnd: at('2026-04-04T05:30Z') });
    expect(detectConflicts(justAfter, [], [berlinSaturdayBlackout])).toEqual([]);
    const justBefore = plannedChange({ plannedStart: at('2026-04-03T21:00Z'), plannedEnd: at('2026-04-03T22:30Z') });
    expect(detectConflicts(justBefore, [], [berlinSaturdayBlackout])).toMatchObject([{ kind: 'BLACKOUT' }]);
  });

  it('reports a blackout once however many of its occurrences a long change spans, and only where it applies', () => {
    const twoWeeks = plannedChange({ plannedStart: at('2026-03-16T00:00Z'), plannedEnd: at('2026-03-30T00:00Z') });
    expect(detectConflicts(twoWeeks, [], [berlinSaturdayBlackout])).toHaveLength(1);
    const scoped = { ...berlinSaturdayBlackout, scope: { configurationItems: ['ci-mail'], services: [] } };
    expect(detectConflicts(twoWeeks, [], [scoped])).toEqual([]);
  });
});

describe('detectConflicts: dependencies', () => {
  it('reports a change starting before a change it depends on ends, not one starting as it ends', () => {
    const dependency = { id: 'chg-dep', number: 'CHG2026000009', plannedEnd: at('2026-06-01T10:30Z') };
    expect(detectConflicts(plannedChange({ dependsOn: [dependency] }), [], [])).toMatchObject([
      { kind: 'DEPENDENCY_ORDER', severity: 'HIGH', otherChangeId: 'chg-dep', otherChangeNumber: 'CHG2026000009' },
    ]);
    const endsAtStart = { ...dependency, plannedEnd: at('2026-06-01T10:00Z') };
    expect(detectConflicts(plannedChange({ dependsOn: [endsAtStart] }), [], [])).toEqual([]);
  });
});

describe('overlaps', () => {
  it('treats intervals as half-open', () => {
    const a = { start: at('2026-06-01T10:00Z'), end: at('2026-06-01T12:00Z') };
    expect(overlaps(a, { start: at('2026-06-01T12:00Z'), end: at('2026-06-01T13:00Z') })).toBe(false);
    expect(overlaps(a, { start: at('2026-06-01T11:59Z'), end: at('2026-06-01T13:00Z') })).toBe(true);
  });
});

describe('nextFreeSlots', () => {
  const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

  it('steps around busy time and blackouts from the next grid point', () => {
    const slots = nextFreeSlots({
      durationMinutes: 60,
      from: at('2026-06-01T08:10Z'),
      limit: 4,
      busy: [{ start: at('2026-06-01T10:00Z'), end: at('2026-06-01T12:00Z') }],
      blackouts: [{ start: at('2026-06-01T12:30Z'), end: at('2026-06-01T14:00Z') }],
      maintenance: null,
    });
    expect(iso(slots)).toEqual(['2026-06-01T08:30:00.000Z', '2026-06-01T09:00:00.000Z', '2026-06-01T14:00:00.000Z', '2026-06-01T14:30:00.000Z']);
  });

  it('keeps slots inside a maintenance occurrence when one applies', () => {
    const slots = nextFreeSlots({
      durationMinutes: 180,
      from: at('2026-06-01T10:00Z'),
      limit: 10,
      busy: [],
      blackouts: [],
      maintenance: [
        { start: at('2026-06-07T01:00Z'), end: at('2026-06-07T05:00Z') },
        { start: at('2026-06-14T01:00Z'), end: at('2026-06-14T05:00Z') },
      ],
      stepMinutes: 60,
    });
    expect(iso(slots)).toEqual(['2026-06-07T01:00:00.000Z', '2026-06-07T02:00:00.000Z', '2026-06-14T01:00:00.000Z', '2026-06-14T02:00:00.000Z']);
  });

  it('finds nothing when windows apply but none occurs within the horizon', () => {
    const search = { durationMinutes: 60, from: at('2026-06-01T10:00Z'), limit: 3, busy: [], blackouts: [], maintenance: [], horizonDays: 7 };
    expect(nextFreeSlots(search)).toEqual([]);
  });
});
