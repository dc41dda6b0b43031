import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A benchmark process (a subgraph, a gateway, the load generator) driven over Node's IPC channel. */
export interface BenchProcess {
  name: string;
  pid: number;
  /** What the process reported when ready (its URL for servers). */
  url: string;
  call<T = unknown>(type: string, payload?: unknown): Promise<T>;
  stop(): Promise<void>;
}

interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

/** Forks `bench/processes/<script>.ts` under tsx and waits until it reports ready. */
export function startProcess(name: string, script: string, env: Record<string, string> = {}, execArgv: string[] = []): Promise<BenchProcess> {
  const file = fileURLToPath(new URL(`../processes/${script}.ts`, import.meta.url));
  const child: ChildProcess = fork(file, [], {
    execArgv: ['--import', 'tsx', ...execArgv],
    // No cloud metadata probes from libraries inside the gateways (GCP resource detection in OpenTelemetry): the
    // benchmark talks to nothing but loopback.
    env: { ...process.env, APOLLO_TELEMETRY_DISABLED: 'true', METADATA_SERVER_DETECTION: 'none', OTEL_NODE_RESOURCE_DETECTORS: 'none', OTEL_SDK_DISABLED: 'true', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let exited = false;
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => {
      exited = true;
      const error = new Error(`${name} exited with code ${code}`);
      for (const p of pending.values()) p.reject(error);
      pending.clear();
      reject(error);
    };
    child.once('exit', onExit);
    child.on('message', (message: { type?: string; url?: string } & Partial<Reply>) => {
      if (message.type === 'ready') {
        resolve({
          name,
          pid: child.pid!,
          url: message.url ?? '',
          call: (type, payload) =>
            new Promise((res, rej) => {
              if (exited) return rej(new Error(`${name} is not running`));
              const id = nextId++;
              pending.set(id, { resolve: res as (v: unknown) => void, reject: rej });
              child.send({ id, type, payload });
            }),
          stop: async () => {
            if (exited) return;
            child.off('exit', onExit);
            const gone = new Promise<void>((r) => child.once('exit', () => r()));
            child.send({ id: 0, type: 'stop' });
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            await gone;
            clearTimeout(timer);
            exited = true;
          },
        });
        return;
      }
      if (typeof message.id === 'number') {
        const p = pending.get(message.id);
        if (!p) return;
        pending.delete(message.id);
        if (message.error) p.reject(new Error(`${name}: ${message.error}`));
        else p.resolve(message.result);
      }
    });
  });
}

/** Child side: reports ready, answers calls by type; `stop` runs `close` then exits. */
export function serveProcess(url: string, handlers: Record<string, (payload: never) => unknown>, close: () => Promise<void>): void {
  if (!process.send) throw new Error('bench processes must be started with an IPC channel');
  process.on('message', async (message: { id: number; type: string; payload?: unknown }) => {
    if (message.type === 'stop') {
      await close().catch(() => {});
      process.exit(0);
    }
    const handler = handlers[message.type];
    try {
      if (!handler) throw new Error(`unknown call ${message.type}`);
      const result = await handler(message.payload as never);
      process.send!({ id: message.id, result });
    } catch (error) {
      process.send!({ id: message.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
  // The parent going away (Ctrl-C, crash) must not leave servers behind.
  process.on('disconnect', () => {
    close().finally(() => process.exit(0));
  });
  process.send({ type: 'ready', url });
}

/** Resident set size of a process and its descendants (cluster workers) in bytes (Linux /proc); 0 when gone. */
export function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return (match ? Number(match[1]) * 1024 : 0) + children.reduce((sum, child) => sum + rssOf(child), 0);
  } catch {
    return 0;
  }
}

/** Samples a process's RSS every `intervalMs` until stopped; returns the peak seen. */
export function sampleRss(pid: number, intervalMs = 100): { stop(): number } {
  let peak = rssOf(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssOf(pid));
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, rssOf(pid));
    },
  };
}

/** CPU time (user + system) a process and its descendants have used, in ms (Linux /proc; 100 ticks a second). */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const own = (Number(fields[11]) + Number(fields[12])) * 10;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return own + children.reduce((sum, child) => sum + cpuMsOf(child), 0);
  } catch {
    return 0;
  }
}
