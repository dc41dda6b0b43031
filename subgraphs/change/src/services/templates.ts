import { hasRole, isUuid, payloadErrors, type Db, type Identity, type PayloadError } from '@itsm/kit';
import { getTemplatesByIds, insertTemplate, updateTemplate } from '../db/template-queries.js';
import type { StandardChangeTemplateRow } from '../db/schema.js';
import { CHANGE_MANAGER_ROLES, normaliseItems, optionalText } from './common.js';

type TemplateResult = { standardChangeTemplate: StandardChangeTemplateRow; errors: [] } | { standardChangeTemplate: null; errors: PayloadError[] };

const MAX_NAME = 200;
const MAX_TEXT = 20_000;

/** Drafts a standard-change template (change manager); standard changes come only from APPROVED ones. */
export async function createStandardChangeTemplate(
  db: Db,
  identity: Identity,
  input: {
    name: string;
    description?: string | null;
    implementationPlan: string;
    backoutPlan: string;
    testPlan?: string | null;
    configurationItems?: string[] | null;
    services?: string[] | null;
  },
  now = new Date(),
): Promise<TemplateResult> {
  const failed = (...errors: PayloadError[]): TemplateResult => ({ standardChangeTemplate: null, errors });
  if (!hasRole(identity, CHANGE_MANAGER_ROLES)) return failed(payloadErrors.forbidden(CHANGE_MANAGER_ROLES));
  const name = input.name.trim();
  if (!name || name.length > MAX_NAME) return failed(payloadErrors.validation({ field: 'input.name', rule: 'required', message: `name must be 1 to ${MAX_NAME} characters` }));
  const texts: Record<string, string | null> = {};
  for (const field of ['description', 'implementationPlan', 'backoutPlan', 'testPlan'] as const) {
    const checked = optionalText(input[field], `input.${field}`, MAX_TEXT);
    if ('error' in checked) return failed(checked.error);
    texts[field] = checked.text;
  }
  for (const field of ['implementationPlan', 'backoutPlan'] as const) {
    if (!texts[field]) return failed(payloadErrors.validation({ field: `input.${field}`, rule: 'required', message: `a standard change template needs a ${field === 'backoutPlan' ? 'backout' : 'implementation'} plan` }));
  }
  const items = normaliseItems(input.configurationItems, 'input.configurationItems');
  if ('error' in items) return failed(items.error);
  const services = normaliseItems(input.services, 'input.services');
  if ('error' in services) return failed(services.error);
  const row = await insertTemplate(db, {
    tenantId: identity.tenantId,
    name,
    description: texts.description ?? null,
    implementationPlan: texts.implementationPlan!,
    backoutPlan: texts.backoutPlan!,
    testPlan: texts.testPlan ?? null,
    configurationItems: items.items,
    services: services.items,
    state: 'DRAFT',
    createdBy: identity.userId,
    createdAt: now,
  });
  if (!row) return failed(payloadErrors.conflict(`a standard change template named "${name}" exists`));
  return { standardChangeTemplate: row, errors: [] };
}

/** Moves a template DRAFT -> APPROVED or APPROVED -> RETIRED (change manager), compare-and-set on its version. */
export async function changeTemplateState(
  db: Db,
  identity: Identity,
  input: { templateId: string; version: number },
  to: 'APPROVED' | 'RETIRED',
  now = new Date(),
): Promise<TemplateResult> {
  const failed = (...errors: PayloadError[]): TemplateResult => ({ standardChangeTemplate: null, errors });
  if (!hasRole(identity, CHANGE_MANAGER_ROLES)) return failed(payloadErrors.forbidden(CHANGE_MANAGER_ROLES));
  const [template] = isUuid(input.templateId) ? await getTemplatesByIds(db, identity.tenantId, [input.templateId]) : [];
  if (!template) return failed(payloadErrors.notFound('standard change template', input.templateId));
  const from = to === 'APPROVED' ? 'DRAFT' : 'APPROVED';
  if (template.state !== from) return failed(payloadErrors.invalidTransition(template.state, to, `template "${template.name}" is ${template.state}; only ${from} templates can become ${to}`));
  if (template.version !== input.version) return failed(payloadErrors.versionConflict(`template "${template.name}"`, input.version, template.version));
  const values = to === 'APPROVED' ? { state: to, approvedBy: identity.userId, approvedAt: now } : { state: to };
  const updated = await updateTemplate(db, identity.tenantId, template.id, input.version, values);
  if (!updated) return failed(payloadErrors.versionConflict(`template "${template.name}"`, input.version, input.version + 1));
  return { standardChangeTemplate: updated, errors: [] };
}
