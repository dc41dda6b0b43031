import { graphqlError, hasRole, type BusinessCalendar, type Db, type Identity, type Role } from '@itsm/kit';
import type { TaskSlaRow } from '../db/schema.js';
import { countSlaCompliance, countSlaRisk, meanTimeToResolve, type ComplianceCountRow } from '../db/sla-queries.js';
import { computeSla, type SlaStatus } from '../domain/sla.js';
import { slaStateOf } from './sla-engine.js';

/** Roles that may read SLA reports (admin holds every role). */
export const REPORT_ROLES: readonly Role[] = ['agent', 'manager'];

/** A task SLA as the API shows it at an instant. */
export type TaskSlaView = TaskSlaRow & SlaStatus & { asOf: Date };

/** The task SLA at `asOf`: elapsed, remaining and percent are computed for that instant on its calendar. */
export function viewTaskSla(row: TaskSlaRow, calendar: BusinessCalendar, asOf: Date): TaskSlaView {
  const status = computeSla(slaStateOf(row, calendar), asOf);
  return { ...row, ...status, asOf };
}

export interface SlaReport {
  from: Date;
  to: Date;
  compliance: (ComplianceCountRow & { percentMet: number | null })[];
  atRiskCount: number;
  breachedCount: number;
  meanTimeToResolve: { incidents: number; workingMinutes: number | null; realMinutes: number | null };
}

/** Compliance over [from, to), risk now, and mean time to resolve; agents and managers. */
export async function getSlaReport(db: Db, identity: Identity, range: { from: Date; to: Date }, now = new Date()): Promise<SlaReport> {
  if (!hasRole(identity, REPORT_ROLES)) throw graphqlError('FORBIDDEN', `requires one of the roles: ${[...REPORT_ROLES, 'admin'].join(', ')}`);
  if (range.to.getTime() <= range.from.getTime()) {
    throw graphqlError('VALIDATION_FAILED', 'to must be after from', { field: 'to', rule: 'after-from' });
  }
  const [compliance, risk, mttr] = await Promise.all([
    countSlaCompliance(db, identity.tenantId, range.from, range.to, now),
    countSlaRisk(db, identity.tenantId, now),
    meanTimeToResolve(db, identity.tenantId, range.from, range.to),
  ]);
  return {
    from: range.from,
    to: range.to,
    compliance: compliance.map((row) => ({
      ...row,
      percentMet: row.met + row.breached ? (row.met / (row.met + row.breached)) * 100 : null,
    })),
    atRiskCount: risk.atRisk,
    breachedCount: risk.breached,
    meanTimeToResolve: mttr,
  };
}
