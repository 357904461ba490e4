import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, type LocalMesh, startLocalMesh } from '@kaskade/local-mesh';
import { connectionOptions } from '@kaskade/node-toolkit';
import { BUS_CREDENTIALS_ROUTE, type BusCredentialsReply, type ErrorBody, Subjects } from '@kaskade/protocol';
import { createAccount, createUser, decode, fmtCreds, fromSeed, parseCreds } from '@nats-io/jwt';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_CONTROL_PLANE_ENV } from '../helpers/mesh.ts';
import { type OperatorNats, startOperatorNats } from '../helpers/operator-nats.ts';

const NAMESPACE = 'kaskade';
const AUDIENCE = 'kaskade-bus';
const CLUSTER_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const JWKS_READER_TOKEN = 'control-plane-service-account-token';
const SCRIPT = fileURLToPath(new URL('../../deploy/image/bus-credentials.ts', import.meta.url));

/** The errors nats-server reports to this connection (a permission violation is one), as they come. */
function permissionErrors(connection: NatsConnection): string[] {
  const errors: string[] = [];
  void (async () => {
    for await (const s of connection.status()) if (s.type === 'error') errors.push(String(s.error.message));
  })();
  return errors;
}

interface PodToken {
  pod?: string;
  namespace?: string;
  serviceAccount?: string;
  audience?: string;
  expiresInSeconds?: number;
}

/**
 * The bus credential issuer end to end: a real nats-server in JWT (operator) mode, the
 * real control-plane process with the issuer on (its own bus user minted from the same
 * account signing key), the cluster's JWKS served over HTTP to the control plane's own
 * bearer token like the API server's /openid/v1/jwks, and tokens shaped like
 * Kubernetes' projected service-account tokens, signed by the test's cluster key.
 */
describe('bus credentials for pods', () => {
  let dir: string;
  let nats: OperatorNats;
  let jwks: Server;
  let mesh: LocalMesh;
  let clusterKey: CryptoKey;
  let observer: NatsConnection;
  const jwksReads: (string | undefined)[] = [];

  const podToken = async (t: PodToken = {}, key = clusterKey) => {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + (t.expiresInSeconds ?? 3600);
    return new SignJWT({
      'kubernetes.io': {
        namespace: t.namespace ?? NAMESPACE,
        pod: { name: t.pod ?? 'kaskade-edge-eu-7d9f8b6c4-x2k9q', uid: crypto.randomUUID() },
        serviceaccount: { name: t.serviceAccount ?? 'kaskade-edge', uid: crypto.randomUUID() },
        node: { name: 'worker-1', uid: crypto.randomUUID() },
      },
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'cluster-key-1' })
      .setIssuer(CLUSTER_ISSUER)
      .setAudience(t.audience ?? AUDIENCE)
      .setSubject(`system:serviceaccount:${t.namespace ?? NAMESPACE}:${t.serviceAccount ?? 'kaskade-edge'}`)
      .setIssuedAt(Math.min(now, exp - 60))
      .setNotBefore(Math.min(now, exp - 60))
      .setExpirationTime(exp)
      .sign(key);
  };

  /** A request as a pod sends it: by default with the public key of a fresh user key pair; `NO_BODY` for none. */
  const NO_BODY = Symbol('no body');
  const ask = (token: string | undefined, body: unknown = { publicKey: createUser().getPublicKey() }) =>
    fetch(new URL(BUS_CREDENTIALS_ROUTE, mesh.controlPlane.url), {
      method: 'POST',
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== NO_BODY ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== NO_BODY ? JSON.stringify(body) : undefined,
    });

  /** Connects to the bus as the process would, from a creds file. */
  const connectWith = (credsFile: string, nodeId: string) =>
    connect({
      ...connectionOptions(
        { natsUrl: nats.url, natsCaFile: nats.caFile, natsCredsFile: credsFile, natsInsecure: false },
        nodeId,
      ),
      waitOnFirstConnect: false,
      maxReconnectAttempts: 0,
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kaskade-bus-credentials-'));
    nats = await startOperatorNats(dir);
    const keys = await generateKeyPair('RS256', { extractable: true });
    clusterKey = keys.privateKey;
    const publicJwk: JWK = {
      ...(await exportJWK(keys.publicKey)),
      kid: 'cluster-key-1',
      alg: 'RS256',
      use: 'sig',
    };
    // Served over TLS by a CA the control plane is given, like the API server's.
    const tls = {
      cert: readFileSync(nats.certificate.certFile),
      key: readFileSync(nats.certificate.keyFile),
    };
    jwks = createServer(tls, (request, response) => {
      jwksReads.push(request.headers.authorization);
      if (request.headers.authorization !== `Bearer ${JWKS_READER_TOKEN}`)
        return response.writeHead(401).end();
      response
        .writeHead(200, { 'content-type': 'application/jwk-set+json' })
        .end(JSON.stringify({ keys: [publicJwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const seedFile = join(dir, 'signing-key.nk');
    writeFileSync(seedFile, `${nats.signingKeySeed}\n`, { mode: 0o600 });
    const readerTokenFile = join(dir, 'reader-token');
    writeFileSync(readerTokenFile, JWKS_READER_TOKEN, { mode: 0o600 });
    // The control plane's own bus user, minted by its pod's init container from the signing key.
    const cpCreds = join(dir, 'control-plane.creds');
    const minted = await promisify(execFile)(process.execPath, [
      SCRIPT,
      ...['--signing-key-file', seedFile, '--account', nats.account, '--node-id', 'control-plane'],
      ...['--ttl-s', '600', '--out', cpCreds],
    ]);
    expect(minted.stdout).toMatch(/bus credentials for control-plane \(control-plane\) until /);
    // Connecting first waits for nats-server to listen; the observer hears every heartbeat.
    observer = await connect({
      ...connectionOptions(
        { natsUrl: nats.url, natsCaFile: nats.caFile, natsCredsFile: cpCreds, natsInsecure: false },
        'control-plane',
      ),
      reconnectTimeWait: 50,
    });
    mesh = await startLocalMesh({
      regions: { eu: '127.0.1' },
      edgesPerRegion: 0,
      natsUrl: nats.url,
      controlPlaneEnv: {
        ...FAST_CONTROL_PLANE_ENV,
        KASKADE_NATS_CA_FILE: nats.caFile,
        KASKADE_NATS_CREDS_FILE: cpCreds,
        KASKADE_NATS_INSECURE: 'false',
        KASKADE_BUS_ISSUER_SIGNING_KEY_FILE: seedFile,
        KASKADE_BUS_ISSUER_ACCOUNT: nats.account,
        KASKADE_BUS_ISSUER_NAMESPACE: NAMESPACE,
        KASKADE_BUS_ISSUER_EDGE_SERVICE_ACCOUNT: 'kaskade-edge',
        KASKADE_BUS_ISSUER_RELAY_SERVICE_ACCOUNT: 'kaskade-relay',
        KASKADE_BUS_ISSUER_TOKEN_ISSUER: CLUSTER_ISSUER,
        KASKADE_BUS_ISSUER_JWKS_URL: `https://127.0.0.1:${(jwks.address() as AddressInfo).port}/openid/v1/jwks`,
        KASKADE_BUS_ISSUER_JWKS_CA_FILE: nats.certificate.caFile,
        KASKADE_BUS_ISSUER_JWKS_TOKEN_FILE: readerTokenFile,
      },
    });
  });

  afterAll(async () => {
    await observer?.close();
    await mesh?.stop();
    await nats?.stop();
    await new Promise((resolve) => jwks?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('the init script gets an edge pod its own user: it speaks as its pod and as no other node', async () => {
    const pod = 'kaskade-edge-eu-7d9f8b6c4-x2k9q';
    const tokenFile = join(dir, 'edge-token');
    writeFileSync(tokenFile, await podToken({ pod }));
    const credsFile = join(dir, 'edge.creds');
    const { stdout } = await promisify(execFile)(process.execPath, [
      SCRIPT,
      '--url',
      mesh.controlPlane.url,
      '--token-file',
      tokenFile,
      '--out',
      credsFile,
    ]);
    expect(stdout).toContain(`bus credentials for ${pod} (edge)`);
    expect(statSync(credsFile).mode & 0o777).toBe(0o600);
    const creds = readFileSync(credsFile, 'utf8');
    expect(creds).toMatch(/BEGIN NATS USER JWT[\s\S]+BEGIN USER NKEY SEED/);
    // The seed is the script's own: the JWT the issuer signed is for its public key.
    const { jwt, uc } = await parseCreds(new TextEncoder().encode(creds));
    const seed = creds.match(/\bSU[A-Z2-7]{56}\b/)?.[0];
    expect(seed).toBeDefined();
    expect(decode(jwt).sub).toBe(fromSeed(new TextEncoder().encode(seed)).getPublicKey());
    expect(uc.name).toBe(pod);
    // The control plane read the keys with its own bearer token.
    expect(jwksReads).toContain(`Bearer ${JWKS_READER_TOKEN}`);

    const heard: string[] = [];
    const heartbeats = observer.subscribe(Subjects.heartbeat('*'), {
      callback: (_e, m) => {
        heard.push(m.subject);
      },
    });
    await observer.flush();
    const edge = await connectWith(credsFile, pod);
    const violations = permissionErrors(edge);
    edge.publish(Subjects.heartbeat(pod), '{}');
    edge.publish(Subjects.heartbeat('kaskade-edge-eu-other-pod'), '{}');
    await edge.flush();
    await expect
      .poll(() => violations, { timeout: 2000 })
      .toEqual([
        expect.stringMatching(
          /Permissions Violation for Publish to "kaskade\.v1\.nodes\.heartbeat\.kaskade-edge-eu-other-pod"/,
        ),
      ]);
    await expect.poll(() => heard, { timeout: 2000 }).toContain(Subjects.heartbeat(pod));
    expect(heard).not.toContain(Subjects.heartbeat('kaskade-edge-eu-other-pod'));
    heartbeats.unsubscribe();
    await edge.close();
  });

  it('the node id is the pod in the verified token, whatever the body says; a relay gets a relay user', async () => {
    const user = createUser();
    const response = await ask(
      await podToken({ pod: 'kaskade-relay-eu-5c7d-abcde', serviceAccount: 'kaskade-relay' }),
      {
        publicKey: user.getPublicKey(),
        nodeId: 'control-plane',
        role: 'edge',
      },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const text = await response.text();
    // No secret comes back: no nkey seed of any kind (S + type + 56), no creds file.
    expect(text).not.toMatch(/S[UAONCPX][A-Z2-7]{56}/);
    expect(text).not.toMatch(/NKEY SEED/);
    const reply = JSON.parse(text) as BusCredentialsReply;
    expect(Object.keys(reply).sort()).toEqual(['expiresAt', 'jwt', 'nodeId', 'role']);
    expect(reply).toMatchObject({ nodeId: 'kaskade-relay-eu-5c7d-abcde', role: 'relay' });
    // The JWT is for the key the pod sent, named after the pod, signed by the account's signing key.
    const claims = decode(reply.jwt);
    expect(claims.sub).toBe(user.getPublicKey());
    expect(claims.name).toBe('kaskade-relay-eu-5c7d-abcde');
    expect(claims.iss).toBe(fromSeed(new TextEncoder().encode(nats.signingKeySeed)).getPublicKey());
    const lifetime = Date.parse(reply.expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(86_000_000);
    expect(lifetime).toBeLessThanOrEqual(86_400_000);
    // A relay tells no room events (bus-permissions.ts): the minted user may not either.
    const credsFile = join(dir, 'relay.creds');
    writeFileSync(credsFile, fmtCreds(reply.jwt, user), { mode: 0o600 });
    const relay = await connectWith(credsFile, reply.nodeId);
    const violations = permissionErrors(relay);
    relay.publish(Subjects.roomEvents('room-1', reply.nodeId), '{}');
    await relay.flush();
    await expect.poll(() => violations, { timeout: 2000 }).toHaveLength(1);
    expect(violations[0]).toMatch(/Permissions Violation for Publish/);
    await relay.close();
  });

  it('the init script stops at once on a refusal, and retries a control plane that is not up until its timeout', async () => {
    const tokenFile = join(dir, 'foreign-token');
    writeFileSync(tokenFile, await podToken({ namespace: 'other' }));
    const run = (url: string, out: string, timeoutS: string) =>
      promisify(execFile)(process.execPath, [
        SCRIPT,
        '--url',
        url,
        '--token-file',
        tokenFile,
        '--out',
        out,
        '--timeout-s',
        timeoutS,
      ]).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
      );
    const refusedAt = Date.now();
    const refused = await run(mesh.controlPlane.url, join(dir, 'foreign.creds'), '30');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/403 FORBIDDEN: pods of namespace other/);
    expect(refused.stderr).not.toMatch(/retrying/);
    expect(Date.now() - refusedAt).toBeLessThan(5000);
    expect(existsSync(join(dir, 'foreign.creds'))).toBe(false);
    // Nothing listens on a free port: refused connections are retried, then given up at the timeout.
    const closed = `http://127.0.0.1:${await freePort()}`;
    const gaveUp = await run(closed, join(dir, 'none.creds'), '0.6');
    expect(gaveUp.code).toBe(1);
    // 250 ms fits in 0.6 s, the next pause (500 ms) would not.
    expect(gaveUp.stderr).toMatch(/fetch failed \(ECONNREFUSED\); retrying in 250 ms/);
    expect(gaveUp.stderr).not.toMatch(/retrying in 500 ms/);
  });

  it('refuses, typed, what is no pod of ours', async () => {
    const { privateKey: strangerKey } = await generateKeyPair('RS256');
    const cases: [string, string | undefined, number, string, RegExp][] = [
      ['no token', undefined, 401, 'UNAUTHORIZED', /service-account token is required/],
      ['another namespace', await podToken({ namespace: 'other' }), 403, 'FORBIDDEN', /namespace other/],
      ['wrong audience', await podToken({ audience: 'api' }), 401, 'UNAUTHORIZED', /aud claim/],
      ['expired', await podToken({ expiresInSeconds: -120 }), 401, 'UNAUTHORIZED', /expired/],
      [
        'wrong service account',
        await podToken({ serviceAccount: 'default' }),
        403,
        'FORBIDDEN',
        /default has no role/,
      ],
      ['another cluster key', await podToken({}, strangerKey), 401, 'UNAUTHORIZED', /not accepted/],
      ['a pod name no node id', await podToken({ pod: 'edge.with.dots' }), 403, 'FORBIDDEN', /no node id/],
      ['not a JWT', 'not-a-token', 401, 'UNAUTHORIZED', /not accepted/],
    ];
    for (const [what, token, status, code, message] of cases) {
      const response = await ask(token);
      const body = (await response.json()) as ErrorBody;
      expect({ what, status: response.status, code: body.code }).toEqual({ what, status, code });
      expect(body.message).toMatch(message);
      if (token) expect(body.message).not.toContain(token);
    }
  });

  it('refuses, typed, a body with no user public key: none, an invalid one, a seed, another kind of key', async () => {
    const token = await podToken({});
    const user = createUser();
    const publicKey = user.getPublicKey();
    // One character changed: still U + 55 base32 characters, but its checksum fails.
    const broken = `${publicKey.slice(0, 20)}${publicKey[20] === 'A' ? 'B' : 'A'}${publicKey.slice(21)}`;
    const seed = new TextDecoder().decode(user.getSeed());
    const cases: [string, unknown, RegExp][] = [
      ['no body', NO_BODY, /body/],
      ['an empty object', {}, /publicKey/],
      ['not a key', { publicKey: 'not-a-key' }, /publicKey/],
      ['the seed', { publicKey: seed }, /publicKey/],
      ['an account key', { publicKey: createAccount().getPublicKey() }, /publicKey/],
      ['a lowercase key', { publicKey: publicKey.toLowerCase() }, /publicKey/],
      ['a broken checksum', { publicKey: broken }, /publicKey is no user public key/],
      ['a number', { publicKey: 42 }, /publicKey/],
    ];
    for (const [what, body, message] of cases) {
      const response = await ask(token, body);
      const text = await response.text();
      const error = JSON.parse(text) as ErrorBody;
      expect({ what, status: response.status, code: error.code }).toEqual({
        what,
        status: 400,
        code: 'BAD_REQUEST',
      });
      expect(error.message).toMatch(message);
      // Not even a refusal repeats a seed it was sent.
      expect(text).not.toContain(seed);
    }
    // Without a token the answer is the missing token, whatever the body.
    const anonymous = await ask(undefined, NO_BODY);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as ErrorBody).code).toBe('UNAUTHORIZED');
  });
});
