import { and, asc, count, desc, eq, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import { queryRows, type Db } from '@itsm/kit';
import {
  knownErrorIncidents,
  knownErrors,
  observedIncidents,
  problemHistory,
  problemIncidents,
  problems,
  recurrenceClusterMembers,
  recurrenceClusters,
  recurrenceSettings,
  type KnownErrorRow,
  type ObservedIncidentRow,
  type ProblemHistoryRow,
  type ProblemIncidentRow,
  type ProblemRow,
  type RecurrenceSettingsRow,
} from './schema.js';

// ---------------------------------------------------------------- problems

export interface ProblemListFilter {
  state?: string[] | null;
  number?: string | null;
  externalRef?: string | null;
  type?: string[] | null;
  origin?: string[] | null;
  category?: string | null;
  owner?: string | null;
}

function filterConditions(tenantId: string, filter: ProblemListFilter | null | undefined): SQL[] {
  const where: SQL[] = [eq(problems.tenantId, tenantId)];
  if (filter?.state?.length) where.push(inArray(problems.state, filter.state));
  if (filter?.number) where.push(eq(problems.number, filter.number));
  if (filter?.externalRef) where.push(eq(problems.externalRef, filter.externalRef));
  if (filter?.type?.length) where.push(inArray(problems.type, filter.type));
  if (filter?.origin?.length) where.push(inArray(problems.origin, filter.origin));
  if (filter?.category) where.push(eq(problems.category, filter.category));
  if (filter?.owner) where.push(eq(problems.owner, filter.owner));
  return where;
}

/** Problems of a tenant by id. */
export async function getProblemsByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<ProblemRow[]> {
  if (!ids.length) return [];
  return db.select().from(problems).where(and(eq(problems.tenantId, tenantId), inArray(problems.id, [...ids])));
}

/** One problem, row-locked until the transaction ends: writers of one problem queue here. */
export async function lockProblem(db: Db, tenantId: string, id: string): Promise<ProblemRow | undefined> {
  const [row] = await db
    .select()
    .from(problems)
    .where(and(eq(problems.tenantId, tenantId), eq(problems.id, id)))
    .for('update');
  return row;
}

/** One problem by number or by external reference. */
export async function getProblemBy(db: Db, tenantId: string, key: { number?: string; externalRef?: string }): Promise<ProblemRow | undefined> {
  const [row] = await db
    .select()
    .from(problems)
    .where(and(...filterConditions(tenantId, key)));
  return row;
}

/** A page of problems, newest first, after a keyset position (one extra row fetched). */
export async function listProblems(
  db: Db,
  tenantId: string,
  options: { filter?: ProblemListFilter | null; after?: { openedAt: Date; id: string }; limit: number },
): Promise<ProblemRow[]> {
  const where = filterConditions(tenantId, options.filter);
  if (options.after) {
    const { openedAt, id } = options.after;
    where.push(or(lt(problems.openedAt, openedAt), and(eq(problems.openedAt, openedAt), lt(problems.id, id)))!);
  }
  return db
    .select()
    .from(problems)
    .where(and(...where))
    .orderBy(desc(problems.openedAt), desc(problems.id))
    .limit(options.limit + 1);
}

/** How many problems match a filter. */
export async function countProblems(db: Db, tenantId: string, filter?: ProblemListFilter | null): Promise<number> {
  const [row] = await db.select({ n: count() }).from(problems).where(and(...filterConditions(tenantId, filter)));
  return row?.n ?? 0;
}

/** Inserts a problem. */
export async function insertProblem(db: Db, values: typeof problems.$inferInsert): Promise<ProblemRow> {
  const [row] = await db.insert(problems).values(values).returning();
  return row!;
}

/** Writes a patch and bumps the version only if the stored version is still `version`; undefined when it was not. */
export async function updateProblemIfVersion(
  db: Db,
  tenantId: string,
  id: string,
  version: number,
  patch: Partial<typeof problems.$inferInsert>,
): Promise<ProblemRow | undefined> {
  const [row] = await db
    .update(problems)
    .set({ ...patch, version: sql`${problems.version} + 1` })
    .where(and(eq(problems.tenantId, tenantId), eq(problems.id, id), eq(problems.version, version)))
    .returning();
  return row;
}

/** Recomputes a problem's incident count and first/last occurrence from its links. */
export async function refreshProblemIncidentStats(db: Db, tenantId: string, problemId: string): Promise<ProblemRow | undefined> {
  const ofLinks = (aggregate: SQL) =>
    sql`(select ${aggregate} from ${problemIncidents} l where l.tenant_id = ${tenantId} and l.problem_id = ${problemId})`;
  const [row] = await db
    .update(problems)
    .set({
      incidentCount: ofLinks(sql`count(*)::int`),
      firstOccurredAt: ofLinks(sql`min(l.occurred_at)`),
      lastOccurredAt: ofLinks(sql`max(l.occurred_at)`),
    })
    .where(and(eq(problems.tenantId, tenantId), eq(problems.id, problemId)))
    .returning();
  return row;
}

/** Appends history entries. */
export async function insertProblemHistory(db: Db, rows: (typeof problemHistory.$inferInsert)[]): Promise<void> {
  if (rows.length) await db.insert(problemHistory).values(rows);
}

/** History of several problems, oldest first. */
export async function getHistoryByProblemIds(db: Db, tenantId: string, problemIds: readonly string[]): Promise<ProblemHistoryRow[]> {
  if (!problemIds.length) return [];
  return db
    .select()
    .from(problemHistory)
    .where(and(eq(problemHistory.tenantId, tenantId), inArray(problemHistory.problemId, [...problemIds])))
    .orderBy(asc(problemHistory.id));
}

// ---------------------------------------------------------------- incident links

/** Links an incident; an existing link is kept as it was. Returns true when a link was added. */
export async function insertIncidentLink(db: Db, values: typeof problemIncidents.$inferInsert): Promise<boolean> {
  const rows = await db.insert(problemIncidents).values(values).onConflictDoNothing().returning({ id: problemIncidents.incidentId });
  return rows.length > 0;
}

/** Removes a link; true when there was one. */
export async function deleteIncidentLink(db: Db, tenantId: string, problemId: string, incidentId: string): Promise<boolean> {
  const rows = await db
    .delete(problemIncidents)
    .where(and(eq(problemIncidents.tenantId, tenantId), eq(problemIncidents.problemId, problemId), eq(problemIncidents.incidentId, incidentId)))
    .returning({ id: problemIncidents.incidentId });
  return rows.length > 0;
}

/** Sets the occurrence time of every link of an incident (when its real opening time becomes known); returns the problems touched. */
export async function setLinkOccurrence(db: Db, tenantId: string, incidentId: string, occurredAt: Date): Promise<string[]> {
  const rows = await db
    .update(problemIncidents)
    .set({ occurredAt })
    .where(
      and(
        eq(problemIncidents.tenantId, tenantId),
        eq(problemIncidents.incidentId, incidentId),
        sql`${problemIncidents.occurredAt} is distinct from ${occurredAt.toISOString()}::timestamptz`,
      ),
    )
    .returning({ problemId: problemIncidents.problemId });
  return rows.map((r) => r.problemId);
}

/** Links of several problems, oldest first (links made together: earliest incident first). */
export async function getLinksByProblemIds(db: Db, tenantId: string, problemIds: readonly string[]): Promise<ProblemIncidentRow[]> {
  if (!problemIds.length) return [];
  return db
    .select()
    .from(problemIncidents)
    .where(and(eq(problemIncidents.tenantId, tenantId), inArray(problemIncidents.problemId, [...problemIds])))
    .orderBy(asc(problemIncidents.linkedAt), asc(problemIncidents.occurredAt), asc(problemIncidents.incidentId));
}

/** Problems linked to each of several incidents, with the link, oldest link first. */
export async function getProblemsByIncidentIds(db: Db, tenantId: string, incidentIds: readonly string[]) {
  if (!incidentIds.length) return [];
  return db
    .select({ incidentId: problemIncidents.incidentId, problem: problems })
    .from(problemIncidents)
    .innerJoin(problems, and(eq(problems.tenantId, problemIncidents.tenantId), eq(problems.id, problemIncidents.problemId)))
    .where(and(eq(problemIncidents.tenantId, tenantId), inArray(problemIncidents.incidentId, [...incidentIds])))
    .orderBy(asc(problemIncidents.linkedAt), asc(problems.number));
}

// ---------------------------------------------------------------- known errors

const knownErrorColumns = {
  tenantId: knownErrors.tenantId,
  id: knownErrors.id,
  number: knownErrors.number,
  problemId: knownErrors.problemId,
  title: knownErrors.title,
  description: knownErrors.description,
  symptoms: knownErrors.symptoms,
  rootCause: knownErrors.rootCause,
  workaround: knownErrors.workaround,
  permanentFix: knownErrors.permanentFix,
  active: knownErrors.active,
  workaroundCommunicatedAt: knownErrors.workaroundCommunicatedAt,
  version: knownErrors.version,
  createdAt: knownErrors.createdAt,
  updatedAt: knownErrors.updatedAt,
};

/** Inserts a known error. */
export async function insertKnownError(db: Db, values: typeof knownErrors.$inferInsert): Promise<KnownErrorRow> {
  const [row] = await db.insert(knownErrors).values(values).returning(knownErrorColumns);
  return row!;
}

/** Known errors of a tenant by id. */
export async function getKnownErrorsByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<KnownErrorRow[]> {
  if (!ids.length) return [];
  return db
    .select(knownErrorColumns)
    .from(knownErrors)
    .where(and(eq(knownErrors.tenantId, tenantId), inArray(knownErrors.id, [...ids])));
}

/** One known error by its number (KE000001). */
export async function getKnownErrorByNumber(db: Db, tenantId: string, number: string): Promise<KnownErrorRow | undefined> {
  const [row] = await db
    .select(knownErrorColumns)
    .from(knownErrors)
    .where(and(eq(knownErrors.tenantId, tenantId), eq(knownErrors.number, number)));
  return row;
}

/** Known errors recorded for several problems, oldest first. */
export async function getKnownErrorsByProblemIds(db: Db, tenantId: string, problemIds: readonly string[]): Promise<KnownErrorRow[]> {
  if (!problemIds.length) return [];
  return db
    .select(knownErrorColumns)
    .from(knownErrors)
    .where(and(eq(knownErrors.tenantId, tenantId), inArray(knownErrors.problemId, [...problemIds])))
    .orderBy(asc(knownErrors.number));
}

/** Compare-and-set update of a known error; undefined when the version moved on. */
export async function updateKnownErrorIfVersion(
  db: Db,
  tenantId: string,
  id: string,
  version: number,
  patch: Partial<typeof knownErrors.$inferInsert>,
): Promise<KnownErrorRow | undefined> {
  const [row] = await db
    .update(knownErrors)
    .set({ ...patch, version: sql`${knownErrors.version} + 1` })
    .where(and(eq(knownErrors.tenantId, tenantId), eq(knownErrors.id, id), eq(knownErrors.version, version)))
    .returning(knownErrorColumns);
  return row;
}

/** Records that a known error's workaround went out (not a user edit: the version stays). */
export async function markWorkaroundCommunicated(db: Db, tenantId: string, id: string, at: Date): Promise<KnownErrorRow | undefined> {
  const [row] = await db
    .update(knownErrors)
    .set({ workaroundCommunicatedAt: at })
    .where(and(eq(knownErrors.tenantId, tenantId), eq(knownErrors.id, id)))
    .returning(knownErrorColumns);
  return row;
}

export interface KnownErrorListFilter {
  active?: boolean | null;
  problemId?: string | null;
}

/** A page of known errors, newest first, after a keyset position (one extra row fetched). */
export async function listKnownErrors(
  db: Db,
  tenantId: string,
  options: { filter?: KnownErrorListFilter | null; after?: { createdAt: Date; id: string }; limit: number },
): Promise<KnownErrorRow[]> {
  const where = knownErrorConditions(tenantId, options.filter);
  if (options.after) {
    const { createdAt, id } = options.after;
    where.push(or(lt(knownErrors.createdAt, createdAt), and(eq(knownErrors.createdAt, createdAt), lt(knownErrors.id, id)))!);
  }
  return db
    .select(knownErrorColumns)
    .from(knownErrors)
    .where(and(...where))
    .orderBy(desc(knownErrors.createdAt), desc(knownErrors.id))
    .limit(options.limit + 1);
}

/** How many known errors match a filter (without a search). */
export async function countKnownErrors(db: Db, tenantId: string, filter?: KnownErrorListFilter | null): Promise<number> {
  const [row] = await db.select({ n: count() }).from(knownErrors).where(and(...knownErrorConditions(tenantId, filter)));
  return row?.n ?? 0;
}

function knownErrorConditions(tenantId: string, filter: KnownErrorListFilter | null | undefined): SQL[] {
  const where: SQL[] = [eq(knownErrors.tenantId, tenantId)];
  if (filter?.active != null) where.push(eq(knownErrors.active, filter.active));
  if (filter?.problemId) where.push(eq(knownErrors.problemId, filter.problemId));
  return where;
}

/** One text to rank known errors against: `words` is its OR-query (see domain/search.ts). */
export interface KnownErrorProbe {
  key: string;
  text: string;
  words: string;
}

export interface RankedKnownError {
  key: string;
  score: number;
  knownError: KnownErrorRow;
}

/**
 * Ranks known errors against several texts in one statement. A known error matches on any word
 * of the text (full text, stemmed: "hourly" finds "hour") or on the text's trigrams (catches
 * misspellings). The score is ts_rank divided by 1 + log(length of the known error), so a short
 * known error that shares the text's key words outranks a long one that shares as many filler
 * words, plus a twentieth of the trigram similarity: enough to order misspelt matches and near
 * ties, too little to outweigh the full-text rank.
 */
export async function rankKnownErrors(
  db: Db,
  tenantId: string,
  probes: readonly KnownErrorProbe[],
  options: { limit: number; offset?: number; filter?: KnownErrorListFilter | null },
): Promise<RankedKnownError[]> {
  if (!probes.length) return [];
  const values = probes.map((p) => sql`(${p.key}::text, ${p.text}::text, websearch_to_tsquery('english', ${p.words}::text))`);
  const rows = await queryRows<Record<string, unknown> & { probe_key: string; score: number | string }>(
    db,
    sql`select probe.key as probe_key, m.*
        from (values ${sql.join(values, sql`, `)}) as probe(key, text, query)
        cross join lateral (
          select k.tenant_id, k.id, k.number, k.problem_id, k.title, k.description, k.symptoms, k.root_cause, k.workaround,
                 k.permanent_fix, k.active, k.workaround_communicated_at, k.version, k.created_at, k.updated_at,
                 ts_rank(k.search_vector, probe.query, 1) + 0.05 * strict_word_similarity(probe.text, k.match_text) as score
          from ${knownErrors} k
          where k.tenant_id = ${tenantId}
            ${options.filter?.active != null ? sql`and k.active = ${options.filter.active}` : sql``}
            ${options.filter?.problemId ? sql`and k.problem_id = ${options.filter.problemId}` : sql``}
            and (k.search_vector @@ probe.query or probe.text <<% k.match_text)
          order by score desc, k.number
          limit ${options.limit} offset ${options.offset ?? 0}
        ) m
        order by probe.key, m.score desc, m.number`,
  );
  return rows.map((r) => ({ key: r.probe_key, score: Number(r.score), knownError: knownErrorFromRaw(r) }));
}

/** How many known errors `rankKnownErrors` would find for one text (over all pages). */
export async function countRankedKnownErrors(db: Db, tenantId: string, probe: KnownErrorProbe, filter?: KnownErrorListFilter | null): Promise<number> {
  const rows = await queryRows<{ n: number | string }>(
    db,
    sql`select count(*)::int as n
        from ${knownErrors} k, websearch_to_tsquery('english', ${probe.words}::text) as query
        where k.tenant_id = ${tenantId}
          ${filter?.active != null ? sql`and k.active = ${filter.active}` : sql``}
          ${filter?.problemId ? sql`and k.problem_id = ${filter.problemId}` : sql``}
          and (k.search_vector @@ query or ${probe.text}::text <<% k.match_text)`,
  );
  return Number(rows[0]?.n ?? 0);
}

function knownErrorFromRaw(r: Record<string, unknown>): KnownErrorRow {
  const date = (v: unknown) => (v == null ? null : new Date(v as string));
  return {
    tenantId: r.tenant_id as string,
    id: r.id as string,
    number: r.number as string,
    problemId: (r.problem_id as string | null) ?? null,
    title: r.title as string,
    description: (r.description as string | null) ?? null,
    symptoms: r.symptoms as string,
    rootCause: (r.root_cause as string | null) ?? null,
    workaround: (r.workaround as string | null) ?? null,
    permanentFix: (r.permanent_fix as string | null) ?? null,
    active: r.active as boolean,
    workaroundCommunicatedAt: date(r.workaround_communicated_at),
    version: Number(r.version),
    createdAt: date(r.created_at)!,
    updatedAt: date(r.updated_at)!,
  };
}

/** Links an incident to a known error; true when the link is new. */
export async function insertKnownErrorLink(db: Db, values: typeof knownErrorIncidents.$inferInsert): Promise<boolean> {
  const rows = await db.insert(knownErrorIncidents).values(values).onConflictDoNothing().returning({ id: knownErrorIncidents.incidentId });
  return rows.length > 0;
}

/** Incident ids linked to a known error directly. */
export async function getKnownErrorIncidentIds(db: Db, tenantId: string, knownErrorId: string): Promise<string[]> {
  const rows = await db
    .select({ incidentId: knownErrorIncidents.incidentId })
    .from(knownErrorIncidents)
    .where(and(eq(knownErrorIncidents.tenantId, tenantId), eq(knownErrorIncidents.knownErrorId, knownErrorId)))
    .orderBy(asc(knownErrorIncidents.linkedAt), asc(knownErrorIncidents.incidentId));
  return rows.map((r) => r.incidentId);
}

/** Direct incident links of several known errors, oldest first. */
export async function getKnownErrorLinksByIds(db: Db, tenantId: string, knownErrorIds: readonly string[]) {
  if (!knownErrorIds.length) return [];
  return db
    .select()
    .from(knownErrorIncidents)
    .where(and(eq(knownErrorIncidents.tenantId, tenantId), inArray(knownErrorIncidents.knownErrorId, [...knownErrorIds])))
    .orderBy(asc(knownErrorIncidents.linkedAt), asc(knownErrorIncidents.incidentId));
}

/** Known errors each of several incidents was linked to, oldest link first. */
export async function getKnownErrorsByIncidentIds(db: Db, tenantId: string, incidentIds: readonly string[]) {
  if (!incidentIds.length) return [];
  return db
    .select({ incidentId: knownErrorIncidents.incidentId, knownError: knownErrorColumns })
    .from(knownErrorIncidents)
    .innerJoin(knownErrors, and(eq(knownErrors.tenantId, knownErrorIncidents.tenantId), eq(knownErrors.id, knownErrorIncidents.knownErrorId)))
    .where(and(eq(knownErrorIncidents.tenantId, tenantId), inArray(knownErrorIncidents.incidentId, [...incidentIds])))
    .orderBy(asc(knownErrorIncidents.linkedAt), asc(knownErrors.number));
}

// ---------------------------------------------------------------- recurrence

/** A tenant's stored recurrence thresholds, if it set any. */
export async function getRecurrenceSettings(db: Db, tenantId: string): Promise<RecurrenceSettingsRow | undefined> {
  const [row] = await db.select().from(recurrenceSettings).where(eq(recurrenceSettings.tenantId, tenantId));
  return row;
}

/** Stores a tenant's recurrence thresholds. */
export async function saveRecurrenceSettings(db: Db, values: typeof recurrenceSettings.$inferInsert): Promise<RecurrenceSettingsRow> {
  const { tenantId: _tenantId, ...rest } = values;
  const [row] = await db
    .insert(recurrenceSettings)
    .values(values)
    .onConflictDoUpdate({ target: recurrenceSettings.tenantId, set: rest })
    .returning();
  return row!;
}

/** Serialises recurrence decisions of one tenant until the transaction ends (replicas included). */
export async function lockTenantRecurrence(db: Db, tenantId: string): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtext('problem:recurrence'), hashtext(${tenantId}))`);
}

/** Inserts or refreshes what is known about an incident. */
export async function upsertObservedIncident(db: Db, values: typeof observedIncidents.$inferInsert): Promise<ObservedIncidentRow> {
  const { tenantId: _tenantId, incidentId: _incidentId, ...rest } = values;
  const [row] = await db
    .insert(observedIncidents)
    .values(values)
    .onConflictDoUpdate({ target: [observedIncidents.tenantId, observedIncidents.incidentId], set: rest })
    .returning();
  return row!;
}

/** Observed incidents by id. */
export async function getObservedIncidentsByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<ObservedIncidentRow[]> {
  if (!ids.length) return [];
  return db
    .select()
    .from(observedIncidents)
    .where(and(eq(observedIncidents.tenantId, tenantId), inArray(observedIncidents.incidentId, [...ids])));
}

/** Incidents opened within [from, to] sharing the category or the configuration item. */
export async function getObservedIncidentsNear(
  db: Db,
  tenantId: string,
  options: { category: string | null; configurationItem: string | null; from: Date; to: Date },
): Promise<ObservedIncidentRow[]> {
  const shares: SQL[] = [];
  if (options.category !== null) shares.push(eq(observedIncidents.category, options.category));
  if (options.configurationItem !== null) shares.push(eq(observedIncidents.configurationItem, options.configurationItem));
  if (!shares.length) return [];
  return db
    .select()
    .from(observedIncidents)
    .where(
      and(
        eq(observedIncidents.tenantId, tenantId),
        or(...shares),
        sql`${observedIncidents.openedAt} between ${options.from.toISOString()}::timestamptz and ${options.to.toISOString()}::timestamptz`,
      ),
    )
    .orderBy(asc(observedIncidents.openedAt), asc(observedIncidents.incidentId));
}

/** The clusters (with their problem) each of several incidents belongs to. */
export async function getClusterMemberships(db: Db, tenantId: string, incidentIds: readonly string[]) {
  if (!incidentIds.length) return [];
  return db
    .select({
      incidentId: recurrenceClusterMembers.incidentId,
      clusterId: recurrenceClusters.id,
      detectedAt: recurrenceClusters.detectedAt,
      problem: problems,
    })
    .from(recurrenceClusterMembers)
    .innerJoin(
      recurrenceClusters,
      and(eq(recurrenceClusters.tenantId, recurrenceClusterMembers.tenantId), eq(recurrenceClusters.id, recurrenceClusterMembers.clusterId)),
    )
    .innerJoin(problems, and(eq(problems.tenantId, recurrenceClusters.tenantId), eq(problems.id, recurrenceClusters.problemId)))
    .where(and(eq(recurrenceClusterMembers.tenantId, tenantId), inArray(recurrenceClusterMembers.incidentId, [...incidentIds])));
}

/** Records a cluster for a problem. */
export async function insertCluster(db: Db, values: typeof recurrenceClusters.$inferInsert): Promise<{ id: string }> {
  const [row] = await db.insert(recurrenceClusters).values(values).returning({ id: recurrenceClusters.id });
  return row!;
}

/** Adds incidents to a cluster; those already in one stay where they are. Returns the ids added. */
export async function insertClusterMembers(
  db: Db,
  tenantId: string,
  clusterId: string,
  incidentIds: readonly string[],
  joinedAt: Date,
): Promise<string[]> {
  if (!incidentIds.length) return [];
  const rows = await db
    .insert(recurrenceClusterMembers)
    .values(incidentIds.map((incidentId) => ({ tenantId, incidentId, clusterId, joinedAt })))
    .onConflictDoNothing()
    .returning({ incidentId: recurrenceClusterMembers.incidentId });
  return rows.map((r) => r.incidentId);
}
