// Builds the Kaskade image (deploy/Containerfile) with buildah, as localhost/kaskade:<tag>:
//
//   node deploy/image/build.ts [--base debootstrap|<image>] [--tag <tag>] [--refresh-base] [--mirror <url>]
//
// --base debootstrap builds the base image here (deploy/image/builder/base.ts) and reuses it
// on later runs; another value is an image to build on; without it, the Containerfile's
// default (the upstream Node image) is pulled. With MEDIASOUP_WORKER_BIN set (a
// mediasoup-worker 3.27.1 binary) the image gets that worker instead of mediasoup
// downloading or building one. buildah keeps the layers and npm's cache between runs, so
// a rebuild, even from a fresh clone elsewhere on this machine, redoes only what changed.
// Prints the image name on stdout; progress and timings go to stderr. Needs root.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureBase } from './builder/base.ts';
import { log, run, timed } from './builder/commands.ts';

const MINUTE = 60_000;
const context = fileURLToPath(new URL('../..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    tag: { type: 'string', default: 'dev' },
    'refresh-base': { type: 'boolean', default: false },
    mirror: { type: 'string' },
  },
});

function preflight(): void {
  if (process.getuid?.() !== 0)
    throw new Error('build.ts needs root (debootstrap and buildah with chroot isolation)');
  run('buildah', ['--version'], { timeoutMs: MINUTE, capture: true });
  const storage = run('buildah', ['info', '--format', '{{.store.GraphRoot}}'], {
    timeoutMs: MINUTE,
    capture: true,
  });
  const stats = statfsSync(existsSync(storage) ? storage : '/');
  const freeGb = (stats.bavail * stats.bsize) / 1e9;
  if (freeGb < 4)
    throw new Error(`only ${freeGb.toFixed(1)} GB free for buildah's storage (${storage}); 4 GB needed`);
}

/**
 * Copies the offline worker into the build context (.build/, gitignored), named by its
 * content: the Containerfile's install step has the name in its command, so another
 * binary misses the layer cache and the same one hits it. Returns the context path.
 */
function stageWorker(binary: string): string {
  const digest = createHash('sha256').update(readFileSync(binary)).digest('hex').slice(0, 16);
  const dir = join(context, '.build');
  const name = `mediasoup-worker-${digest}`;
  mkdirSync(dir, { recursive: true });
  for (const stale of readdirSync(dir).filter((f) => f.startsWith('mediasoup-worker-') && f !== name))
    rmSync(join(dir, stale));
  if (!existsSync(join(dir, name))) copyFileSync(binary, join(dir, name));
  return relative(context, join(dir, name));
}

/**
 * The extra CA certificates this machine's Node trusts (NODE_EXTRA_CA_CERTS, e.g. a
 * TLS-inspecting proxy's), given to the install step as the secret build-ca so npm
 * trusts them too; a secret leaves no trace in the image.
 */
function extraCaArgs(): string[] {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  return file && existsSync(file) ? ['--secret', `id=build-ca,src=${file}`] : [];
}

function revision(): string | undefined {
  if (!existsSync(join(context, '.git'))) return undefined;
  return run('git', ['-C', context, 'rev-parse', 'HEAD'], { timeoutMs: MINUTE, capture: true });
}

function main(): void {
  preflight();
  const image = `localhost/kaskade:${args.tag}`;
  const base =
    args.base === 'debootstrap'
      ? timed('base', () => ensureBase({ refresh: args['refresh-base'], mirror: args.mirror })).value.ref
      : args.base;
  const worker = process.env.MEDIASOUP_WORKER_BIN;
  const { version } = JSON.parse(readFileSync(join(context, 'package.json'), 'utf8')) as { version: string };
  const commit = revision();
  const budArgs = [
    'bud',
    '--isolation',
    'chroot',
    '--layers',
    ...(base
      ? ['--build-arg', `BASE_IMAGE=${base}`, '--label', `org.opencontainers.image.base.name=${base}`]
      : []),
    ...(worker ? ['--build-arg', `MEDIASOUP_WORKER_BIN=${stageWorker(worker)}`] : []),
    ...extraCaArgs(),
    '--label',
    `org.opencontainers.image.version=${version}`,
    ...(commit ? ['--label', `org.opencontainers.image.revision=${commit}`] : []),
    '-f',
    join(context, 'deploy/Containerfile'),
    '-t',
    image,
    context,
  ];
  log(
    `buildah bud → ${image} (base ${base ?? "the Containerfile's default"}, worker ${worker ? 'offline' : 'online'})`,
  );
  timed('image', () => run('buildah', budArgs, { timeoutMs: 30 * MINUTE }));
  const size = run('buildah', ['images', '--format', '{{.Size}}', image], {
    timeoutMs: MINUTE,
    capture: true,
  });
  log(`${image}: ${size}`);
  process.stdout.write(`${image}\n`);
}

try {
  main();
} catch (error) {
  log(`failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
