import type { Graph } from './run.js';

/** The scale case (--scale): filled in below. */
export async function runScale(_options: { graph: Graph; gatewayUrl: string; jwtSecret: string; log: (...parts: unknown[]) => void }): Promise<void> {}
