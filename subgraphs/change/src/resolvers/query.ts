import { decodeCursor, encodeCursor, graphqlError, isUuid, pageSize, toConnection } from '@itsm/kit';
import type { ChangeContext } from '../context.js';
import { listCabMeetings } from '../db/cab-queries.js';
import { getOpenConflicts } from '../db/conflict-queries.js';
import { countChanges, getChangeBy, listChanges, type ChangeListFilter } from '../db/queries.js';
import type { ChangeRequestRow } from '../db/schema.js';
import { listTemplates } from '../db/template-queries.js';
import { getActiveWindows } from '../db/window-queries.js';
import { findNextFreeSlots, getChangeCalendar } from '../services/calendar.js';
import { getCabBoardView, type CabBoardKind } from '../services/cab.js';
import { getEffectiveRiskPolicy } from '../services/risk.js';

const MAX_LIST = 500;

function cursorOf(row: ChangeRequestRow): string {
  return encodeCursor([row.openedAt.toISOString(), row.id]);
}

/** Loads a change by id through the request's loader; ids that are not uuids find nothing. */
export function loadChange(ctx: ChangeContext, id: string) {
  return isUuid(id) ? ctx.loaders.changeById.load(id) : Promise.resolve(null);
}

function listLimit(limit: number | null | undefined, fallback: number): number {
  const value = limit ?? fallback;
  if (!Number.isInteger(value) || value < 1 || value > MAX_LIST) {
    throw graphqlError('VALIDATION_FAILED', `limit must be from 1 to ${MAX_LIST}`, { field: 'limit', rule: 'range' });
  }
  return value;
}

export const queryResolvers = {
  changeRequest: async (_: unknown, args: { id?: string | null; number?: string | null }, ctx: ChangeContext) => {
    if (args.id) return loadChange(ctx, args.id);
    if (args.number) return (await getChangeBy(ctx.db, ctx.identity.tenantId, { number: args.number })) ?? null;
    throw graphqlError('VALIDATION_FAILED', 'give id or number', { field: 'id', rule: 'required' });
  },
  changeRequests: async (_: unknown, args: { first?: number | null; after?: string | null; filter?: ChangeListFilter | null }, ctx: ChangeContext) => {
    const first = pageSize(args.first);
    const after = args.after ? decodeCursor(args.after, 2) : undefined;
    const rows = await listChanges(ctx.db, ctx.identity.tenantId, {
      filter: args.filter,
      limit: first,
      after: after ? { openedAt: new Date(after[0] as string), id: String(after[1]) } : undefined,
    });
    for (const row of rows) ctx.loaders.changeById.prime(row.id, row);
    return toConnection(rows, first, cursorOf, () => countChanges(ctx.db, ctx.identity.tenantId, args.filter));
  },
  changeCalendar: async (
    _: unknown,
    args: { from: Date; to: Date; configurationItems?: string[] | null; services?: string[] | null },
    ctx: ChangeContext,
  ) => {
    const calendar = await getChangeCalendar(ctx.db, ctx.identity.tenantId, args);
    for (const row of calendar.changes) ctx.loaders.changeById.prime(row.id, row);
    return calendar;
  },
  nextFreeChangeSlots: (
    _: unknown,
    args: { changeRequestId: string; limit?: number | null; from?: Date | null; durationMinutes?: number | null },
    ctx: ChangeContext,
  ) => findNextFreeSlots(ctx.db, ctx.identity.tenantId, args),
  changeWindows: async (_: unknown, args: { kind?: string | null }, ctx: ChangeContext) =>
    (await getActiveWindows(ctx.db, ctx.identity.tenantId)).filter((w) => !args.kind || w.kind === args.kind),
  openChangeConflicts: (_: unknown, args: { limit?: number | null }, ctx: ChangeContext) =>
    getOpenConflicts(ctx.db, ctx.identity.tenantId, listLimit(args.limit, 100)),
  riskPolicy: (_: unknown, __: unknown, ctx: ChangeContext) => getEffectiveRiskPolicy(ctx.db, ctx.identity.tenantId),
  cabBoard: (_: unknown, args: { board: CabBoardKind }, ctx: ChangeContext) => getCabBoardView(ctx.db, ctx.identity.tenantId, args.board),
  cabMeeting: (_: unknown, args: { id: string }, ctx: ChangeContext) => (isUuid(args.id) ? ctx.loaders.meetingById.load(args.id) : null),
  cabMeetings: (_: unknown, args: { state?: string[] | null; limit?: number | null }, ctx: ChangeContext) =>
    listCabMeetings(ctx.db, ctx.identity.tenantId, { states: args.state, limit: listLimit(args.limit, 50) }),
  standardChangeTemplates: (_: unknown, args: { state?: string[] | null }, ctx: ChangeContext) => listTemplates(ctx.db, ctx.identity.tenantId, args.state),
};
