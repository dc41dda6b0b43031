import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Identity } from '@itsm/kit';
import { dedupeRepresentations } from './dedupe-representations.js';
import { createKeepAliveFetcher } from './keep-alive-fetcher.js';
import { cacheVerifiedTokens } from './token-cache.js';

const problem = (id: string) => ({ __typename: 'Problem', id });

describe('dedupeRepresentations', () => {
  it('sends each distinct representation once and fans the answers back out, each position its own copy', async () => {
    const sent: unknown[][] = [];
    const process = dedupeRepresentations(async (options: any) => {
      sent.push(options.request.variables.representations);
      return { data: { _entities: options.request.variables.representations.map((r: { id: string }) => ({ changes: [{ number: `CHG-${r.id}` }] })) } };
    });
    const response: any = await process({ request: { query: 'q', variables: { representations: [problem('a'), problem('b'), problem('a'), problem('a')] } } } as any);
    expect(sent).toEqual([[problem('a'), problem('b')]]);
    expect(response.data._entities).toEqual([
      { changes: [{ number: 'CHG-a' }] },
      { changes: [{ number: 'CHG-b' }] },
      { changes: [{ number: 'CHG-a' }] },
      { changes: [{ number: 'CHG-a' }] },
    ]);
    expect(response.data._entities[0]).not.toBe(response.data._entities[2]);
  });

  it('puts an error on every position of the representation it names', async () => {
    const process = dedupeRepresentations(async () => ({
      data: { _entities: [null, { changes: [] }] },
      errors: [{ message: 'not found', path: ['_entities', 0, 'changes'] }],
    }));
    const response: any = await process({ request: { query: 'q', variables: { representations: [problem('a'), problem('b'), problem('a')] } } } as any);
    expect(response.errors.map((e: { path: unknown[] }) => e.path)).toEqual([
      ['_entities', 0, 'changes'],
      ['_entities', 2, 'changes'],
    ]);
  });

  it('passes requests without duplicates through untouched', async () => {
    const request = { query: 'q', variables: { representations: [problem('a'), problem('b')] } };
    let seen: unknown;
    const process = dedupeRepresentations(async (options: any) => {
      seen = options.request;
      return { data: { _entities: [{}, {}] } };
    });
    await process({ request } as any);
    expect(seen).toBe(request);
  });
});

describe('cacheVerifiedTokens', () => {
  const identity: Identity = { userId: 'u', tenantId: '8d3e7f4e-5d9f-4a53-9f9c-2f5d0d3c1a11', roles: ['agent'] };
  const jwt = (exp: number) => `Bearer h.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.s`;

  it('verifies a token once per ttl and never past its exp', async () => {
    let now = 1_000_000_000_000;
    let calls = 0;
    const verify = cacheVerifiedTokens(async () => (calls++, identity), { maxEntries: 10, ttlMs: 60_000, now: () => now });
    const token = jwt(now / 1000 + 30);
    expect(await verify(token)).toBe(identity);
    expect(await verify(token)).toBe(identity);
    expect(calls).toBe(1);
    now += 31_000; // past exp (30 s), before the ttl (60 s)
    await verify(token);
    expect(calls).toBe(2);
  });

  it('does not cache failures and stays within maxEntries', async () => {
    let calls = 0;
    const verify = cacheVerifiedTokens(
      async (authorization) => {
        calls++;
        if (authorization === 'Bearer bad') throw new Error('INVALID_TOKEN');
        return identity;
      },
      { maxEntries: 2, ttlMs: 60_000 },
    );
    await expect(verify('Bearer bad')).rejects.toThrow('INVALID_TOKEN');
    await expect(verify('Bearer bad')).rejects.toThrow('INVALID_TOKEN');
    expect(calls).toBe(2);
    const far = Date.now() / 1000 + 3600;
    for (const n of [1, 2, 3]) await verify(jwt(far + n));
    await verify(jwt(far + 1)); // evicted as the oldest: verified again
    expect(calls).toBe(6);
  });
});

describe('createKeepAliveFetcher', () => {
  it('reuses one connection for sequential calls and answers like fetch', async () => {
    let connections = 0;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-seen': req.headers['x-itsm-user'] as string });
        res.end(JSON.stringify({ data: { echo: JSON.parse(body) } }));
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    const fetcher = createKeepAliveFetcher();
    try {
      for (const n of [1, 2, 3]) {
        const response = await fetcher(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-itsm-user': `u${n}` }, body: JSON.stringify({ n }) });
        expect(response.ok).toBe(true);
        expect(response.headers.get('Content-Type')).toBe('application/json');
        expect(response.headers.get('x-seen')).toBe(`u${n}`);
        expect(await response.json()).toEqual({ data: { echo: { n } } });
      }
      expect(connections).toBe(1);
    } finally {
      fetcher.agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
