import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Db } from './db.js';
import type { Route } from './http.js';
import { decodeEventCursor, readEvents, type OutboxEvent } from './outbox.js';

/**
 * The internal event feed: every subgraph serves its outbox, all tenants, at
 * `GET /internal/events?after=<cursor>&limit=<n>&types=A,B` to other subgraphs only. Requests
 * carry a service signature (HMAC with the internal secret over the service name, method, path
 * and a timestamp), distinct from the gateway's identity signature, so neither can stand in for
 * the other and a client token never reaches the feed.
 */
export const EVENT_FEED_PATH = '/internal/events';
export const MAX_FEED_LIMIT = 500;

export const SERVICE_HEADERS = {
  service: 'x-itsm-service',
  timestamp: 'x-itsm-service-timestamp',
  signature: 'x-itsm-service-signature',
} as const;

const MAX_SKEW_MS = 5 * 60_000;

function serviceSignature(secret: string, service: string, method: string, pathAndQuery: string, timestamp: string): string {
  return createHmac('sha256', secret).update(`itsm-service-v1\n${service}\n${method}\n${pathAndQuery}\n${timestamp}`).digest('base64url');
}

/** Headers that sign one internal request of `service` with the internal secret. */
export function signServiceRequest(secret: string, service: string, method: string, pathAndQuery: string, now = Date.now()): Record<string, string> {
  const timestamp = String(now);
  return {
    [SERVICE_HEADERS.service]: service,
    [SERVICE_HEADERS.timestamp]: timestamp,
    [SERVICE_HEADERS.signature]: serviceSignature(secret, service, method, pathAndQuery, timestamp),
  };
}

/** Checks a service signature; returns the calling service's name, or why it was refused. */
export function verifyServiceRequest(req: IncomingMessage, secret: string, now = Date.now()): { service: string } | { reason: string } {
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const service = header(SERVICE_HEADERS.service);
  const timestamp = header(SERVICE_HEADERS.timestamp);
  const sent = header(SERVICE_HEADERS.signature);
  if (!service || !timestamp || !sent) return { reason: 'request is not signed by a service' };
  const expected = Buffer.from(serviceSignature(secret, service, req.method ?? 'GET', req.url ?? '', timestamp));
  const given = Buffer.from(sent);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { reason: 'service signature does not verify' };
  if (!(Math.abs(now - Number(timestamp)) <= MAX_SKEW_MS)) return { reason: 'service signature has expired' };
  return { service };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** Serves a subgraph's outbox (every tenant) on the internal feed, to signed service requests only. */
export function eventFeedRoute(options: { db: Db; schemaName: string; internalSecret: string }): Route {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== EVENT_FEED_PATH) return false;
    if (req.method !== 'GET') {
      sendJson(res, 405, { error: 'use GET' });
      return true;
    }
    const verified = verifyServiceRequest(req, options.internalSecret);
    if ('reason' in verified) {
      sendJson(res, 401, { error: verified.reason, code: 'UNSIGNED_REQUEST' });
      return true;
    }
    const after = url.searchParams.get('after') || null;
    const limit = Number(url.searchParams.get('limit') ?? 100);
    const types = url.searchParams.get('types')?.split(',').filter(Boolean);
    if (after && !decodeEventCursor(after)) {
      sendJson(res, 400, { error: 'after is not an event cursor', code: 'VALIDATION_FAILED', field: 'after' });
      return true;
    }
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FEED_LIMIT) {
      sendJson(res, 400, { error: `limit must be 1 to ${MAX_FEED_LIMIT}`, code: 'VALIDATION_FAILED', field: 'limit' });
      return true;
    }
    const events = await readEvents(options.db, options.schemaName, { after, limit, types });
    sendJson(res, 200, { events });
    return true;
  };
}

/** Where another subgraph serves its feed, and the secret to sign requests with. */
export interface EventFeedSource {
  /** The producing subgraph's base URL (its /graphql URL works too: the path is replaced). */
  url: string;
  internalSecret: string;
  /** The consuming service's name, sent (signed) with each request. */
  service: string;
}

/** Reads one page of another subgraph's events after a cursor, oldest first. */
export async function fetchFeedEvents(
  source: EventFeedSource,
  options: { after?: string | null; limit: number; types?: readonly string[]; signal?: AbortSignal },
): Promise<OutboxEvent[]> {
  const url = new URL(EVENT_FEED_PATH, source.url);
  if (options.after) url.searchParams.set('after', options.after);
  url.searchParams.set('limit', String(options.limit));
  if (options.types?.length) url.searchParams.set('types', options.types.join(','));
  const pathAndQuery = `${url.pathname}${url.search}`;
  const response = await fetch(url, {
    headers: signServiceRequest(source.internalSecret, source.service, 'GET', pathAndQuery),
    signal: options.signal,
  });
  if (!response.ok) throw new Error(`event feed ${url.origin} answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { events: (Omit<OutboxEvent, 'occurredAt'> & { occurredAt: string })[] };
  return body.events.map((e) => ({ ...e, occurredAt: new Date(e.occurredAt) }));
}
