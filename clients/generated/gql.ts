/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query ChangeRequestWithIncidents($number: String!) {\n  changeRequest(number: $number) {\n    id\n    number\n    title\n    type\n    state\n    incidents {\n      number\n      title\n      priority\n      state\n    }\n  }\n}": typeof types.ChangeRequestWithIncidentsDocument,
    "query OpenIncidents($first: Int, $after: String, $filter: IncidentFilter) {\n  incidents(first: $first, after: $after, filter: $filter) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      node {\n        id\n        number\n        title\n        state\n        priority\n        priorityLabel\n        assignmentGroup\n        openedAt\n      }\n    }\n  }\n}": typeof types.OpenIncidentsDocument,
    "query ProblemWithIncidents($number: String!) {\n  problem(number: $number) {\n    id\n    number\n    title\n    state\n    incidentCount\n    incidents {\n      number\n      title\n      priority\n      state\n    }\n  }\n}": typeof types.ProblemWithIncidentsDocument,
};
const documents: Documents = {
    "query ChangeRequestWithIncidents($number: String!) {\n  changeRequest(number: $number) {\n    id\n    number\n    title\n    type\n    state\n    incidents {\n      number\n      title\n      priority\n      state\n    }\n  }\n}": types.ChangeRequestWithIncidentsDocument,
    "query OpenIncidents($first: Int, $after: String, $filter: IncidentFilter) {\n  incidents(first: $first, after: $after, filter: $filter) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      node {\n        id\n        number\n        title\n        state\n        priority\n        priorityLabel\n        assignmentGroup\n        openedAt\n      }\n    }\n  }\n}": types.OpenIncidentsDocument,
    "query ProblemWithIncidents($number: String!) {\n  problem(number: $number) {\n    id\n    number\n    title\n    state\n    incidentCount\n    incidents {\n      number\n      title\n      priority\n      state\n    }\n  }\n}": types.ProblemWithIncidentsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ChangeRequestWithIncidents($number: String!) {\n  changeRequest(number: $number) {\n    id\n    number\n    title\n    type\n    state\n    incidents {\n      number\n      title\n      priority\n      state\n    }\n  }\n}"): (typeof documents)["query ChangeRequestWithIncidents($number: String!) {\n  changeRequest(number: $number) {\n    id\n    number\n    title\n    type\n    state\n    incidents {\n      number\n      title\n      priority\n      state\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query OpenIncidents($first: Int, $after: String, $filter: IncidentFilter) {\n  incidents(first: $first, after: $after, filter: $filter) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      node {\n        id\n        number\n        title\n        state\n        priority\n        priorityLabel\n        assignmentGroup\n        openedAt\n      }\n    }\n  }\n}"): (typeof documents)["query OpenIncidents($first: Int, $after: String, $filter: IncidentFilter) {\n  incidents(first: $first, after: $after, filter: $filter) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      node {\n        id\n        number\n        title\n        state\n        priority\n        priorityLabel\n        assignmentGroup\n        openedAt\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ProblemWithIncidents($number: String!) {\n  problem(number: $number) {\n    id\n    number\n    title\n    state\n    incidentCount\n    incidents {\n      number\n      title\n      priority\n      state\n    }\n  }\n}"): (typeof documents)["query ProblemWithIncidents($number: String!) {\n  problem(number: $number) {\n    id\n    number\n    title\n    state\n    incidentCount\n    incidents {\n      number\n      title\n      priority\n      state\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;