import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** A process Prometheus scrapes: its /metrics base URL, with the labels its `up` series gets. */
export interface ScrapeTarget {
  job: 'kaskade-edge' | 'kaskade-relay' | 'kaskade-control-plane';
  url: string;
  node: string;
  region: string;
}

export interface PrometheusOptions {
  targets: ScrapeTarget[];
  /** Rule files loaded, e.g. deploy/prometheus/alerts.yml. */
  ruleFiles: string[];
  scrapeIntervalSeconds?: number;
  port?: number;
}

/**
 * The Prometheus scrape configuration of a set of Kaskade processes. `honor_labels`
 * keeps the node and region labels the processes set themselves; the same labels
 * on the targets give `up` them too. Written as JSON, which is YAML.
 */
export function prometheusConfig({
  targets,
  ruleFiles,
  scrapeIntervalSeconds = 5,
}: PrometheusOptions): string {
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
export async function startPrometheus(options: PrometheusOptions): Promise<Service & { configFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'kaskade-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, prometheusConfig(options));
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
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
