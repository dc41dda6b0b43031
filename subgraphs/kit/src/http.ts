import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { IDENTITY_HEADERS } from './identity.js';
import { bindObservedRequest, errorCodeOf, newObservedRequest, type ObservedRequest } from './request-log.js';

/** Largest request body accepted by default (MAX_BODY_BYTES configures the gateway); bigger bodies are refused before parsing. */
export const MAX_BODY_BYTES = 1_000_000;

/** How long a stopping server waits for the requests in flight before it cuts their connections. */
const DRAIN_MS = 5_000;

/** A caller's request id is kept only when it is a short safe token, so it cannot forge log lines. */
const SAFE_REQUEST_ID = /^[\w-]{1,64}$/;

/** The request id of an incoming request: the caller's `x-request-id` when safe, else a new uuid. */
export function requestIdOf(req: IncomingMessage): string {
  const header = req.headers[IDENTITY_HEADERS.requestId];
  return typeof header === 'string' && SAFE_REQUEST_ID.test(header) ? header : randomUUID();
}

export type Route = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface HttpService {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

/**
 * Serves an ApolloServer on `/graphql` over node:http (no framework), with extra routes in front. Every `/graphql`
 * request gets an ObservedRequest (request id, echoed in `x-request-id`), which `onFinished` receives with the status.
 */
export async function serveGraphQL<TContext extends BaseContext>(options: {
  apollo: ApolloServer<TContext>;
  context: (req: IncomingMessage, request: ObservedRequest) => Promise<TContext>;
  host: string;
  port: number;
  routes?: Route[];
  maxBodyBytes?: number;
  onFinished?: (request: ObservedRequest, status: number) => void;
}): Promise<HttpService> {
  const { apollo } = options;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  let closing = false;
  const server = createServer(async (req, res) => {
    let info: ObservedRequest | undefined;
    // Once stopping, every answer closes its connection: keep-alive clients cannot hold the server open.
    if (closing) res.setHeader('connection', 'close');
    try {
      for (const route of options.routes ?? []) if (await route(req, res)) return;
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/graphql') return sendJson(res, 404, { errors: [{ message: 'not found; the API is at /graphql' }] });
      const request = (info = newObservedRequest(requestIdOf(req)));
      res.setHeader(IDENTITY_HEADERS.requestId, request.requestId);
      res.once('close', () => options.onFinished?.(request, res.statusCode));

      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      let body: unknown;
      if (req.method === 'POST') {
        const text = await readBody(req, maxBodyBytes);
        const type = headers.get('content-type') ?? '';
        if (type.includes('application/json') || type.includes('application/graphql-response+json')) {
          try {
            body = text.length ? JSON.parse(text) : undefined;
          } catch {
            request.errorCodes.push('BAD_REQUEST');
            return sendJson(res, 400, { errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
          }
        } else body = text;
      }
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
        context: async () => {
          try {
            const context = await options.context(req, request);
            bindObservedRequest(context, request);
            return context;
          } catch (error) {
            request.errorCodes.push(errorCodeOf(error));
            throw error;
          }
        },
      });
      for (const [key, value] of response.headers) res.setHeader(key, value);
      res.statusCode = response.status ?? 200;
      if (response.body.kind === 'complete') return void res.end(response.body.string);
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        info?.errorCodes.push('PAYLOAD_TOO_LARGE');
        // The rest of the body is never read: close the connection rather than drain it.
        res.setHeader('connection', 'close');
        return sendJson(res, 413, { errors: [{ message: `request body over ${maxBodyBytes} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
      }
      info?.errorCodes.push('INTERNAL_SERVER_ERROR');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.destroy();
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://${options.host}:${port}/graphql`,
    // Stops accepting connections, lets the requests in flight finish (cut off after DRAIN_MS) and resolves once
    // every connection has closed.
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        const cutOff = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
        cutOff.unref();
        server.close(() => {
          clearTimeout(cutOff);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/** `/health` (alive) and `/ready` (dependencies answer) for orchestrators. */
export function healthRoutes(ready: () => Promise<boolean>): Route {
  return async (req, res) => {
    if (req.url === '/health') {
      sendJson(res, 200, { status: 'ok' });
      return true;
    }
    if (req.url === '/ready') {
      const ok = await ready().catch(() => false);
      sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready' });
      return true;
    }
    return false;
  };
}
