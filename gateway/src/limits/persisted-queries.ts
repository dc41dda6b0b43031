import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The gateway's own allow-list, used when PERSISTED_QUERIES_FILE is not set. */
export const DEFAULT_PERSISTED_QUERIES_FILE = fileURLToPath(new URL('../../persisted-queries.json', import.meta.url));

/** Apollo's persisted query manifest format (what `@apollo/generate-persisted-query-manifest` writes). */
const manifestSchema = z.object({
  format: z.literal('apollo-persisted-query-manifest'),
  version: z.literal(1),
  operations: z.array(
    z.object({
      id: z.string().regex(/^[0-9a-f]{64}$/, 'id must be the sha256 of body, 64 lowercase hex digits'),
      name: z.string().min(1),
      type: z.enum(['query', 'mutation', 'subscription']),
      body: z.string().min(1),
    }),
  ),
});

export type PersistedOperation = z.infer<typeof manifestSchema>['operations'][number];

/** The sha256 (hex) of an operation's exact text: its persisted id. */
export function persistedQueryId(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** Apollo Server's key-value cache interface, as its `persistedQueries.cache` option takes it. */
interface ReadOnlyCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<boolean>;
}

/** The allow-list of persisted operations, by sha256 id. */
export class PersistedQueries {
  private readonly byId: ReadonlyMap<string, PersistedOperation>;

  constructor(operations: readonly PersistedOperation[]) {
    this.byId = new Map(operations.map((o) => [o.id, o]));
  }

  /** Reads and checks a manifest file; a wrong id or a malformed file fails start-up. */
  static load(file: string = DEFAULT_PERSISTED_QUERIES_FILE): PersistedQueries {
    const parsed = manifestSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) throw new Error(`persisted queries ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    for (const operation of parsed.data.operations) {
      const id = persistedQueryId(operation.body);
      if (id !== operation.id) throw new Error(`persisted queries ${file}: ${operation.name} has id ${operation.id} but its body hashes to ${id}`);
    }
    return new PersistedQueries(parsed.data.operations);
  }

  has(id: string | undefined): boolean {
    return id !== undefined && this.byId.has(id);
  }

  get operations(): PersistedOperation[] {
    return [...this.byId.values()];
  }

  /**
   * The cache for Apollo Server's `persistedQueries` option: a request naming an id in
   * `extensions.persistedQuery.sha256Hash` runs the listed body; an unknown id gets PERSISTED_QUERY_NOT_FOUND.
   * Clients cannot register operations: writes are ignored, so the list is exactly the file.
   */
  get cache(): ReadOnlyCache {
    return {
      // Apollo Server prefixes keys with "apq:".
      get: async (key) => this.byId.get(key.replace(/^apq:/, ''))?.body,
      set: async () => {},
      delete: async () => false,
    };
  }
}
