import type { ProblemContext } from '../context.js';
import {
  communicateWorkaround,
  createKnownError,
  createKnownErrorFromProblem,
  linkIncidentToKnownError,
  updateKnownError,
  type CreateKnownErrorFromProblemInput,
  type CreateKnownErrorInput,
  type LinkIncidentToKnownErrorInput,
  type UpdateKnownErrorInput,
} from '../services/known-errors.js';
import {
  createProblem,
  linkIncident,
  transitionProblem,
  unlinkIncident,
  updateProblem,
  type CreateProblemInput,
  type TransitionProblemInput,
  type UpdateProblemInput,
} from '../services/problems.js';
import { setRecurrenceSettings, type RecurrenceSettings } from '../services/recurrence.js';

type Args<T> = { input: T };

export const mutations = {
  createProblem: (_: unknown, { input }: Args<CreateProblemInput>, ctx: ProblemContext) =>
    createProblem(ctx.db, ctx.identity, { ...input, externalRef: undefined }),
  updateProblem: (_: unknown, { input }: Args<UpdateProblemInput>, ctx: ProblemContext) => updateProblem(ctx.db, ctx.identity, input),
  transitionProblem: (_: unknown, { input }: Args<TransitionProblemInput>, ctx: ProblemContext) => transitionProblem(ctx.db, ctx.identity, input),
  linkIncidentToProblem: (_: unknown, { input }: Args<{ problemId: string; incidentId: string; relation: string }>, ctx: ProblemContext) =>
    linkIncident(ctx.db, ctx.identity, input),
  unlinkIncidentFromProblem: (_: unknown, { input }: Args<{ problemId: string; incidentId: string }>, ctx: ProblemContext) =>
    unlinkIncident(ctx.db, ctx.identity, input),
  createKnownError: (_: unknown, { input }: Args<CreateKnownErrorInput>, ctx: ProblemContext) => createKnownError(ctx.db, ctx.identity, input),
  createKnownErrorFromProblem: (_: unknown, { input }: Args<CreateKnownErrorFromProblemInput>, ctx: ProblemContext) =>
    createKnownErrorFromProblem(ctx.db, ctx.identity, input),
  updateKnownError: (_: unknown, { input }: Args<UpdateKnownErrorInput>, ctx: ProblemContext) => updateKnownError(ctx.db, ctx.identity, input),
  linkIncidentToKnownError: (_: unknown, { input }: Args<LinkIncidentToKnownErrorInput>, ctx: ProblemContext) =>
    linkIncidentToKnownError(ctx.db, ctx.identity, input),
  communicateWorkaround: async (_: unknown, { input }: Args<{ knownErrorId: string }>, ctx: ProblemContext) => {
    const result = await communicateWorkaround(ctx.db, ctx.identity, input);
    return { ...result, incidents: result.incidentIds.map((id) => ({ id })) };
  },
  setRecurrenceSettings: (_: unknown, { input }: Args<Partial<RecurrenceSettings>>, ctx: ProblemContext) =>
    setRecurrenceSettings(ctx.db, ctx.identity, input),
};
