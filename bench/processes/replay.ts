import { createHash } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveProcess } from '../lib/ipc.js';

/**
 * Stand-in subgraphs for the gateway-bound comparison: one port per subgraph. In `record` mode each request is
 * forwarded to the real subgraph and its answer kept, keyed by the exact request body; in `replay` mode a known body is
 * answered from memory (unknown ones are still forwarded, and counted), so the subgraphs cost almost nothing and the
 * gateway in front is what limits throughput.
 */
const targets = JSON.parse(process.env.BENCH_REPLAY_TARGETS ?? '{}') as Record<string, string>;
const recorded = new Map<string, { status: number; type: string; body: Buffer }>();
let mode: 'record' | 'replay' = 'record';
let misses = 0;
let hits = 0;

const readBody = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

function forward(target: URL, req: IncomingMessage, body: Buffer): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
    const out = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers }, async (res) => {
      resolve({ status: res.statusCode ?? 500, type: String(res.headers['content-type'] ?? 'application/json'), body: await readBody(res) });
    });
    out.on('error', reject);
    out.end(body);
  });
}

const servers: Server[] = [];
const urls: Record<string, string> = {};
for (const [name, url] of Object.entries(targets)) {
  const target = new URL(url);
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const key = `${name}:${createHash('sha1').update(body).digest('base64')}`;
    let answer = mode === 'replay' ? recorded.get(key) : undefined;
    if (answer) hits++;
    else {
      if (mode === 'replay') misses++;
      answer = await forward(target, req, body);
      if (answer.status === 200) recorded.set(key, answer);
    }
    res.writeHead(answer.status, { 'content-type': answer.type, 'content-length': answer.body.length });
    res.end(answer.body);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  urls[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}${target.pathname}`;
}

serveProcess(
  JSON.stringify(urls),
  {
    replay: () => {
      mode = 'replay';
      return recorded.size;
    },
    stats: () => ({ recorded: recorded.size, hits, misses }),
  },
  async () => {
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
  },
);
