// The bus credentials of an edge or relay pod (init container, or with --renew a
// sidecar): trades the pod's projected service-account token for its own NATS user at
// the control plane's issuer (POST /v1/bus/credentials) and writes the .creds file the
// process reads through KASKADE_NATS_CREDS_FILE.
//
//   node /app/deploy/image/bus-credentials.ts --url <control plane URL> \
//     --token-file <projected token path> --out <creds file> [--timeout-s 120] [--renew]
//
// While the control plane starts (connection refused, 5xx, 429) it retries with a
// growing pause, up to --timeout-s; a refusal of the token (401, 403) or an issuer that
// is not configured (404) ends it at once with the reason. With --renew it stays and
// fetches new credentials when two thirds of their lifetime have passed (nats-server
// closes a connection whose user expired; the process rereads the file on reconnect).
// It prints what it got (node id, role, expiry), never the token or the seed.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { BUS_CREDENTIALS_ROUTE, BusCredentialsReply } from '@kaskade/protocol';
import { Compile } from 'typebox/compile';

const checkReply = Compile(BusCredentialsReply);
const ATTEMPT_TIMEOUT_MS = 5000;
const MAX_PAUSE_MS = 5000;

/** A refusal retrying cannot change. */
class Refused extends Error {}

interface Options {
  url: string;
  tokenFile: string;
  out: string;
}

async function fetchOnce({ url, tokenFile }: Options): Promise<BusCredentialsReply> {
  // Reread every time: the kubelet rotates the projected token.
  const token = readFileSync(tokenFile, 'utf8').trim();
  const response = await fetch(new URL(BUS_CREDENTIALS_ROUTE, url), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
  });
  const body: unknown = await response.json().catch(() => undefined);
  if (response.ok) {
    if (!checkReply.Check(body)) throw new Error('the issuer answered something that is no credentials');
    return body;
  }
  const { code, message } = (body ?? {}) as { code?: string; message?: string };
  const reason = `${response.status} ${code ?? ''}: ${message ?? 'no reason given'}`;
  if ([401, 403, 404].includes(response.status)) throw new Refused(reason);
  throw new Error(reason);
}

/** Credentials, retrying what may pass (the control plane starting) until the deadline. */
async function fetchWithRetries(options: Options, deadline: number): Promise<BusCredentialsReply> {
  let pauseMs = 250;
  for (;;) {
    try {
      return await fetchOnce(options);
    } catch (error) {
      if (error instanceof Refused || Date.now() + pauseMs > deadline) throw error;
      console.error(`bus credentials: ${reasonOf(error)}; retrying in ${pauseMs} ms`);
      await sleep(pauseMs);
      pauseMs = Math.min(MAX_PAUSE_MS, pauseMs * 2);
    }
  }
}

/** An error with what fetch hides in its cause (ECONNREFUSED while the control plane starts). */
function reasonOf(error: unknown): string {
  const { message, cause } = error as Error & { cause?: { code?: string } };
  return cause?.code ? `${message} (${cause.code})` : message;
}

/** Replaced whole (rename), so a process rereading it never sees half a file. */
function write(out: string, creds: string): void {
  const partial = `${out}.partial`;
  writeFileSync(partial, creds, { mode: 0o600 });
  renameSync(partial, out);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      'token-file': { type: 'string' },
      out: { type: 'string' },
      'timeout-s': { type: 'string', default: '120' },
      renew: { type: 'boolean', default: false },
    },
  });
  const timeoutMs = Number(values['timeout-s']) * 1000;
  if (!values.url || !values['token-file'] || !values.out || !(timeoutMs > 0)) {
    console.error(
      'usage: bus-credentials.ts --url <url> --token-file <path> --out <path> [--timeout-s N] [--renew]',
    );
    process.exit(64);
  }
  const options = { url: values.url, tokenFile: values['token-file'], out: values.out };
  // The first time, retries last --timeout-s; a renewal retries until the old credentials expire.
  let deadline = Date.now() + timeoutMs;
  for (;;) {
    const credentials = await fetchWithRetries(options, deadline);
    write(options.out, credentials.creds);
    console.log(
      `bus credentials for ${credentials.nodeId} (${credentials.role}) until ${credentials.expiresAt}`,
    );
    if (!values.renew) return;
    deadline = Date.parse(credentials.expiresAt);
    await sleep(Math.max(1000, ((deadline - Date.now()) * 2) / 3));
  }
}

process.once('SIGTERM', () => process.exit(0));
main().catch((error: unknown) => {
  console.error(`bus credentials: ${reasonOf(error)}`);
  process.exit(1);
});
