import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

function parseInstant(value: unknown): Date {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    const date = new Date(value);
    // PostgreSQL has no year 0 and reads no 5-digit years: instants outside years 1-9999 (UTC) are refused here.
    const year = date.getUTCFullYear();
    if (!Number.isNaN(date.getTime()) && year >= 1 && year <= 9999) return date;
  }
  throw new GraphQLError(`DateTime must be an ISO-8601 instant with an offset, e.g. 2026-03-02T16:00:00Z, in years 0001-9999; got ${JSON.stringify(value)}`, {
    extensions: { code: 'BAD_USER_INPUT', rule: 'datetime' },
  });
}

/** ISO-8601 instants in and out; input must carry an offset so no zone is guessed. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize: (value) => {
    const date = value instanceof Date ? value : new Date(value as string);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime cannot represent an invalid date');
    return date.toISOString();
  },
  parseValue: parseInstant,
  parseLiteral: (ast) => parseInstant(ast.kind === Kind.STRING ? ast.value : undefined),
});
