import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A command's result; throws with its output when it fails. */
export function buildah(args: string[], timeoutMs = 60_000): string {
  const result = spawnSync('buildah', args, { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  if (result.status !== 0)
    throw new Error(`buildah ${args.join(' ')}: exit ${result.status}\n${result.stdout}${result.stderr}`);
  return result.stdout.trim();
}

export interface RunOptions {
  env?: Record<string, string>;
  /** Host directories bind-mounted read-only: host path -> container path. */
  mounts?: Record<string, string>;
  /** Every top-level directory of the image read-only, /tmp an empty tmpfs. */
  readOnlyRoot?: boolean;
  user?: string;
}

/**
 * A working container of the image, run with `buildah run --isolation chroot` (the host's
 * network: what it serves answers on loopback). buildah run has no --read-only, so a
 * read-only root is every top-level directory of the image bind-mounted read-only over
 * itself and a tmpfs on /tmp, as a pod with readOnlyRootFilesystem and an emptyDir on /tmp
 * has it. What buildah itself mounts (/dev, /proc, /sys, /run/.containerenv, /etc/hosts)
 * stays as buildah makes it; writes there land in the container's own layer, which
 * changedFiles() reads.
 */
export class ImageContainer {
  readonly id: string;
  readonly #rootfs: string;

  private constructor(id: string, rootfs: string) {
    this.id = id;
    this.#rootfs = rootfs;
  }

  static create(image: string): ImageContainer {
    const id = buildah(['from', '--pull=never', '--quiet', image]);
    return new ImageContainer(id, buildah(['mount', id]));
  }

  /** The image's files, as the container sees them without its mounts. */
  path(inImage: string): string {
    return join(this.#rootfs, inImage);
  }

  #args(command: string[], options: RunOptions): string[] {
    const args = ['run', '--isolation', 'chroot'];
    if (options.user) args.push('--user', options.user);
    for (const [name, value] of Object.entries(options.env ?? {})) args.push('--env', `${name}=${value}`);
    for (const [host, inside] of Object.entries(options.mounts ?? {}))
      args.push('--volume', `${host}:${inside}:ro`);
    if (options.readOnlyRoot) {
      for (const entry of readdirSync(this.#rootfs)) {
        // buildah mounts these itself; /run must stay writable for buildah's .containerenv.
        if (['dev', 'proc', 'sys', 'tmp', 'run'].includes(entry)) continue;
        if (lstatSync(join(this.#rootfs, entry)).isDirectory())
          args.push('--volume', `${join(this.#rootfs, entry)}:/${entry}:ro`);
      }
      args.push('--mount', 'type=tmpfs,destination=/tmp');
    }
    return [...args, this.id, '--', ...command];
  }

  /** Runs a command to its end. */
  run(command: string[], options: RunOptions = {}, timeoutMs = 60_000) {
    return spawnSync('buildah', this.#args(command, options), {
      encoding: 'utf8',
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
  }

  /** Starts a command; its output is collected in `output()`. */
  start(command: string[], options: RunOptions = {}): { child: ChildProcess; output: () => string } {
    const child = spawn('buildah', this.#args(command, options), { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        output += chunk;
      });
    }
    return { child, output: () => output };
  }

  /**
   * Every entry in the container's own (writable) layer, a file with its size and
   * modification time: what anything run in it wrote outside its mounts. (A directory is
   * only there or not: buildah itself remakes its mount point in /run on every run.)
   * Overlay storage keeps that layer in the `diff` directory beside the mount point.
   */
  changedFiles(): Map<string, string> {
    const upper = this.#rootfs.replace(/\/merged$/, '/diff');
    if (upper === this.#rootfs || !existsSync(upper))
      throw new Error(`no overlay upper directory beside ${this.#rootfs}`);
    const files = new Map<string, string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          files.set(path.slice(upper.length), 'directory');
          walk(path);
        } else {
          const stat = lstatSync(path);
          files.set(path.slice(upper.length), `${stat.size} bytes, modified ${stat.mtimeMs}`);
        }
      }
    };
    walk(upper);
    return files;
  }

  remove(): void {
    buildah(['rm', this.id]);
  }
}

/** The processes below `pid` (children, theirs, ...), read from /proc. */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name is in parentheses and may hold spaces; the parent's pid is the second field after it.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // it exited while we looked
    }
  }
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const [child, ppid] of parents) {
      if (ppid !== parent) continue;
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}

/** The arguments a process was started with ([] once it is gone). */
export function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** A process's real uid and its parent's command name, from /proc/<pid>/status. */
export function processStatus(pid: number): { uid: number; parentName: string } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => status.match(new RegExp(`^${name}:\\s+(\\S+)`, 'm'))?.[1] ?? '';
  const parent = readFileSync(`/proc/${field('PPid')}/status`, 'utf8').match(/^Name:\s+(\S+)/m)?.[1] ?? '';
  return { uid: Number(field('Uid')), parentName: parent };
}
