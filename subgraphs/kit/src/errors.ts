import { GraphQLError } from 'graphql';

/** The one list of error codes the graph uses, in `extensions.code` and in payload errors. */
export const ERROR_CODES = [
  'UNAUTHENTICATED',
  'INVALID_TOKEN',
  'TOKEN_EXPIRED',
  'UNSIGNED_REQUEST',
  'FORBIDDEN',
  'NOT_FOUND',
  'VALIDATION_FAILED',
  'INVALID_TRANSITION',
  'VERSION_CONFLICT',
  'CONFLICT',
  'INTERNAL_SERVER_ERROR',
  'QUERY_TOO_DEEP',
  'TOO_MANY_ALIASES',
  'QUERY_TOO_COSTLY',
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
  'INTROSPECTION_DISABLED',
  'PERSISTED_QUERY_REQUIRED',
  'PERSISTED_QUERY_NOT_FOUND',
  // A graphql-ws connection already holds as many subscriptions as one connection may.
  'TOO_MANY_SUBSCRIPTIONS',
  // Why a subscription ended (extensions.resumeAfter: the cursor to resubscribe after).
  'SCHEMA_RELOADED',
  'SUBSCRIBER_TOO_SLOW',
  'SUBGRAPH_UNAVAILABLE',
  // The service is stopping (SIGTERM): reconnect (to another replica, or once it is back) and resume.
  'SHUTTING_DOWN',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  INVALID_TOKEN: 401,
  TOKEN_EXPIRED: 401,
  UNSIGNED_REQUEST: 401,
  FORBIDDEN: 403,
  QUERY_TOO_DEEP: 400,
  TOO_MANY_ALIASES: 400,
  QUERY_TOO_COSTLY: 400,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  INTROSPECTION_DISABLED: 400,
  PERSISTED_QUERY_REQUIRED: 403,
};

/**
 * A GraphQLError carrying a code from ERROR_CODES (and the HTTP status of refusals). `httpHeaders` go on the HTTP
 * response (Retry-After of a rate limit); Apollo Server strips `extensions.http` from what the client sees.
 */
export function graphqlError(
  code: ErrorCode,
  message: string,
  extra: Record<string, unknown> = {},
  httpHeaders?: Iterable<[string, string]>,
): GraphQLError {
  const status = HTTP_STATUS[code];
  const http = status || httpHeaders ? { http: { ...(status ? { status } : {}), ...(httpHeaders ? { headers: new Map(httpHeaders) } : {}) } } : {};
  const extensions: Record<string, unknown> = { code, ...extra, ...http };
  return new GraphQLError(message, { extensions });
}

/** One problem with one input field: what a ValidationFailed payload error carries. */
export interface FieldProblem {
  field: string;
  rule: string;
  message: string;
}

/** Why a state machine refuses a move: the move itself, or a field the target state needs. */
export interface TransitionError extends FieldProblem {
  code: 'INVALID_TRANSITION' | 'VALIDATION_FAILED';
}

/** The typed errors a mutation payload returns; `__typename` picks the GraphQL type. */
export type PayloadError =
  | ({ __typename: 'ValidationFailed'; code: 'VALIDATION_FAILED' } & FieldProblem)
  | { __typename: 'NotFound'; code: 'NOT_FOUND'; message: string; id: string }
  | { __typename: 'Forbidden'; code: 'FORBIDDEN'; message: string; requiredRoles: string[] }
  | { __typename: 'VersionConflict'; code: 'VERSION_CONFLICT'; message: string; currentVersion: number }
  | { __typename: 'InvalidTransition'; code: 'INVALID_TRANSITION'; message: string; from: string; to: string }
  | { __typename: 'Conflict'; code: 'CONFLICT'; message: string };

export const payloadErrors = {
  validation: (p: FieldProblem): PayloadError => ({ __typename: 'ValidationFailed', code: 'VALIDATION_FAILED', ...p }),
  notFound: (what: string, id: string): PayloadError => ({ __typename: 'NotFound', code: 'NOT_FOUND', message: `${what} ${id} not found`, id }),
  forbidden: (requiredRoles: readonly string[]): PayloadError => ({
    __typename: 'Forbidden',
    code: 'FORBIDDEN',
    message: `requires one of the roles: ${requiredRoles.join(', ')}`,
    requiredRoles: [...requiredRoles],
  }),
  versionConflict: (what: string, expected: number, currentVersion: number): PayloadError => ({
    __typename: 'VersionConflict',
    code: 'VERSION_CONFLICT',
    message: `${what} was changed by someone else: you sent version ${expected}, the current version is ${currentVersion}`,
    currentVersion,
  }),
  invalidTransition: (from: string, to: string, message?: string): PayloadError => ({
    __typename: 'InvalidTransition',
    code: 'INVALID_TRANSITION',
    message: message ?? `cannot move from ${from} to ${to}`,
    from,
    to,
  }),
  conflict: (message: string): PayloadError => ({ __typename: 'Conflict', code: 'CONFLICT', message }),
  /** A state machine's refusal as the payload error clients see; a missing field is named under `input.`. */
  fromTransition: (from: string, to: string, refused: TransitionError): PayloadError =>
    refused.code === 'INVALID_TRANSITION'
      ? payloadErrors.invalidTransition(from, to, refused.message)
      : payloadErrors.validation({ field: `input.${refused.field}`, rule: refused.rule, message: refused.message }),
};

/** SDL every subgraph includes: payload errors, paging and the DateTime scalar compose into one set. */
export const commonTypeDefs = /* GraphQL */ `
  "An instant, ISO-8601 with offset (UTC on output), e.g. 2026-03-02T16:00:00.000Z."
  scalar DateTime

  "Relay paging information of a connection."
  type PageInfo @shareable {
    "True when another page follows."
    hasNextPage: Boolean!
    "Pass as after: to get the next page."
    endCursor: String
  }

  "A stable machine-readable error code, also used in extensions.code of thrown errors."
  enum ErrorCode {
    ${ERROR_CODES.join('\n    ')}
  }

  "An expected failure of a mutation, returned as data in its payload."
  interface MutationError {
    "Stable code for programs."
    code: ErrorCode!
    "Human-readable explanation."
    message: String!
  }

  "An input field broke a rule; nothing was written."
  type ValidationFailed implements MutationError @shareable {
    code: ErrorCode!
    message: String!
    "Path of the offending input field, e.g. input.impact."
    field: String!
    "The rule it broke, e.g. range, required, maxLength."
    rule: String!
  }

  "The record named does not exist for your tenant."
  type NotFound implements MutationError @shareable {
    code: ErrorCode!
    message: String!
    "The id or number that was not found."
    id: String!
  }

  "Your roles do not allow this operation."
  type Forbidden implements MutationError @shareable {
    code: ErrorCode!
    message: String!
    "Any one of these roles would allow it."
    requiredRoles: [String!]!
  }

  "The record changed since you read it; re-read and retry with the current version."
  type VersionConflict implements MutationError @shareable {
    code: ErrorCode!
    message: String!
    "The version stored now."
    currentVersion: Int!
  }

  "The state machine does not allow this move."
  type InvalidTransition implements MutationError @shareable {
    code: ErrorCode!
    message: String!
    from: String!
    to: String!
  }

  "The operation collides with existing data (a duplicate, a held slot)."
  type Conflict implements MutationError @shareable {
    code: ErrorCode!
    message: String!
  }
`;

/** Resolver for the MutationError interface: the union member is named by `__typename`. */
export const mutationErrorResolvers = {
  MutationError: { __resolveType: (e: PayloadError) => e.__typename },
};
