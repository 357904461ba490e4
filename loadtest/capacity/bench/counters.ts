import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';

/**
 * The counters the control benchmark reads: a nats-server and a redis-server of its own
 * (local-mesh's are locked down as production runs them: no monitoring port, no INFO),
 * their server-side counters, and a wiretap that sorts every bus message by what it is.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function until(what: string, ready: () => Promise<boolean>, ms = 10_000): Promise<void> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(100))
    if (await ready().catch(() => false)) return;
  throw new Error(`${what} did not start`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
  };
}

export interface Server {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export interface NatsCounters {
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
}

/** A development nats-server (no TLS, no users) with its monitoring endpoint. */
export async function startMonitoredNats(): Promise<Server & { varz(): Promise<NatsCounters> }> {
  const [port, monitor] = [await freePort(), await freePort()];
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-m', String(monitor)], {
    stdio: 'ignore',
  });
  const varz = async (): Promise<NatsCounters> => {
    const v = (await (await fetch(`http://127.0.0.1:${monitor}/varz`)).json()) as Record<string, number>;
    return { inMsgs: v.in_msgs!, outMsgs: v.out_msgs!, inBytes: v.in_bytes!, outBytes: v.out_bytes! };
  };
  await until('nats-server', async () => (await varz()).inMsgs >= 0);
  return { url: `nats://127.0.0.1:${port}`, pid: child.pid!, varz, stop: stopper(child) };
}

export interface RedisCounters {
  commands: number;
  outputBytes: number;
  cpuSeconds: number;
  /** Calls and microseconds per command name (commands inside MULTI and scripts included). */
  byCommand: Record<string, { calls: number; usec: number }>;
}

/** A redis-server without persistence or ACL, so INFO answers. */
export async function startCountedRedis(): Promise<Server & { counters(): Promise<RedisCounters> }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
  await until('redis-server', async () => {
    if (client.status !== 'ready') await client.connect();
    return (await client.ping()) === 'PONG';
  });
  const counters = async (): Promise<RedisCounters> => {
    const info = await client.info('all');
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
    const byCommand: RedisCounters['byCommand'] = {};
    for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+),usec=(\d+)/gm))
      byCommand[m[1]!] = { calls: Number(m[2]), usec: Number(m[3]) };
    return {
      commands: field('total_commands_processed'),
      outputBytes: field('total_net_output_bytes'),
      cpuSeconds: field('used_cpu_user') + field('used_cpu_sys'),
      byCommand,
    };
  };
  const stop = stopper(child);
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    counters,
    stop: async () => {
      client.disconnect();
      await stop();
    },
  };
}

/** What one class of bus message is: heartbeat, room:<event type>, rpc:<method>, ... */
export function classOf(subject: string, data: Uint8Array): string {
  const parts = subject.split('.');
  if (subject.startsWith('_INBOX')) return 'reply';
  if (parts[2] === 'nodes') return parts[3] === 'heartbeat' ? 'heartbeat' : `nodes:${parts[3]}`;
  if (parts[2] === 'room' && parts[4] === 'events') {
    try {
      return `room:${(JSON.parse(new TextDecoder().decode(data)) as { type: string }).type}`;
    } catch {
      return 'room:?';
    }
  }
  if (parts[2] === 'room') return `room-${parts[4]}`;
  if (parts[2] === 'node') return parts[4] === 'rpc' ? `rpc:${parts[5]}` : (parts[4] ?? 'node');
  if (parts[2] === 'control') return `control-rpc:${parts[4]}`;
  return 'other';
}

/** Every message on the bus, counted by class, with one payload kept per class. */
export class Wiretap {
  readonly counts = new Map<string, { messages: number; bytes: number }>();
  readonly samples = new Map<string, string>();
  #nc: NatsConnection | undefined;

  async start(url: string): Promise<void> {
    this.#nc = await connect({ servers: url });
    this.#nc.subscribe('>', {
      callback: (_err, msg) => {
        const kind = classOf(msg.subject, msg.data);
        const c = this.counts.get(kind) ?? { messages: 0, bytes: 0 };
        c.messages++;
        c.bytes += msg.data.length;
        this.counts.set(kind, c);
        if (!this.samples.has(kind)) this.samples.set(kind, new TextDecoder().decode(msg.data));
      },
    });
    await this.#nc.flush();
  }

  get total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c.messages;
    return n;
  }

  snapshot(): Record<string, { messages: number; bytes: number }> {
    return Object.fromEntries([...this.counts].map(([k, v]) => [k, { ...v }]));
  }

  async close(): Promise<void> {
    await this.#nc?.close();
  }
}
