import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NatsService, startNats, startRedis } from '@kaskade/local-mesh';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, randomPortBase } from '../helpers/edge.ts';
import { buildah, commandLine, descendants, ImageContainer, processStatus } from './image-container.ts';

const repository = fileURLToPath(new URL('../..', import.meta.url));
const manifest = (dir: string) =>
  JSON.parse(readFileSync(join(repository, dir, 'package.json'), 'utf8')) as {
    name: string;
    workspaces?: string[];
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
// The debootstrap base needs no image registry; a rerun reuses it, npm's cache and the layers.
const BUILD_TIMEOUT_MS = 25 * 60_000;
const MAINS = {
  edge: 'edge/src/main.ts',
  relay: 'relay/service/main.ts',
  'control-plane': 'control-plane/service/main.ts',
};
type Kind = keyof typeof MAINS;
/** Where the test's Secret-like files appear in the container (read-only, as a pod's Secret volume). */
const SECRETS = '/run/kaskade';

let image: string;
let nats: NatsService;
let redis: Awaited<ReturnType<typeof startRedis>>;
let secretsDir: string;
const containers: ImageContainer[] = [];
const operatorToken = randomBytes(24).toString('hex');

/** Builds localhost/kaskade:test with deploy/image/build.ts, passing its timing lines on. */
async function buildImage(): Promise<string> {
  const child = spawn(
    process.execPath,
    [join(repository, 'deploy/image/build.ts'), '--base', 'debootstrap', '--tag', 'test'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS - 30_000);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  for (const line of stderr.split('\n')) if (line.startsWith('[image')) process.stderr.write(`${line}\n`);
  if (code !== 0) throw new Error(`deploy/image/build.ts exited ${code}:\n${stderr.slice(-4000)}`);
  return stdout.trim().split('\n').at(-1)!;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  return port;
}

/** The environment each process needs, its bus CA read from the mounted secrets. */
async function processEnv(kind: Kind): Promise<{ env: Record<string, string>; url: string }> {
  const [http, operator] = [await freePort(), await freePort()];
  const id = `image-${kind}`;
  const common = {
    ...nats.envFor(id),
    KASKADE_NATS_CA_FILE: `${SECRETS}/nats-ca.pem`,
    KASKADE_REDIS_URL: redis.url,
    KASKADE_NODE_ID: id,
    KASKADE_OPERATOR_TOKEN: operatorToken,
    KASKADE_OPERATOR_HOST: '127.0.0.1',
    KASKADE_OPERATOR_PORT: String(operator),
    KASKADE_LOG_LEVEL: 'info',
  };
  const url = `http://127.0.0.1:${http}`;
  if (kind === 'control-plane')
    return {
      url,
      env: {
        ...common,
        KASKADE_CP_HTTP_HOST: '127.0.0.1',
        KASKADE_CP_HTTP_PORT: String(http),
        KASKADE_JWT_SECRET: randomBytes(24).toString('hex'),
        KASKADE_APP_JWT_SECRET: randomBytes(24).toString('hex'),
      },
    };
  const media = {
    ...common,
    KASKADE_REGION: 'eu',
    KASKADE_HTTP_HOST: '127.0.0.1',
    KASKADE_HTTP_PORT: String(http),
    KASKADE_RTC_LISTEN_IP: '127.0.0.1',
    KASKADE_SHUTDOWN_TIMEOUT_MS: '2000',
  };
  if (kind === 'relay') return { url, env: media };
  return {
    url,
    env: {
      ...media,
      KASKADE_JWT_SECRET: randomBytes(24).toString('hex'),
      KASKADE_WORKERS: '1',
      KASKADE_RTC_PORT_BASE: String(randomPortBase()),
    },
  };
}

function newContainer(): ImageContainer {
  const container = ImageContainer.create(image);
  containers.push(container);
  return container;
}

beforeAll(async () => {
  image = await buildImage();
  nats = await startNats({
    identities: [
      { id: 'image-control-plane', role: 'control-plane' },
      { id: 'image-edge', role: 'edge' },
      { id: 'image-relay', role: 'relay' },
    ],
  });
  redis = await startRedis();
  // What a pod gets from its Secret volumes: readable by the image's user, read-only.
  secretsDir = mkdtempSync(join(tmpdir(), 'kaskade-image-secrets-'));
  copyFileSync(nats.caFile!, join(secretsDir, 'nats-ca.pem'));
  writeFileSync(join(secretsDir, 'announced-address'), '  203.0.113.7\n');
  writeFileSync(join(secretsDir, 'empty'), '');
  chmodSync(secretsDir, 0o755);
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  for (const container of containers) container.remove();
  await redis?.stop();
  await nats?.stop();
  if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
});

describe('the image', () => {
  it('runs as kaskade (10001) in /app through the entrypoint, with only the processes and their runtime dependencies', () => {
    const { OCIv1 } = JSON.parse(buildah(['inspect', '--type', 'image', image])) as {
      OCIv1: { config: object };
    };
    expect(OCIv1.config).toMatchObject({
      User: '10001:10001',
      WorkingDir: '/app',
      Entrypoint: ['/app/deploy/image/entrypoint.sh'],
    });
    const container = newContainer();
    const modules = (name: string) => existsSync(container.path(`app/node_modules/${name}/package.json`));
    const root = manifest('.');
    // Everything the processes use is there (so the look below looks in the right place)...
    expect(Object.keys(root.dependencies!).filter((name) => !modules(name))).toEqual([]);
    expect(
      statSync(container.path('app/node_modules/mediasoup/worker/out/Release/mediasoup-worker')).mode & 0o111,
    ).not.toBe(0);
    // ...and no dev dependency of any workspace (vitest, esbuild, typescript, the browser SDK's mediasoup-client).
    const workspaces = root.workspaces!.map(manifest);
    const devDependencies = [root, ...workspaces].flatMap((m) => Object.keys(m.devDependencies ?? {}));
    expect(devDependencies).toContain('vitest');
    expect(devDependencies.filter((name) => !name.startsWith('@kaskade/') && modules(name))).toEqual([]);
    // The workspaces linked are the three processes' and what they depend on, no SDK or test tooling.
    const byName = new Map(root.workspaces!.map((dir) => [manifest(dir).name, manifest(dir)]));
    const needed = new Set<string>();
    const need = (name: string) => {
      if (needed.has(name)) return;
      needed.add(name);
      for (const dep of Object.keys(byName.get(name)?.dependencies ?? {})) if (byName.has(dep)) need(dep);
    };
    for (const dir of ['edge', 'relay/service', 'control-plane/service']) need(manifest(dir).name);
    const linked = [...byName.keys()].filter((name) => modules(name));
    expect(linked.sort()).toEqual([...needed].sort());
    expect(linked).not.toContain('@kaskade/client-sdk');
  });

  it('exports the announced address from KASKADE_RTC_ANNOUNCED_ADDRESS_FILE, and refuses to start without a command', () => {
    const container = newContainer();
    const mounts = { [secretsDir]: SECRETS };
    const printAddress = [
      '/app/deploy/image/entrypoint.sh',
      'sh',
      '-c',
      'printf %s "$KASKADE_RTC_ANNOUNCED_ADDRESS"',
    ];
    const fromFile = container.run(printAddress, {
      mounts,
      env: {
        KASKADE_RTC_ANNOUNCED_ADDRESS: '10.0.0.5',
        KASKADE_RTC_ANNOUNCED_ADDRESS_FILE: `${SECRETS}/announced-address`,
      },
    });
    expect(fromFile.stdout).toBe('203.0.113.7');
    const emptyFile = container.run(printAddress, {
      mounts,
      env: {
        KASKADE_RTC_ANNOUNCED_ADDRESS: '10.0.0.5',
        KASKADE_RTC_ANNOUNCED_ADDRESS_FILE: `${SECRETS}/empty`,
      },
    });
    expect(emptyFile.stdout).toBe('10.0.0.5');
    expect(emptyFile.stderr).toContain('missing or empty');
    const noCommand = container.run(['/app/deploy/image/entrypoint.sh']);
    expect(noCommand.status).toBe(64);
  });

  it('the root filesystem it runs on is read-only but /tmp, even for root', () => {
    const container = newContainer();
    const probe = container.run(
      [
        'sh',
        '-c',
        'touch /tmp/probe && echo tmp-writable; for d in /app /usr /etc /var; do touch $d/probe || echo $d-refused; done',
      ],
      { readOnlyRoot: true, user: '0:0' },
    );
    expect(probe.stdout.split('\n').filter(Boolean)).toEqual([
      'tmp-writable',
      '/app-refused',
      '/usr-refused',
      '/etc-refused',
      '/var-refused',
    ]);
    expect(probe.stderr).toContain('Read-only file system');
  });

  it.each(Object.keys(MAINS) as Kind[])(
    '%s starts as uid 10001 on a read-only root, answers /livez on loopback and exits 0 on SIGTERM',
    async (kind) => {
      const container = newContainer();
      const { env, url } = await processEnv(kind);
      const mounts = { [secretsDir]: SECRETS };
      // As a runtime does before it makes the root read-only, buildah makes its mount
      // points (/etc/hosts, /run/.containerenv, /run/kaskade) on a first run.
      expect(container.run(['id', '-u'], { mounts }).stdout.trim()).toBe('10001');
      const before = container.changedFiles();
      const { child, output } = container.start(['/app/deploy/image/entrypoint.sh', kind], {
        env,
        mounts,
        readOnlyRoot: true,
      });
      const exited = once(child, 'exit').then(([code]) => code as number | null);
      try {
        await eventually(
          async () => {
            expect(child.exitCode, output()).toBeNull();
            expect((await fetch(`${url}/livez`).catch(() => undefined))?.status).toBe(200);
          },
          30_000,
          200,
        );
        // The entrypoint exec'd Node: it runs the main file itself, as the image's user, no shell in between.
        const node = descendants(child.pid!).find((pid) => commandLine(pid)[0] === 'node');
        expect(node, output()).toBeDefined();
        expect(commandLine(node!)).toEqual(['node', `/app/${MAINS[kind]}`]);
        expect(processStatus(node!)).toMatchObject({ uid: 10001 });
        expect(processStatus(node!).parentName).not.toMatch(/^(sh|dash|bash)$/);
        // SIGTERM to Node, as the kubelet's runtime sends it to PID 1: its own handlers stop it.
        process.kill(node!, 'SIGTERM');
        const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20_000));
        expect(await Promise.race([exited, timeout]), output()).toBe(0);
        expect(output()).toMatch(/"signal":"SIGTERM".*"msg":"stopping"/);
        // Nothing was written outside /tmp (a tmpfs here, an emptyDir in a pod).
        expect(container.changedFiles()).toEqual(before);
      } finally {
        if (child.exitCode === null) {
          for (const pid of descendants(child.pid!).reverse()) process.kill(pid, 'SIGKILL');
          child.kill('SIGKILL');
        }
      }
    },
    60_000,
  );
});
