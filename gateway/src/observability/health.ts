/** How long readiness waits for one subgraph's /health. */
const SUBGRAPH_HEALTH_TIMEOUT_MS = 2_000;

/** True when `/health` next to each subgraph's GraphQL URL answers 2xx within the timeout. */
export async function subgraphsAnswer(graphqlUrls: readonly string[]): Promise<boolean> {
  const answers = await Promise.all(
    graphqlUrls.map(async (url) => {
      try {
        const response = await fetch(new URL('/health', url), { signal: AbortSignal.timeout(SUBGRAPH_HEALTH_TIMEOUT_MS) });
        await response.body?.cancel();
        return response.ok;
      } catch {
        return false;
      }
    }),
  );
  return answers.every(Boolean);
}
