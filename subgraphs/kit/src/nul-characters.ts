import { HeaderMap, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { Kind, visit, type DocumentNode } from 'graphql';

const NUL = '\u0000';

function pathInValue(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes(NUL) ? path : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = pathInValue(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [key, nested] of Object.entries(value)) {
      const found = pathInValue(nested, `${path}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

/** The first argument or variable path (e.g. `input.title`) whose string holds a NUL character, if any. */
export function nulCharacterPath(variables: Record<string, unknown> | undefined, document: DocumentNode | undefined): string | undefined {
  for (const [name, value] of Object.entries(variables ?? {})) {
    const found = pathInValue(value, name);
    if (found) return found;
  }
  let literal: string | undefined;
  if (document) {
    visit(document, {
      Argument(node) {
        if (literal) return false;
        visit(node.value, {
          StringValue(value) {
            if (value.value.includes(NUL)) literal ??= node.name.value;
          },
        });
        return false;
      },
      [Kind.DIRECTIVE]: () => false,
    });
  }
  return literal;
}

/**
 * Refuses an operation any of whose strings holds a NUL character (U+0000) with VALIDATION_FAILED naming the field,
 * before anything runs: PostgreSQL text cannot store it, so the write would otherwise fail as an internal error.
 */
export function refuseNulCharacters(): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      return {
        async responseForOperation({ request, document }) {
          const field = nulCharacterPath(request.variables, document);
          if (!field) return null;
          return {
            http: { status: 200, headers: new HeaderMap() },
            body: {
              kind: 'single',
              singleResult: {
                data: null,
                errors: [{ message: `${field} must not contain NUL characters (U+0000)`, extensions: { code: 'VALIDATION_FAILED', field, rule: 'format' } }],
              },
            },
          };
        },
      };
    },
  };
}
