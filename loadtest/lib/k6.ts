// k6, found or installed, and the join storm it runs against a mesh's control plane.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { issueToken } from '@kaskade/node-toolkit';
import { httpJoinPath, SIGNALING_PATH } from '@kaskade/protocol';

export const K6_VERSION = 'v1.8.1';

/** The k6 binary: on PATH, in Go's bin folder, or built now with `go install`. */
export function ensureK6(): string {
  for (const candidate of ['k6', join(homedir(), 'go', 'bin', 'k6')]) {
    try {
      execFileSync(candidate, ['version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // not this one
    }
  }
  console.error(`k6 not found: go install go.k6.io/k6@${K6_VERSION} (a few minutes the first time)`);
  execFileSync('go', ['install', `go.k6.io/k6@${K6_VERSION}`], { stdio: 'inherit' });
  const gopath = execFileSync('go', ['env', 'GOPATH']).toString().trim();
  return join(gopath, 'bin', 'k6');
}

export interface K6Result {
  exitCode: number;
  summary: Record<string, unknown>;
}

export async function runJoinStorm(options: {
  cpUrl: string;
  appSecret: string;
  regions: string[];
  joins: number;
  vus: number;
  room?: string;
  outDir: string;
}): Promise<K6Result> {
  const k6 = ensureK6();
  const room = options.room ?? `k6-${Date.now()}`;
  const tokens = await Promise.all(
    Array.from({ length: options.joins }, (_, i) =>
      issueToken(
        { identity: `k6-${i}`, name: `k6 ${i}`, room, grants: { publish: false, subscribe: true } },
        { secret: options.appSecret },
      ),
    ),
  );
  const work = join(tmpdir(), `kaskade-k6-${process.pid}`);
  mkdirSync(work, { recursive: true });
  mkdirSync(options.outDir, { recursive: true });
  const tokensFile = join(work, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify(tokens));
  const summaryFile = join(options.outDir, 'k6-join-storm.json');
  const script = fileURLToPath(new URL('../k6/join-storm.ts', import.meta.url));
  const exitCode = await new Promise<number>((resolve) => {
    const child = spawn(
      k6,
      ['run', '--quiet', '--no-usage-report', '--summary-export', summaryFile, script],
      {
        env: {
          ...process.env,
          KASKADE_JOIN_URL: `${options.cpUrl}${httpJoinPath(room)}`,
          KASKADE_SIGNALING_PATH: SIGNALING_PATH,
          KASKADE_TOKENS_FILE: tokensFile,
          KASKADE_REGIONS: options.regions.join(','),
          KASKADE_JOINS: String(options.joins),
          KASKADE_VUS: String(options.vus),
        },
        stdio: 'inherit',
      },
    );
    child.once('exit', (code) => resolve(code ?? 1));
  });
  const summary = existsSync(summaryFile)
    ? (JSON.parse((await import('node:fs')).readFileSync(summaryFile, 'utf8')) as Record<string, unknown>)
    : {};
  return { exitCode, summary };
}
