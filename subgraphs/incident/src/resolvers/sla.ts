import { isUuid } from '@itsm/kit';
import type { IncidentContext } from '../context.js';
import type { BusinessCalendarRow, SlaPolicyTargetRow } from '../db/schema.js';
import {
  createBusinessCalendar,
  createSlaPolicy,
  getBusinessCalendars,
  getSlaPolicies,
  updateBusinessCalendar,
  updateSlaPolicy,
  type BusinessCalendarInput,
  type SlaTargetInput,
} from '../services/sla-admin.js';
import { getSlaReport } from '../services/sla-reports.js';

export const slaQueries = {
  businessCalendars: (_: unknown, __: unknown, ctx: IncidentContext) => getBusinessCalendars(ctx.db, ctx.identity.tenantId),
  businessCalendar: (_: unknown, args: { id: string }, ctx: IncidentContext) => (isUuid(args.id) ? ctx.loaders.calendarById.load(args.id) : null),
  slaPolicies: (_: unknown, __: unknown, ctx: IncidentContext) => getSlaPolicies(ctx.db, ctx.identity.tenantId),
  slaPolicy: (_: unknown, args: { id: string }, ctx: IncidentContext) => (isUuid(args.id) ? ctx.loaders.policyById.load(args.id) : null),
  slaReport: (_: unknown, args: { from: Date; to: Date }, ctx: IncidentContext) => getSlaReport(ctx.db, ctx.identity, args),
};

export const slaMutations = {
  createBusinessCalendar: (_: unknown, { input }: { input: BusinessCalendarInput }, ctx: IncidentContext) =>
    createBusinessCalendar(ctx.db, ctx.identity, input),
  updateBusinessCalendar: (_: unknown, { input }: { input: BusinessCalendarInput & { id: string; version: number } }, ctx: IncidentContext) =>
    updateBusinessCalendar(ctx.db, ctx.identity, input),
  createSlaPolicy: (_: unknown, { input }: { input: { name: string; isDefault?: boolean | null; targets: SlaTargetInput[] } }, ctx: IncidentContext) =>
    createSlaPolicy(ctx.db, ctx.identity, input),
  updateSlaPolicy: (
    _: unknown,
    { input }: { input: { id: string; version: number; name?: string | null; isDefault?: boolean | null; targets?: SlaTargetInput[] | null } },
    ctx: IncidentContext,
  ) => updateSlaPolicy(ctx.db, ctx.identity, input),
};

const calendar = (row: { calendarId: string }, _: unknown, ctx: IncidentContext) => ctx.loaders.calendarById.load(row.calendarId);
const policy = (row: { policyId: string }, _: unknown, ctx: IncidentContext) => ctx.loaders.policyById.load(row.policyId);

export const slaTypes = {
  TaskSla: { calendar, policy },
  SlaTarget: { calendar },
  SlaComplianceRow: { policy },
  SlaPolicy: {
    targets: (row: { id: string }, _: unknown, ctx: IncidentContext): Promise<SlaPolicyTargetRow[]> => ctx.loaders.targetsByPolicyId.load(row.id),
  },
  BusinessCalendar: {
    kind: (row: BusinessCalendarRow) => (row.kind === '24x7' ? 'ALWAYS' : 'BUSINESS'),
    workingHours: (row: BusinessCalendarRow) =>
      Object.entries(row.workingHours as Record<string, { start: string; end: string }[]>)
        .map(([weekday, intervals]) => ({ weekday: Number(weekday), intervals }))
        .filter((day) => day.intervals.length)
        .sort((a, b) => a.weekday - b.weekday),
    holidays: (row: BusinessCalendarRow) => row.holidays as { date: string; recurring: boolean; name: string | null }[],
  },
};
