import type { Identity, PayloadError } from '@itsm/kit';
import { createChangeRequest, linkChange } from '../subgraphs/change/src/services/changes.js';
import type { IncidentRow } from '../subgraphs/incident/src/db/schema.js';
import type { HoldReason, IncidentState } from '../subgraphs/incident/src/domain/lifecycle.js';
import { createIncident, transitionIncident, updateIncident } from '../subgraphs/incident/src/services/incidents.js';
import { createProblem, linkIncident } from '../subgraphs/problem/src/services/problems.js';
import type { ImportDatabases } from './import/servicenow-import.js';

/** What the generated demo set holds. */
export interface DemoDataSummary {
  incidents: number;
  problems: number;
  changes: number;
  problemLinks: number;
  changeLinks: number;
}

interface IncidentTemplate {
  title: string;
  category: string;
  subcategory: string;
  configurationItem: string;
  assignmentGroup: string;
}

/** Realistic service-desk tickets; several share a configuration item so problems have incidents to gather. */
const TEMPLATES: IncidentTemplate[] = [
  { title: 'Outlook cannot connect to the Exchange server', category: 'Software', subcategory: 'Email', configurationItem: 'mail-exch-01', assignmentGroup: 'Messaging' },
  { title: 'Shared mailbox not updating for the finance team', category: 'Software', subcategory: 'Email', configurationItem: 'mail-exch-01', assignmentGroup: 'Messaging' },
  { title: 'Emails to external domains stuck in the outbox', category: 'Software', subcategory: 'Email', configurationItem: 'mail-relay-02', assignmentGroup: 'Messaging' },
  { title: 'VPN disconnects every ten minutes', category: 'Network', subcategory: 'VPN', configurationItem: 'vpn-gw-01', assignmentGroup: 'Network Operations' },
  { title: 'GlobalProtect VPN login fails with certificate error', category: 'Network', subcategory: 'VPN', configurationItem: 'vpn-gw-01', assignmentGroup: 'Network Operations' },
  { title: 'Wi-Fi drops on the third floor', category: 'Network', subcategory: 'Wi-Fi', configurationItem: 'ap-floor3-07', assignmentGroup: 'Network Operations' },
  { title: 'Internal sites do not resolve (DNS)', category: 'Network', subcategory: 'DNS', configurationItem: 'dns-int-01', assignmentGroup: 'Network Operations' },
  { title: 'Printer on floor 2 jams on every job', category: 'Hardware', subcategory: 'Printer', configurationItem: 'prn-floor2-01', assignmentGroup: 'Desktop Support' },
  { title: 'Laptop battery drains within an hour', category: 'Hardware', subcategory: 'Laptop', configurationItem: 'laptop-fleet-2024', assignmentGroup: 'Desktop Support' },
  { title: 'Docking station does not detect second monitor', category: 'Hardware', subcategory: 'Peripheral', configurationItem: 'laptop-fleet-2024', assignmentGroup: 'Desktop Support' },
  { title: 'Payroll run fails with timeout', category: 'Software', subcategory: 'Business Application', configurationItem: 'erp-prod', assignmentGroup: 'ERP Support' },
  { title: 'Timesheet submission returns error 500', category: 'Software', subcategory: 'Business Application', configurationItem: 'erp-prod', assignmentGroup: 'ERP Support' },
  { title: 'CRM search very slow since this morning', category: 'Software', subcategory: 'Business Application', configurationItem: 'crm-prod', assignmentGroup: 'CRM Support' },
  { title: 'Windows update loops on reboot', category: 'Software', subcategory: 'Operating System', configurationItem: 'laptop-fleet-2024', assignmentGroup: 'Desktop Support' },
  { title: 'Phishing email reported by several users', category: 'Security', subcategory: 'Phishing', configurationItem: 'mail-relay-02', assignmentGroup: 'Security Operations' },
  { title: 'Account locked after password change', category: 'Service Request', subcategory: 'Password Reset', configurationItem: 'ad-dc-01', assignmentGroup: 'Identity & Access' },
];

const PEOPLE = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Katherine Johnson', 'Linus Torvalds', 'Margaret Hamilton'];
const AGENTS = ['agent.kim', 'agent.ortiz', 'agent.novak', 'agent.singh'];
const HOLD_REASONS: HoldReason[] = ['AWAITING_CALLER', 'AWAITING_VENDOR', 'AWAITING_PROBLEM', 'AWAITING_CHANGE'];

const PROBLEMS = [
  { title: 'Exchange connection limit exhausted under load', configurationItem: 'mail-exch-01' },
  { title: 'VPN gateway drops idle tunnels too early', configurationItem: 'vpn-gw-01' },
  { title: 'ERP application server thread pool too small', configurationItem: 'erp-prod' },
  { title: 'Laptop fleet firmware causes power and display faults', configurationItem: 'laptop-fleet-2024' },
];

const CHANGES = [
  { title: 'Raise Exchange connection limits and add a CAS node', configurationItem: 'mail-exch-01', problem: 0 },
  { title: 'Upgrade VPN gateway firmware and tune idle timeout', configurationItem: 'vpn-gw-01', problem: 1 },
  { title: 'Resize ERP application server thread pool', configurationItem: 'erp-prod', problem: 2 },
  { title: 'Roll out laptop BIOS and dock firmware update', configurationItem: 'laptop-fleet-2024', problem: 3 },
  { title: 'Replace access point ap-floor3-07', configurationItem: 'ap-floor3-07', problem: null },
];

/** Deterministic pseudo-random numbers (mulberry32), so every fresh start shows the same demo set. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Seeds a tenant with a small generated set through the services: 36 incidents over the last two weeks in every
 * state, 4 problems with the incidents of their configuration item, 5 change requests linked to incidents and
 * problems. Uses the tenant's current priority matrix (the 5x5 default on a new tenant).
 */
export async function seedDemoData(databases: ImportDatabases, identity: Identity, now = new Date()): Promise<DemoDataSummary> {
  const next = random(20160229);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const minutes = (n: number) => n * 60_000;
  const incidentDb = databases.incident.db;
  const incidents: IncidentRow[] = [];

  for (let i = 0; i < 36; i++) {
    const template = TEMPLATES[i % TEMPLATES.length]!;
    const openedAt = new Date(now.getTime() - minutes(60 * 24 * 14) + minutes(Math.floor((i / 36) * 60 * 24 * 13.5)));
    let at = openedAt;
    const later = (max: number) => (at = new Date(Math.min(at.getTime() + minutes(5 + Math.floor(next() * max)), now.getTime())));
    // One transaction per incident: a running SLA monitor never sees, nor changes, a half-written one.
    const incident = await incidentDb.transaction(async (tx) => {
      let incident = await ok(
        createIncident(
          tx,
          identity,
          {
            title: template.title,
            description: `Reported by ${pick(PEOPLE)}.`,
            impact: 1 + Math.floor(next() * 5),
            urgency: 1 + Math.floor(next() * 5),
            category: template.category,
            subcategory: template.subcategory,
            configurationItem: template.configurationItem,
            assignmentGroup: template.assignmentGroup,
            caller: pick(PEOPLE),
          },
          at,
        ),
      );
      // Older incidents are further along their lifecycle; the newest stay NEW.
      const path = lifecyclePath(i, next);
      for (const to of path) {
        if (to === 'IN_PROGRESS' && !incident.assignee) {
          incident = await ok(updateIncident(tx, identity, { id: incident.id, version: incident.version, assignee: pick(AGENTS) }, later(90)));
        }
        incident = await ok(
          transitionIncident(
            tx,
            identity,
            {
              id: incident.id,
              version: incident.version,
              to,
              holdReason: to === 'ON_HOLD' ? pick(HOLD_REASONS) : null,
              resolutionCode: to === 'RESOLVED' ? pick(['RESOLVED_BY_SUPPORT', 'CONFIGURATION_CHANGE', 'WORKAROUND_PROVIDED', 'SOFTWARE_UPDATE']) : null,
              resolutionNotes: to === 'RESOLVED' ? 'Fixed and confirmed with the caller.' : null,
            },
            later(600),
          ),
        );
      }
      return incident;
    });
    incidents.push(incident);
  }

  const problemDb = databases.problem.db;
  const problemIds: string[] = [];
  let problemLinks = 0;
  for (const [index, template] of PROBLEMS.entries()) {
    const related = incidents.filter((incident) => incident.configurationItem === template.configurationItem);
    const openedAt = related[0]?.openedAt ?? now;
    const problem = await okProblem(createProblem(problemDb, identity, { title: template.title, description: `Recurring incidents on ${template.configurationItem}.` }, openedAt));
    problemIds.push(problem.id);
    for (const incident of related) {
      await okProblem(linkIncident(problemDb, identity, { problemId: problem.id, incidentId: incident.id, relation: index % 2 ? 'RELATED_TO' : 'CAUSED_BY' }, linkTime(openedAt, incident)));
      problemLinks += 1;
    }
  }

  const changeDb = databases.change.db;
  let changeLinks = 0;
  for (const template of CHANGES) {
    const related = incidents.filter((incident) => incident.configurationItem === template.configurationItem).slice(0, 3);
    const raisedAt = new Date(now.getTime() - minutes(60 * 24 * 3));
    const change = await okChange(createChangeRequest(changeDb, identity, { title: template.title, type: 'NORMAL', description: `Change on ${template.configurationItem}.` }, raisedAt));
    for (const incident of related) {
      await okChange(linkChange(changeDb, identity, { changeRequestId: change.id, incidentId: incident.id }, raisedAt));
      changeLinks += 1;
    }
    if (template.problem !== null) {
      await okChange(linkChange(changeDb, identity, { changeRequestId: change.id, problemId: problemIds[template.problem]! }, raisedAt));
    }
  }

  return { incidents: incidents.length, problems: problemIds.length, changes: CHANGES.length, problemLinks, changeLinks };
}

function lifecyclePath(index: number, next: () => number): IncidentState[] {
  const age = 1 - index / 36;
  if (age > 0.6) return next() < 0.15 ? ['IN_PROGRESS', 'RESOLVED', 'IN_PROGRESS', 'RESOLVED', 'CLOSED'] : ['IN_PROGRESS', 'RESOLVED', 'CLOSED'];
  if (age > 0.35) return next() < 0.5 ? ['IN_PROGRESS', 'RESOLVED'] : ['IN_PROGRESS', 'ON_HOLD'];
  if (age > 0.1) return next() < 0.2 ? ['CANCELLED'] : ['IN_PROGRESS'];
  return [];
}

/** A link cannot predate the incident it links. */
function linkTime(a: Date, incident: IncidentRow): Date {
  return incident.openedAt > a ? incident.openedAt : a;
}

function message(errors: PayloadError[]): string {
  return errors.map((e) => e.message).join('; ');
}

async function ok(pending: Promise<{ incident: IncidentRow | null; errors: PayloadError[] }>): Promise<IncidentRow> {
  const result = await pending;
  if (!result.incident) throw new Error(`demo data: ${message(result.errors)}`);
  return result.incident;
}

async function okProblem<T>(pending: Promise<{ problem: T | null; errors: PayloadError[] }>): Promise<T> {
  const result = await pending;
  if (!result.problem) throw new Error(`demo data: ${message(result.errors)}`);
  return result.problem;
}

async function okChange<T>(pending: Promise<{ changeRequest: T | null; errors: PayloadError[] }>): Promise<T> {
  const result = await pending;
  if (!result.changeRequest) throw new Error(`demo data: ${message(result.errors)}`);
  return result.changeRequest;
}
