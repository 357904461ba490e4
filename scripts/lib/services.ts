import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BusSettings } from '@kaskade/node-toolkit';
import { makeServerCertificate, type ServerCertificate } from './certificates.ts';
import { type BusIdentity, type BusUser, generateBusUsers, natsServerConfig } from './nats-auth.ts';
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

/**
 * Polls `url` until it answers 2xx; throws if the child exits first or the deadline
 * passes. How every service and Kaskade process started here is awaited.
 */
export async function waitForHttp(
  url: string,
  child: ChildProcess,
  name: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await fetch(url).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`${name} did not become ready at ${url} (exit ${child.exitCode})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Own process group (a terminal's Ctrl-C goes to the parent, which stops us in order); never outlives the parent. */
export function adopt(child: ChildProcess): ChildProcess {
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

export interface NatsOptions {
  port?: number;
  /** The identities that get users (one each, random password); required unless insecure. */
  identities?: BusIdentity[];
  /** Without TLS and users: the development bus KASKADE_NATS_INSECURE accepts. */
  insecure?: boolean;
}

export interface NatsService extends Service {
  /** The throwaway CA that signed the server certificate (secure bus only). */
  caFile: string | undefined;
  users: ReadonlyMap<string, BusUser>;
  /** The bus settings of a process speaking as `id` (its own user, the CA). */
  settingsFor(id: string): BusSettings;
  /** The same as KASKADE_NATS_* environment variables, for a child process. */
  envFor(id: string): Record<string, string>;
  /** Stops the server but keeps its configuration; restart() brings it back on the same port. */
  halt(): Promise<void>;
  restart(): Promise<void>;
}

/**
 * A real nats-server (Debian package nats-server) on a free loopback port. By default
 * the bus is what production runs: TLS with a certificate made at start by a
 * throwaway CA, and one user per identity whose permissions let it speak only as
 * itself (scripts/lib/nats-auth.ts). Its files live in a temporary directory that
 * stop() removes.
 */
export async function startNats(options: NatsOptions = {}): Promise<NatsService> {
  const p = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'kaskade-nats-'));
  const insecure = options.insecure ?? false;
  if (!insecure && !options.identities?.length)
    throw new Error('startNats: name the identities that get users, or ask for an insecure bus');
  const users = generateBusUsers(insecure ? [] : options.identities!);
  const tls = insecure ? undefined : makeServerCertificate(dir);
  const configFile = join(dir, 'nats.conf');
  writeFileSync(configFile, natsServerConfig({ host: '127.0.0.1', port: p, users, tls }), { mode: 0o600 });
  const url = `${tls ? 'tls' : 'nats'}://127.0.0.1:${p}`;
  let child: ChildProcess;
  const launch = async () => {
    child = adopt(spawn('nats-server', ['-c', configFile], { stdio: 'ignore', detached: true }));
    await waitForPort(p, child, 'nats-server');
  };
  await launch();
  const byId = new Map(users.map((u) => [u.id, u]));
  const settingsFor = (id: string): BusSettings => {
    if (insecure) return { natsUrl: url, natsInsecure: true };
    const user = byId.get(id);
    if (!user) throw new Error(`no NATS user for ${id}`);
    return {
      natsUrl: url,
      natsCaFile: tls?.caFile,
      natsUser: user.user,
      natsPassword: user.password,
      natsInsecure: false,
    };
  };
  const halt = async () => stopper(child)();
  return {
    url,
    port: p,
    caFile: tls?.caFile,
    users: byId,
    settingsFor,
    envFor: (id) => busEnv(settingsFor(id)),
    halt,
    restart: launch,
    stop: async () => {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Bus settings as the KASKADE_NATS_* variables that give them. */
export function busEnv(s: BusSettings): Record<string, string> {
  const env: Record<string, string> = {
    KASKADE_NATS_URL: s.natsUrl,
    KASKADE_NATS_INSECURE: String(s.natsInsecure),
  };
  if (s.natsCaFile) env.KASKADE_NATS_CA_FILE = s.natsCaFile;
  if (s.natsUser) env.KASKADE_NATS_USER = s.natsUser;
  if (s.natsPassword) env.KASKADE_NATS_PASSWORD = s.natsPassword;
  return env;
}

export interface RedisService extends Service {
  /** Password of the `kaskade` ACL user (also in `url`); a restart on the same port takes it again. */
  password: string;
  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered, data is kept. */
  pause(): void;
  /** Lets a paused server go on (SIGCONT). */
  resume(): void;
}

/**
 * A real redis-server on a free loopback port, without persistence (Debian package
 * redis-server), as production should run it: the default user off, one ACL user
 * `kaskade` with a password, limited to the kaskade:* keys and without admin
 * commands. The configuration (password included) is a file only we can read, not
 * an argument every `ps` shows.
 */
export async function startRedis(
  port?: number,
  password = randomBytes(24).toString('hex'),
  /** Serve TLS only (rediss://) with this certificate; clients need its CA. */
  tls?: ServerCertificate,
): Promise<RedisService> {
  const p = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'kaskade-redis-'));
  const configFile = join(dir, 'redis.conf');
  const listen = tls
    ? ['port 0', `tls-port ${p}`, `tls-cert-file ${tls.certFile}`, `tls-key-file ${tls.keyFile}`]
    : [`port ${p}`];
  writeFileSync(
    configFile,
    [
      ...listen,
      // Clients authenticate with the ACL password, not with certificates.
      ...(tls ? [`tls-ca-cert-file ${tls.caFile}`, 'tls-auth-clients no'] : []),
      'bind 127.0.0.1',
      'save ""',
      'appendonly no',
      `dir ${dir}`,
      'user default off',
      `user kaskade on >${password} ~kaskade:* &* +@all -@admin`,
    ].join('\n'),
    { mode: 0o600 },
  );
  const child = adopt(spawn('redis-server', [configFile], { stdio: 'ignore', detached: true }));
  await waitForPort(p, child, 'redis-server');
  const stop = stopper(child);
  return {
    url: `${tls ? 'rediss' : 'redis'}://kaskade:${password}@127.0.0.1:${p}`,
    port: p,
    password,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    stop: async () => {
      child.kill('SIGCONT'); // a paused server would never see the SIGTERM
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A process Prometheus scrapes: its operator API's base URL, with the labels its `up` series gets. */
export interface ScrapeTarget {
  job: 'kaskade-edge' | 'kaskade-relay' | 'kaskade-control-plane';
  url: string;
  node: string;
  region: string;
}

export interface PrometheusOptions {
  targets: ScrapeTarget[];
  /** The operator API token /metrics needs; written to a file Prometheus reads (credentials_file). */
  operatorToken: string;
  /** Rule files loaded, e.g. deploy/prometheus/alerts.yml. */
  ruleFiles: string[];
  scrapeIntervalSeconds?: number;
  port?: number;
}

/**
 * The Prometheus scrape configuration of a set of Kaskade processes. `honor_labels`
 * keeps the node and region labels the processes set themselves; the same labels
 * on the targets give `up` them too. /metrics is on the operator API, so every job
 * sends its bearer token, read from `credentialsFile` (never inline in the config).
 * Written as JSON, which is YAML.
 */
export function prometheusConfig({
  targets,
  ruleFiles,
  credentialsFile,
  scrapeIntervalSeconds = 5,
}: Omit<PrometheusOptions, 'operatorToken'> & { credentialsFile: string }): string {
  const jobs = [...new Set(targets.map((t) => t.job))];
  return JSON.stringify(
    {
      global: {
        scrape_interval: `${scrapeIntervalSeconds}s`,
        evaluation_interval: `${scrapeIntervalSeconds}s`,
      },
      rule_files: ruleFiles,
      scrape_configs: jobs.map((job) => ({
        job_name: job,
        honor_labels: true,
        authorization: { type: 'Bearer', credentials_file: credentialsFile },
        static_configs: targets
          .filter((t) => t.job === job)
          .map((t) => ({ targets: [new URL(t.url).host], labels: { node: t.node, region: t.region } })),
      })),
    },
    null,
    2,
  );
}

/** A real Prometheus (Debian package prometheus) on a free loopback port, its data in a temporary directory. */
export async function startPrometheus(
  options: PrometheusOptions,
): Promise<Service & { configFile: string; credentialsFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'kaskade-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  const credentialsFile = join(dir, 'operator-token');
  writeFileSync(credentialsFile, options.operatorToken, { mode: 0o600 });
  writeFileSync(configFile, prometheusConfig({ ...options, credentialsFile }));
  const p = options.port ?? (await freePort());
  const child = adopt(
    spawn(
      'prometheus',
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${p}`,
        '--log.level=warn',
      ],
      { stdio: 'ignore', detached: true },
    ),
  );
  const url = `http://127.0.0.1:${p}`;
  await waitForHttp(`${url}/-/ready`, child, 'prometheus');
  const stop = stopper(child);
  return {
    url,
    port: p,
    configFile,
    credentialsFile,
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
