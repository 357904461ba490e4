import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, freePortRange } from './ports.ts';

export interface EdgeProcess {
  url: string;
  child: ChildProcess;
  /** SIGTERM, then SIGKILL if it has not exited in time; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export interface SpawnEdgeOptions {
  host?: string;
  workers?: number;
  env?: Record<string, string>;
  /** Run inside this network namespace (`ip netns exec`); host must be an address in it. */
  netns?: string;
  /** Where the edge's log lines go (default: discarded). */
  log?: (line: string) => void;
}

const MAIN = fileURLToPath(new URL('../../edge/src/main.ts', import.meta.url));

/** Starts `node edge/src/main.ts` as a child process on free ports and waits until /readyz answers. */
export async function spawnEdge(options: SpawnEdgeOptions): Promise<EdgeProcess> {
  const host = options.host ?? '127.0.0.1';
  const workers = options.workers ?? 1;
  // Port probing happens on the host; inside a fresh namespace everything is free.
  const httpPort = options.netns ? 7880 : await freePort(host);
  const rtcBase = options.netns ? 40000 : await freePortRange(workers, host);
  const env = {
    ...process.env,
    KASKADE_HTTP_HOST: host,
    KASKADE_HTTP_PORT: String(httpPort),
    KASKADE_RTC_LISTEN_IP: host,
    KASKADE_RTC_PORT_BASE: String(rtcBase),
    KASKADE_WORKERS: String(workers),
    ...options.env,
  };
  const argv = [process.execPath, MAIN];
  const [command, ...args] = options.netns ? ['ip', 'netns', 'exec', options.netns, ...argv] : argv;
  // A process group of its own: a terminal's Ctrl-C reaches only the parent, which
  // then drains the edge with SIGTERM instead of the workers dying mid-call.
  const child = spawn(command!, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  const log = options.log ?? (() => {});
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line) log(line);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://${host}:${httpPort}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`edge did not become ready at ${url} (exit ${child.exitCode})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
