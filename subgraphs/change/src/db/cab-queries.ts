import { and, asc, desc, eq, inArray, max, sql } from 'drizzle-orm';
import type { Db } from '@itsm/kit';
import {
  cabAgendaItems,
  cabBoards,
  cabMeetings,
  cabMembers,
  cabVotes,
  changeApprovals,
  type CabAgendaItemRow,
  type CabBoardRow,
  type CabMeetingRow,
  type CabMemberRow,
  type CabVoteRow,
  type ChangeApprovalRow,
} from './schema.js';

/** A board's stored policy, or undefined when it uses the defaults. */
export async function getCabBoard(db: Db, tenantId: string, board: string): Promise<CabBoardRow | undefined> {
  const [row] = await db.select().from(cabBoards).where(and(eq(cabBoards.tenantId, tenantId), eq(cabBoards.board, board)));
  return row;
}

/** Stores a board's policy (insert or replace), bumping its version. */
export async function upsertCabBoard(db: Db, values: Omit<typeof cabBoards.$inferInsert, 'version'>): Promise<CabBoardRow> {
  const [row] = await db
    .insert(cabBoards)
    .values(values)
    .onConflictDoUpdate({
      target: [cabBoards.tenantId, cabBoards.board],
      set: {
        mode: values.mode,
        quorum: values.quorum,
        approvalThreshold: values.approvalThreshold,
        updatedBy: values.updatedBy,
        updatedAt: values.updatedAt,
        version: sql`${cabBoards.version} + 1`,
      },
    })
    .returning();
  return row!;
}

/** A board's members by name. */
export async function getCabMembers(db: Db, tenantId: string, board: string): Promise<CabMemberRow[]> {
  return db
    .select()
    .from(cabMembers)
    .where(and(eq(cabMembers.tenantId, tenantId), eq(cabMembers.board, board)))
    .orderBy(asc(cabMembers.name), asc(cabMembers.userId));
}

/** Adds a member or changes their name and weight. */
export async function upsertCabMember(db: Db, values: typeof cabMembers.$inferInsert): Promise<CabMemberRow> {
  const [row] = await db
    .insert(cabMembers)
    .values(values)
    .onConflictDoUpdate({ target: [cabMembers.tenantId, cabMembers.board, cabMembers.userId], set: { name: values.name, weight: values.weight } })
    .returning();
  return row!;
}

/** Removes a member; undefined when they were not one. */
export async function deleteCabMember(db: Db, tenantId: string, board: string, userId: string): Promise<CabMemberRow | undefined> {
  const [row] = await db
    .delete(cabMembers)
    .where(and(eq(cabMembers.tenantId, tenantId), eq(cabMembers.board, board), eq(cabMembers.userId, userId)))
    .returning();
  return row;
}

/** Inserts a meeting. */
export async function insertCabMeeting(db: Db, values: typeof cabMeetings.$inferInsert): Promise<CabMeetingRow> {
  const [row] = await db.insert(cabMeetings).values(values).returning();
  return row!;
}

/** Meetings by id. */
export async function getCabMeetingsByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<CabMeetingRow[]> {
  if (!ids.length) return [];
  return db.select().from(cabMeetings).where(and(eq(cabMeetings.tenantId, tenantId), inArray(cabMeetings.id, [...ids])));
}

/** One meeting, locked until the transaction ends (votes and closing serialise on it). */
export async function lockCabMeeting(db: Db, tenantId: string, id: string): Promise<CabMeetingRow | undefined> {
  const [row] = await db.select().from(cabMeetings).where(and(eq(cabMeetings.tenantId, tenantId), eq(cabMeetings.id, id))).for('update');
  return row;
}

/** The tenant's meetings, newest first, optionally in some states. */
export async function listCabMeetings(db: Db, tenantId: string, options: { states?: readonly string[] | null; limit: number }): Promise<CabMeetingRow[]> {
  return db
    .select()
    .from(cabMeetings)
    .where(and(eq(cabMeetings.tenantId, tenantId), options.states?.length ? inArray(cabMeetings.state, [...options.states]) : undefined))
    .orderBy(desc(cabMeetings.scheduledAt), desc(cabMeetings.id))
    .limit(options.limit);
}

/** Closes a meeting. */
export async function closeCabMeetingRow(db: Db, tenantId: string, id: string, closedBy: string, at: Date): Promise<CabMeetingRow> {
  const [row] = await db
    .update(cabMeetings)
    .set({ state: 'CLOSED', closedBy, closedAt: at })
    .where(and(eq(cabMeetings.tenantId, tenantId), eq(cabMeetings.id, id)))
    .returning();
  return row!;
}

/** Puts changes on a meeting's agenda after the items already there; a change already on it stays where it is. */
export async function appendAgendaItems(db: Db, tenantId: string, meetingId: string, changeIds: readonly string[]): Promise<void> {
  if (!changeIds.length) return;
  const [last] = await db
    .select({ position: max(cabAgendaItems.position) })
    .from(cabAgendaItems)
    .where(and(eq(cabAgendaItems.tenantId, tenantId), eq(cabAgendaItems.meetingId, meetingId)));
  const start = (last?.position ?? 0) + 1;
  await db
    .insert(cabAgendaItems)
    .values(changeIds.map((changeId, i) => ({ tenantId, meetingId, changeId, position: start + i })))
    .onConflictDoNothing();
}

/** Agenda items of several meetings, in agenda order. */
export async function getAgendaItemsByMeetingIds(db: Db, tenantId: string, meetingIds: readonly string[]): Promise<CabAgendaItemRow[]> {
  if (!meetingIds.length) return [];
  return db
    .select()
    .from(cabAgendaItems)
    .where(and(eq(cabAgendaItems.tenantId, tenantId), inArray(cabAgendaItems.meetingId, [...meetingIds])))
    .orderBy(asc(cabAgendaItems.position));
}

/** One agenda item. */
export async function getAgendaItem(db: Db, tenantId: string, meetingId: string, changeId: string): Promise<CabAgendaItemRow | undefined> {
  const [row] = await db
    .select()
    .from(cabAgendaItems)
    .where(and(eq(cabAgendaItems.tenantId, tenantId), eq(cabAgendaItems.meetingId, meetingId), eq(cabAgendaItems.changeId, changeId)));
  return row;
}

/** Records the board's decision on an agenda item. */
export async function setAgendaDecision(db: Db, tenantId: string, meetingId: string, changeId: string, decision: string, at: Date): Promise<void> {
  await db
    .update(cabAgendaItems)
    .set({ decision, decidedAt: at })
    .where(and(eq(cabAgendaItems.tenantId, tenantId), eq(cabAgendaItems.meetingId, meetingId), eq(cabAgendaItems.changeId, changeId)));
}

/** Inserts a vote; undefined when this member already voted on this change in this meeting. */
export async function insertCabVote(db: Db, values: typeof cabVotes.$inferInsert): Promise<CabVoteRow | undefined> {
  const [row] = await db.insert(cabVotes).values(values).onConflictDoNothing().returning();
  return row;
}

/** Votes on one change in one meeting, in the order cast. */
export async function getVotesForAgendaItem(db: Db, tenantId: string, meetingId: string, changeId: string): Promise<CabVoteRow[]> {
  return db
    .select()
    .from(cabVotes)
    .where(and(eq(cabVotes.tenantId, tenantId), eq(cabVotes.meetingId, meetingId), eq(cabVotes.changeId, changeId)))
    .orderBy(asc(cabVotes.castAt), asc(cabVotes.id));
}

/** Votes cast on several changes, in the order cast. */
export async function getVotesByChangeIds(db: Db, tenantId: string, changeIds: readonly string[]): Promise<CabVoteRow[]> {
  if (!changeIds.length) return [];
  return db
    .select()
    .from(cabVotes)
    .where(and(eq(cabVotes.tenantId, tenantId), inArray(cabVotes.changeId, [...changeIds])))
    .orderBy(asc(cabVotes.castAt), asc(cabVotes.id));
}

/** Votes cast in several meetings, in the order cast. */
export async function getVotesByMeetingIds(db: Db, tenantId: string, meetingIds: readonly string[]): Promise<CabVoteRow[]> {
  if (!meetingIds.length) return [];
  return db
    .select()
    .from(cabVotes)
    .where(and(eq(cabVotes.tenantId, tenantId), inArray(cabVotes.meetingId, [...meetingIds])))
    .orderBy(asc(cabVotes.castAt), asc(cabVotes.id));
}

/** Records an approval decision. */
export async function insertApproval(db: Db, values: typeof changeApprovals.$inferInsert): Promise<ChangeApprovalRow> {
  const [row] = await db.insert(changeApprovals).values(values).returning();
  return row!;
}

/** Approval decisions on several changes, oldest first. */
export async function getApprovalsByChangeIds(db: Db, tenantId: string, changeIds: readonly string[]): Promise<ChangeApprovalRow[]> {
  if (!changeIds.length) return [];
  return db
    .select()
    .from(changeApprovals)
    .where(and(eq(changeApprovals.tenantId, tenantId), inArray(changeApprovals.changeId, [...changeIds])))
    .orderBy(asc(changeApprovals.decidedAt), asc(changeApprovals.id));
}
