import { createClient, type Client } from 'graphql-ws';

/**
 * The dashboard's operations: one query for the board, one subscription per event stream. The board reads the 100
 * most urgent open incidents (by priority) with their SLAs: a page the gateway's cost limit admits.
 */
export const BOARD_QUERY = /* GraphQL */ `
  query SlaBoard {
    incidents(first: 100, filter: { state: [NEW, IN_PROGRESS, ON_HOLD] }, sort: { field: PRIORITY }) {
      edges {
        node {
          id
          number
          title
          priority
          priorityLabel
          state
          assignmentGroup
          slas {
            kind
            dueAt
            percentElapsed
            breached
            breachedAt
            stage
            escalationLevel
          }
        }
      }
    }
  }
`;

export const SLA_EVENTS_SUBSCRIPTION = /* GraphQL */ `
  subscription SlaEvents($after: String) {
    slaEvents(after: $after) {
      cursor
      kind
      slaKind
      level
      percent
      dueAt
      firedAt
      incident {
        number
        priority
        title
      }
    }
  }
`;

export const CHANGE_CONFLICTS_SUBSCRIPTION = /* GraphQL */ `
  subscription ChangeConflicts($after: String) {
    changeConflicts(after: $after) {
      cursor
      kind
      severity
      message
      changeRequest {
        number
      }
      otherChangeRequest {
        number
      }
    }
  }
`;

export interface GraphQLResult<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Runs a query over HTTP (GraphQL over HTTP, POST). */
export async function query<T>(url: string, token: string | undefined, document: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query: document, variables }),
  });
  const body = (await response.json()) as GraphQLResult<T>;
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  if (!body.data) throw new Error(`HTTP ${response.status} without data`);
  return body.data;
}

export type ConnectionState = 'connecting' | 'live' | 'reconnecting';

/**
 * One graphql-ws connection to the gateway. The client does not retry by itself: each stream below resubscribes
 * with its own latest cursor, so nothing is missed or replayed from an old position after a drop.
 */
export function createSocket(url: string, connectionParams: Record<string, string>, onState: (state: ConnectionState) => void): Client {
  return createClient({
    url,
    connectionParams,
    lazy: true,
    retryAttempts: 0,
    keepAlive: 10_000,
    on: {
      connecting: () => onState('connecting'),
      connected: () => onState('live'),
      closed: () => onState('reconnecting'),
    },
  });
}

/**
 * Subscribes to a cursor-carrying stream and keeps it alive: when the connection drops or the server ends the
 * stream (a slow consumer, a schema reload), it subscribes again from the last cursor it saw, with backoff.
 * The cursor is kept in localStorage, so a reloaded page resumes where it stopped too. Returns a stop function.
 */
export function resumableSubscription<T extends { cursor: string }>(options: {
  client: Client;
  query: string;
  field: string;
  storageKey: string;
  onEvent: (event: T) => void;
  onError: (message: string) => void;
}): () => void {
  let stopped = false;
  let unsubscribe: (() => void) | undefined;
  let attempt = 0;

  const subscribe = () => {
    if (stopped) return;
    const after = localStorage.getItem(options.storageKey);
    unsubscribe = options.client.subscribe<Record<string, T>>(
      { query: options.query, variables: { after } },
      {
        next: (result) => {
          if (result.errors?.length) options.onError(result.errors.map((e) => e.message).join('; '));
          const event = result.data?.[options.field];
          if (!event) return;
          attempt = 0;
          localStorage.setItem(options.storageKey, event.cursor);
          options.onEvent(event);
        },
        error: (error) => {
          options.onError(describe(error));
          retry();
        },
        complete: () => retry(),
      },
    );
  };
  const retry = () => {
    if (stopped) return;
    const delay = Math.min(30_000, 500 * 2 ** attempt++);
    setTimeout(subscribe, delay);
  };

  subscribe();
  return () => {
    stopped = true;
    unsubscribe?.();
  };
}

function describe(error: unknown): string {
  if (Array.isArray(error)) return error.map((e: { message?: string }) => e.message ?? String(e)).join('; ');
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error && 'code' in error) {
    const close = error as { code: number; reason?: string };
    return `connection closed (${close.code}${close.reason ? `: ${close.reason}` : ''})`;
  }
  return String(error);
}
