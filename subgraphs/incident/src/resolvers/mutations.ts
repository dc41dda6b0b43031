import type { IncidentContext } from '../context.js';
import {
  createIncident,
  overrideIncidentPriority,
  setMajorIncident,
  transitionIncident,
  updateIncident,
  type CreateIncidentInput,
  type OverrideIncidentPriorityInput,
  type SetMajorIncidentInput,
  type TransitionIncidentInput,
  type UpdateIncidentInput,
} from '../services/incidents.js';

export const incidentMutations = {
  // number and externalRef are for importers only: never taken from the API.
  createIncident: (_: unknown, { input }: { input: CreateIncidentInput }, ctx: IncidentContext) =>
    createIncident(ctx.db, ctx.identity, { ...input, number: undefined, externalRef: undefined }),
  updateIncident: (_: unknown, { input }: { input: UpdateIncidentInput }, ctx: IncidentContext) => updateIncident(ctx.db, ctx.identity, input),
  transitionIncident: (_: unknown, { input }: { input: TransitionIncidentInput }, ctx: IncidentContext) =>
    transitionIncident(ctx.db, ctx.identity, input),
  overrideIncidentPriority: (_: unknown, { input }: { input: OverrideIncidentPriorityInput }, ctx: IncidentContext) =>
    overrideIncidentPriority(ctx.db, ctx.identity, { ...input, priority: input.priority ?? null }),
  setMajorIncident: (_: unknown, { input }: { input: SetMajorIncidentInput }, ctx: IncidentContext) => setMajorIncident(ctx.db, ctx.identity, input),
};
