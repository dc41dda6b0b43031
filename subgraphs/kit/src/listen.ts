import type { DatabaseHandle } from './db.js';

/**
 * Subscribes to a Postgres NOTIFY channel on either driver. `onListen` runs each time the listening
 * connection is (re)established, so a consumer can catch up on anything it missed while disconnected.
 * Resolves to a function that stops listening.
 */
export async function listenToChannel(
  database: DatabaseHandle,
  channel: string,
  onNotify: (payload: string) => void,
  onListen?: () => void,
): Promise<() => Promise<void>> {
  if (database.postgres) {
    const { unlisten } = await database.postgres.listen(channel, onNotify, onListen);
    return () => unlisten();
  }
  if (database.pglite) {
    const unlisten = await database.pglite.listen(channel, onNotify);
    onListen?.();
    return () => unlisten();
  }
  throw new Error(`cannot LISTEN on a ${database.kind} database handle`);
}
