/** What the gateway injects into each page it serves (`<script id="itsm-config" type="application/json">`). */
export interface PageConfig {
  /** Path of the GraphQL endpoint on the same origin (HTTP and graphql-ws). */
  graphqlPath: string;
  /** A development token for the demo tenant; absent when tokens come from an identity provider. */
  devToken?: string;
}

/**
 * Reads the injected page configuration; falls back to /graphql without a token. A token in the URL fragment
 * (`/dashboard#token=<jwt>`, never sent to a server) replaces the dev token: another tenant, another role.
 */
export function readPageConfig(): PageConfig {
  const element = document.getElementById('itsm-config');
  const parsed = element?.textContent ? (JSON.parse(element.textContent) as Partial<PageConfig>) : {};
  const fragmentToken = new URLSearchParams(window.location.hash.slice(1)).get('token') ?? undefined;
  return { graphqlPath: parsed.graphqlPath ?? '/graphql', devToken: fragmentToken ?? parsed.devToken };
}

/** Absolute http(s) and ws(s) URLs of the GraphQL endpoint on this page's origin. */
export function endpointUrls(graphqlPath: string): { http: string; ws: string } {
  const http = new URL(graphqlPath, window.location.href);
  const ws = new URL(http);
  ws.protocol = http.protocol === 'https:' ? 'wss:' : 'ws:';
  return { http: http.toString(), ws: ws.toString() };
}

/** What graphql-ws sends on connect: the gateway authenticates the socket with it. */
export function connectionParams(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}
