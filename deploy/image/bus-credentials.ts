// The bus credentials of a pod, written as the .creds file the process reads through
// KASKADE_NATS_CREDS_FILE (init container, or with --renew a sidecar).
//
// An edge or relay pod generates a user nkey pair, sends the public key with its projected
// service-account token to the control plane's issuer (POST /v1/bus/credentials) and gets
// a user JWT for that key; it writes the .creds file from the JWT and its own seed, so the
// seed never leaves the pod (each renewal is a fresh key pair):
//   node /app/deploy/image/bus-credentials.ts --url <control plane URL> \
//     --token-file <projected token path> --out <creds file> [--timeout-s 120] [--renew]
// A control-plane pod holds the account signing key and mints its own user (role
// control-plane, named after its node id, as its room-control subjects need):
//   node /app/deploy/image/bus-credentials.ts --signing-key-file <seed file> \
//     --account <A...> --node-id <pod name> --out <creds file> [--ttl-s 86400] [--renew]
//
// While the control plane starts (connection refused, 5xx, 429) it retries with a
// growing pause, up to --timeout-s; a refusal of the token (401, 403) or of the request
// (400), or an issuer that is not configured (404), ends it at once with the reason. With
// --renew it stays and gets new credentials (for a fresh key pair) when two thirds of
// their lifetime have passed (nats-server
// closes a connection whose user expired; the process rereads the file on reconnect).
// It prints what it got (node id, role, expiry), never the token or the seed.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
// The narrow entry: minting needs none of the control plane's server.
import { accountSigner, credsFile, mintBusUser, newBusUserKey } from '@kaskade/control-plane/bus-users';
import {
  BUS_CREDENTIALS_ROUTE,
  BusCredentialsReply,
  type BusCredentialsRequest,
  type BusRole,
} from '@kaskade/protocol';
import { Compile } from 'typebox/compile';

const checkReply = Compile(BusCredentialsReply);
const ATTEMPT_TIMEOUT_MS = 5000;
const MAX_PAUSE_MS = 5000;

/** A refusal retrying cannot change. */
class Refused extends Error {}

/** What was got: the creds file text and, to print, whom it speaks as until when. */
interface Credentials {
  nodeId: string;
  role: BusRole;
  expiresAt: string;
  creds: string;
}

async function fetchOnce(url: string, tokenFile: string): Promise<Credentials> {
  // Reread every time: the kubelet rotates the projected token.
  const token = readFileSync(tokenFile, 'utf8').trim();
  const user = newBusUserKey();
  const request: BusCredentialsRequest = { publicKey: user.getPublicKey() };
  const response = await fetch(new URL(BUS_CREDENTIALS_ROUTE, url), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(request),
    signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
  });
  const body: unknown = await response.json().catch(() => undefined);
  if (response.ok) {
    if (!checkReply.Check(body)) throw new Error('the issuer answered something that is no credentials');
    const { jwt, ...identity } = body;
    return { ...identity, creds: credsFile(jwt, user) };
  }
  const { code, message } = (body ?? {}) as { code?: string; message?: string };
  const reason = `${response.status} ${code ?? ''}: ${message ?? 'no reason given'}`;
  if ([400, 401, 403, 404].includes(response.status)) throw new Refused(reason);
  throw new Error(reason);
}

/** Credentials, retrying what may pass (the control plane starting) until the deadline. */
async function withRetries(get: () => Promise<Credentials>, deadline: number): Promise<Credentials> {
  let pauseMs = 250;
  for (;;) {
    try {
      return await get();
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
  // Created afresh, so the mode applies: the file holds the seed.
  rmSync(partial, { force: true });
  writeFileSync(partial, creds, { mode: 0o600, flag: 'wx' });
  renameSync(partial, out);
}

const USAGE = `usage: bus-credentials.ts --out <path> [--renew] and either
  --url <control plane URL> --token-file <path> [--timeout-s N]   (an edge or relay pod)
  --signing-key-file <path> --account <A...> --node-id <id> [--ttl-s N]   (a control-plane pod)`;

/** Where the credentials come from, as the arguments say, or undefined for arguments that say nothing whole. */
function sourceOf(
  values: Record<string, string | boolean | undefined>,
): (() => Promise<Credentials>) | undefined {
  const { url, 'token-file': tokenFile, 'signing-key-file': seedFile, account, 'node-id': nodeId } = values;
  if (typeof url === 'string' && typeof tokenFile === 'string' && !seedFile)
    return () => fetchOnce(url, tokenFile);
  const ttlSeconds = Number(values['ttl-s']);
  if (typeof seedFile !== 'string' || typeof account !== 'string' || typeof nodeId !== 'string' || url)
    return undefined;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60) return undefined;
  const signer = accountSigner(readFileSync(seedFile, 'utf8'), account);
  return async () => {
    const minted = await mintBusUser(signer, { id: nodeId, role: 'control-plane' }, ttlSeconds);
    return { nodeId, role: 'control-plane', expiresAt: minted.expiresAt.toISOString(), creds: minted.creds };
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      'token-file': { type: 'string' },
      'signing-key-file': { type: 'string' },
      account: { type: 'string' },
      'node-id': { type: 'string' },
      'ttl-s': { type: 'string', default: '86400' },
      out: { type: 'string' },
      'timeout-s': { type: 'string', default: '120' },
      renew: { type: 'boolean', default: false },
    },
  });
  const timeoutMs = Number(values['timeout-s']) * 1000;
  const source = sourceOf(values);
  const out = values.out;
  if (!source || !out || !(timeoutMs > 0)) {
    console.error(USAGE);
    process.exit(64);
  }
  // The first time, retries last --timeout-s; a renewal retries until the old credentials expire.
  let deadline = Date.now() + timeoutMs;
  for (;;) {
    const credentials = await withRetries(source, deadline);
    write(out, credentials.creds);
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
