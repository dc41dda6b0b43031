import type { IncidentContext } from '../context.js';
import { categorize, type Taxonomy } from '../domain/categorize.js';
import {
  getCategoryTaxonomy,
  getPriorityMatrix,
  loadIncidentSettings,
  setCategoryTaxonomy,
  setIncidentSettings,
  setPriorityMatrix,
  type IncidentSettingsInput,
} from '../services/settings.js';

export const settingsQueries = {
  priorityMatrix: (_: unknown, __: unknown, ctx: IncidentContext) => getPriorityMatrix(ctx.db, ctx.identity.tenantId),
  categoryTaxonomy: async (_: unknown, __: unknown, ctx: IncidentContext) => ({ categories: await getCategoryTaxonomy(ctx.db, ctx.identity.tenantId) }),
  suggestCategory: async (_: unknown, args: { title: string; description?: string | null }, ctx: IncidentContext) =>
    categorize(args, await getCategoryTaxonomy(ctx.db, ctx.identity.tenantId)),
  incidentSettings: async (_: unknown, __: unknown, ctx: IncidentContext) => {
    const { timeZone, autoCloseDays } = await loadIncidentSettings(ctx.db, ctx.identity.tenantId);
    return { timeZone, autoCloseDays };
  },
};

export const settingsMutations = {
  setPriorityMatrix: (_: unknown, { input }: { input: { profile: string; cells?: number[][] | null } }, ctx: IncidentContext) =>
    setPriorityMatrix(ctx.db, ctx.identity, input),
  setCategoryTaxonomy: (_: unknown, { input }: { input: { categories: Taxonomy } }, ctx: IncidentContext) =>
    setCategoryTaxonomy(ctx.db, ctx.identity, input),
  setIncidentSettings: (_: unknown, { input }: { input: IncidentSettingsInput }, ctx: IncidentContext) =>
    setIncidentSettings(ctx.db, ctx.identity, input),
};
