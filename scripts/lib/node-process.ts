import { type ChildProcess, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adopt, waitForHttp } from './services.ts';

/**
 * Node's on-disk compile cache for the processes started here (unless the environment
 * names one): a test run starts a couple of hundred of them from the same sources, and
 * the cache cuts the second start's module loading by about a third.
 */
const COMPILE_CACHE_DIR = join(tmpdir(), 'kaskade-node-compile-cache');

/** How many of a process's last output lines are kept, to be said if it must be killed. */
const LAST_LINES = 30;

export interface NodeProcess {
  /** The public listener (join or signaling, health). */
  url: string;
  /** The operator API (metrics, census, node and room views); needs the operator token. */
  operatorUrl: string;
  child: ChildProcess;
  /** SIGTERM, then SIGKILL if it has not exited in time; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export interface SpawnOptions {
  /** The .ts entry point to run with this Node. */
  main: string;
  env: Record<string, string>;
  /** Base URL whose /readyz answers once the process is ready. */
  url: string;
  /** Base URL of its operator API (KASKADE_OPERATOR_HOST/PORT in env). */
  operatorUrl: string;
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
  log?: (line: string) => void;
}

/**
 * Runs one Kaskade process (edge, relay, control plane) as a child and waits for its
 * /readyz. It gets a process group of its own, so a terminal's Ctrl-C reaches only the
 * parent, which stops it in order, and it never outlives the parent.
 */
export async function spawnNodeProcess(options: SpawnOptions): Promise<NodeProcess> {
  const argv = [process.execPath, options.main];
  const [command, ...args] = options.netns ? ['ip', 'netns', 'exec', options.netns, ...argv] : argv;
  const child = adopt(
    spawn(command!, args, {
      env: { NODE_COMPILE_CACHE: COMPILE_CACHE_DIR, ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    }),
  );
  const log = options.log ?? (() => {});
  // The last lines it wrote, said if it has to be killed: what it was doing when SIGTERM did not end it.
  const lastLines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (!line) continue;
        log(line);
        lastLines.push(line);
        if (lastLines.length > LAST_LINES) lastLines.shift();
      }
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitForHttp(`${options.url}/readyz`, child, options.main);
  } catch (error) {
    child.kill('SIGKILL');
    // Why it did not start is in what it wrote (a port taken, a bad option...).
    throw new Error(`${(error as Error).message}; its last lines:\n${lastLines.join('\n')}`, {
      cause: error,
    });
  }
  return {
    url: options.url,
    operatorUrl: options.operatorUrl,
    child,
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        // Said, not swallowed: a stop that needs this is a shutdown bug to find.
        const name = options.env.KASKADE_NODE_ID ?? options.main;
        console.warn(
          `local mesh: ${name} outlived SIGTERM by ${timeoutMs} ms; killed. Its last lines:\n${lastLines.join('\n')}`,
        );
        child.kill('SIGKILL');
      }, timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
