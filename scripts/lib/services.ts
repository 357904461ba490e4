import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './ports.ts';

export interface Service {
  url: string;
  port: number;
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, name: string): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`${name} did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Own process group (a terminal's Ctrl-C goes to the parent, which stops us in order); never outlives the parent. */
function adopt(child: ChildProcess): ChildProcess {
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  return child;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
}

/** A real nats-server on a free loopback port (Debian package nats-server). */
export async function startNats(port?: number): Promise<Service> {
  const p = port ?? (await freePort());
  const child = adopt(
    spawn('nats-server', ['-a', '127.0.0.1', '-p', String(p)], { stdio: 'ignore', detached: true }),
  );
  await waitForPort(p, child, 'nats-server');
  return { url: `nats://127.0.0.1:${p}`, port: p, stop: stopper(child) };
}

/** A real redis-server on a free loopback port, without persistence (Debian package redis-server). */
export async function startRedis(port?: number): Promise<Service> {
  const p = port ?? (await freePort());
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(p),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'no',
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(p, child, 'redis-server');
  return { url: `redis://127.0.0.1:${p}`, port: p, stop: stopper(child) };
}
