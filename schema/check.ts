import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import { z } from 'zod';
import { apiSchemaOf } from './api-schema.js';

// graphql-inspector loads graphql's CommonJS build; a bundler-resolved `import 'graphql'` (vitest picks the .mjs
// build) would hand it schemas from another realm, so the schemas it compares are built by the same CommonJS module.
const { buildSchema } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

/** The API schema of the last release: what deployed clients were built against. */
export const RELEASED_SCHEMA_FILE = fileURLToPath(new URL('./released/api-schema.graphql', import.meta.url));
/** Breaking changes a release makes on purpose, each with the reason clients were told. */
export const ACCEPTED_FILE = fileURLToPath(new URL('./released/accepted-breaking-changes.json', import.meta.url));

const acceptedSchema = z.array(
  z.strictObject({
    /** graphql-inspector's change type, e.g. FIELD_REMOVED. */
    type: z.string().regex(/^[A-Z_]+$/),
    /** The schema coordinate the change is at, e.g. Incident.priorityLabel. */
    path: z.string().min(1),
    reason: z.string().trim().min(10, 'say why the break is acceptable and how clients were told'),
  }),
);
export type AcceptedBreakingChange = z.infer<typeof acceptedSchema>[number];

export interface SchemaCheck {
  /** Breaking changes not listed as accepted: the check fails when there is any. */
  unaccepted: Change[];
  accepted: { change: Change; reason: string }[];
  /** Changes that are not breaking but can change what existing clients see (a new enum value, a new default). */
  dangerous: Change[];
  safe: Change[];
  /** Accepted entries that match no change any more: left over from a previous release. */
  stale: AcceptedBreakingChange[];
}

/** Parses and validates the accepted-breaking-changes list. */
export function parseAccepted(json: string): AcceptedBreakingChange[] {
  return acceptedSchema.parse(JSON.parse(json));
}

/** Compares a candidate API schema with the released one; breaking changes pass only when listed as accepted. */
export async function checkSchema(releasedSdl: string, candidateSdl: string, accepted: readonly AcceptedBreakingChange[]): Promise<SchemaCheck> {
  const changes = await diff(buildSchema(releasedSdl), buildSchema(candidateSdl));
  const matches = (entry: AcceptedBreakingChange, change: Change) => entry.type === change.type && entry.path === change.path;
  const result: SchemaCheck = { unaccepted: [], accepted: [], dangerous: [], safe: [], stale: [] };
  for (const change of changes) {
    if (change.criticality.level === CriticalityLevel.Breaking) {
      const entry = accepted.find((a) => matches(a, change));
      if (entry) result.accepted.push({ change, reason: entry.reason });
      else result.unaccepted.push(change);
    } else if (change.criticality.level === CriticalityLevel.Dangerous) result.dangerous.push(change);
    else result.safe.push(change);
  }
  result.stale = accepted.filter((a) => !changes.some((c) => matches(a, c)));
  return result;
}

/** A report a person reads in CI output. */
export function formatSchemaCheck(check: SchemaCheck): string {
  const line = (c: Change) => `  ${c.type} ${c.path ?? ''}: ${c.message}`;
  const sections = [
    check.unaccepted.length
      ? `BREAKING changes not accepted (${check.unaccepted.length}); list each in schema/released/accepted-breaking-changes.json as {"type","path","reason"} if it is meant:\n${check.unaccepted.map(line).join('\n')}`
      : 'no unaccepted breaking change',
    check.accepted.length ? `accepted breaking changes:\n${check.accepted.map((a) => `${line(a.change)} (${a.reason})`).join('\n')}` : '',
    check.dangerous.length ? `dangerous changes:\n${check.dangerous.map(line).join('\n')}` : '',
    check.safe.length ? `safe changes: ${check.safe.length}` : '',
    check.stale.length ? `accepted entries matching no change (remove them):\n${check.stale.map((s) => `  ${s.type} ${s.path}`).join('\n')}` : '',
  ];
  return sections.filter(Boolean).join('\n');
}

/** `pnpm schema:check` composes the subgraphs now and checks against the release; `--release` records a new release. */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { composeSupergraph } = await import('./compose.js');
  const candidate = apiSchemaOf(composeSupergraph());
  if (process.argv.includes('--release')) {
    writeFileSync(RELEASED_SCHEMA_FILE, candidate);
    writeFileSync(ACCEPTED_FILE, '[]\n');
    console.log(`released: wrote ${RELEASED_SCHEMA_FILE} and emptied the accepted list`);
  } else {
    const check = await checkSchema(readFileSync(RELEASED_SCHEMA_FILE, 'utf8'), candidate, parseAccepted(readFileSync(ACCEPTED_FILE, 'utf8')));
    console.log(formatSchemaCheck(check));
    process.exitCode = check.unaccepted.length ? 1 : 0;
  }
}
