import { spawnSync } from 'node:child_process';

export interface RunOptions {
  /** Kill it (SIGKILL) after this long: every step of the build is bounded. */
  timeoutMs: number;
  cwd?: string;
  /** Return its stdout instead of passing it on (to our stderr, which carries the build's progress). */
  capture?: boolean;
}

/** Runs a command to its end; throws, naming it, if it fails or times out. Returns its stdout when captured. */
export function run(command: string, args: string[], options: RunOptions): string {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    encoding: 'utf8',
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
    // stdout is the build's result (the image name); the commands' output goes to stderr.
    stdio: ['ignore', options.capture ? 'pipe' : 2, 2],
  });
  const line = [command, ...args].join(' ');
  if (result.error) throw new Error(`${line}: ${result.error.message}`);
  if (result.signal) throw new Error(`${line}: killed by ${result.signal} (timeout ${options.timeoutMs} ms)`);
  if (result.status !== 0) throw new Error(`${line}: exit ${result.status}`);
  return options.capture ? result.stdout.trim() : '';
}

/** Whether a command succeeds (e.g. `buildah inspect` of an image that may not exist); its output is dropped. */
export function succeeds(command: string, args: string[], timeoutMs: number): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: timeoutMs, killSignal: 'SIGKILL' });
  return result.status === 0;
}

const started = process.hrtime.bigint();

/** Logs one line of the build's progress, with the seconds since the script started. */
export function log(message: string): void {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stderr.write(`[image ${seconds.toFixed(1).padStart(6)} s] ${message}\n`);
}

/** Runs `step` and logs how long it took. */
export function timed<T>(what: string, step: () => T): { value: T; seconds: number } {
  const t0 = process.hrtime.bigint();
  const value = step();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  log(`${what}: ${seconds.toFixed(1)} s`);
  return { value, seconds };
}
