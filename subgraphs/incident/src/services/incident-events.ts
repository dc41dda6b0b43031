import { appendEvents, type Db } from '@itsm/kit';
import { SCHEMA_NAME, type IncidentRow } from '../db/schema.js';

/** Outbox event types of incidents; the problem subgraph's recurrence detector consumes them. */
export const INCIDENT_EVENT_TYPES = {
  created: 'INCIDENT_CREATED',
  updated: 'INCIDENT_UPDATED',
  stateChanged: 'INCIDENT_STATE_CHANGED',
} as const;
export type IncidentEventType = (typeof INCIDENT_EVENT_TYPES)[keyof typeof INCIDENT_EVENT_TYPES];

/** What every incident event carries: the incident as it stands after the change. */
export interface IncidentEventPayload {
  incidentId: string;
  number: string;
  title: string;
  description: string | null;
  category: string | null;
  subcategory: string | null;
  configurationItem: string | null;
  state: string;
  priority: number;
  openedAt: string;
  [key: string]: unknown;
}

/** The outbox event for an incident change, for appendEvents in the same transaction. */
export function incidentEvent(type: IncidentEventType, incident: IncidentRow, occurredAt: Date) {
  const payload: IncidentEventPayload = {
    incidentId: incident.id,
    number: incident.number,
    title: incident.title,
    description: incident.description,
    category: incident.category,
    subcategory: incident.subcategory,
    configurationItem: incident.configurationItem,
    state: incident.state,
    priority: incident.priority,
    openedAt: incident.openedAt.toISOString(),
  };
  return { tenantId: incident.tenantId, type, payload, occurredAt };
}

/** Appends events of possibly several tenants, one call per tenant so each tenant's listeners are notified. */
export async function appendTenantEvents(
  tx: Db,
  events: readonly { tenantId: string; type: string; payload: Record<string, unknown>; occurredAt?: Date }[],
): Promise<void> {
  const byTenant = new Map<string, (typeof events)[number][]>();
  for (const event of events) byTenant.set(event.tenantId, [...(byTenant.get(event.tenantId) ?? []), event]);
  for (const tenantEvents of byTenant.values()) await appendEvents(tx, SCHEMA_NAME, tenantEvents);
}
