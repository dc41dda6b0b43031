import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';

/** A response that carried GraphQL errors (or a non-2xx status without any). */
export class GraphQLRequestError extends Error {
  constructor(
    readonly status: number,
    readonly errors: readonly GraphQLFormattedError[],
  ) {
    super(errors.map((e) => e.message).join('; ') || `HTTP ${status}`);
  }
}

/**
 * Runs one generated typed document against the gateway (GraphQL over HTTP, POST); the result and the variables are
 * typed by the document, so a field removed from the schema fails `pnpm codegen` and then the compiler.
 */
export async function request<TResult, TVariables extends Record<string, unknown>>(
  endpoint: string,
  token: string,
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
): Promise<TResult> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json().catch(() => ({}))) as { data?: TResult | null; errors?: GraphQLFormattedError[] };
  if (body.errors?.length || !response.ok || body.data == null) throw new GraphQLRequestError(response.status, body.errors ?? []);
  return body.data;
}
