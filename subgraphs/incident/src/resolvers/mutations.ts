import type { IncidentContext } from '../context.js';
import {
  createIncident,
  getPriorityMatrix,
  setPriorityMatrix,
  transitionIncident,
  updateIncident,
  type CreateIncidentInput,
  type TransitionIncidentInput,
  type UpdateIncidentInput,
} from '../services/incidents.js';

export const incidentMutations = {
  createIncident: (_: unknown, { input }: { input: CreateIncidentInput }, ctx: IncidentContext) =>
    createIncident(ctx.db, ctx.identity, { ...input, number: undefined, externalRef: undefined }),
  updateIncident: (_: unknown, { input }: { input: UpdateIncidentInput }, ctx: IncidentContext) => updateIncident(ctx.db, ctx.identity, input),
  transitionIncident: (_: unknown, { input }: { input: TransitionIncidentInput }, ctx: IncidentContext) =>
    transitionIncident(ctx.db, ctx.identity, input),
  setPriorityMatrix: (_: unknown, { input }: { input: { profile: string; cells?: number[][] | null } }, ctx: IncidentContext) =>
    setPriorityMatrix(ctx.db, ctx.identity, input),
};

export const priorityMatrixQueries = {
  priorityMatrix: (_: unknown, __: unknown, ctx: IncidentContext) => getPriorityMatrix(ctx.db, ctx.identity.tenantId),
};
