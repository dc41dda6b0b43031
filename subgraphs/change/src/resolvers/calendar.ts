import type { ChangeContext } from '../context.js';
import type { ChangeConflictRow, ChangeWindowRow } from '../db/schema.js';

export const calendarResolvers = {
  ChangeWindow: {
    start: (window: ChangeWindowRow) => window.startLocal,
    appliesToAll: (window: ChangeWindowRow) => window.scopeAll,
  },
  ChangeConflict: {
    changeRequest: (conflict: ChangeConflictRow, _: unknown, ctx: ChangeContext) => ctx.loaders.changeById.load(conflict.changeId),
    otherChangeRequest: (conflict: ChangeConflictRow, _: unknown, ctx: ChangeContext) =>
      conflict.otherChangeId ? ctx.loaders.changeById.load(conflict.otherChangeId) : null,
    window: (conflict: ChangeConflictRow, _: unknown, ctx: ChangeContext) => (conflict.windowId ? ctx.loaders.windowById.load(conflict.windowId) : null),
  },
  BlackoutRefusal: {
    window: (error: { windowId: string }, _: unknown, ctx: ChangeContext) => ctx.loaders.windowById.load(error.windowId),
  },
};
