// The in-cluster Kubernetes client, the pod-deletion-cost collaborator and the edge's
// node-address init script against a local HTTPS server that answers as the API
// server does (no kube-apiserver can run here: k8s.io/kubernetes cannot be built with
// `go install`, and envtest's binaries come from outside the reachable registries).
// The server's certificate is signed by a CA made with openssl for the test; the client
// is given that CA only.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ORIGIN_COST, POD_DELETION_COST_ANNOTATION } from '@kaskade/control-plane';
import { type LocalMesh, makeServerCertificate, operatorText, startLocalMesh } from '@kaskade/local-mesh';
import { KubernetesApiError, KubernetesClient } from '@kaskade/node-toolkit';
import type { ErrorCode } from '@kaskade/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { FakeApiServer, NAMESPACE } from '../helpers/kube-api.ts';
import {
  FAST_CONTROL_PLANE_ENV,
  FAST_MESH_ENV,
  joinThroughControlPlane,
  type Placed,
} from '../helpers/mesh.ts';

let dir: string;
let api: FakeApiServer;
let port: number;
/** A mounted service account as kubelet lays it out. */
let accountDir: string;
let otherCa: string;
const clients: KubernetesClient[] = [];

function client(options: { tokenRefreshMs?: number; timeoutMs?: number; maxResponseBytes?: number } = {}) {
  const c = new KubernetesClient({
    apiUrl: `https://127.0.0.1:${port}`,
    ca: readFileSync(join(accountDir, 'ca.crt')),
    tokenFile: join(accountDir, 'token'),
    namespace: NAMESPACE,
    ...options,
  });
  clients.push(c);
  return c;
}

async function refusal(call: Promise<unknown>): Promise<KubernetesApiError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KubernetesApiError);
  return error as KubernetesApiError;
}

const setToken = (token: string) => writeFileSync(join(accountDir, 'token'), `${token}\n`);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kaskade-k8s-'));
  const cert = makeServerCertificate(dir);
  mkdirSync(join(dir, 'other'));
  otherCa = makeServerCertificate(join(dir, 'other')).caFile;
  accountDir = join(dir, 'serviceaccount');
  mkdirSync(accountDir);
  writeFileSync(join(accountDir, 'ca.crt'), readFileSync(cert.caFile));
  writeFileSync(join(accountDir, 'namespace'), NAMESPACE);
  setToken('token-1');
  api = new FakeApiServer(cert);
  api.tokens.add('token-1');
  port = await api.listen();
});
afterAll(async () => {
  for (const c of clients) c.close();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the in-cluster Kubernetes client', () => {
  it('reads a pod and merge-patches its annotations, with the bearer token, leaving the others', async () => {
    api.pods.set('edge-eu-1', { 'keep.example/x': 'kept', [POD_DELETION_COST_ANNOTATION]: '5' });
    const k8s = client();
    const pod = await k8s.getPod('edge-eu-1');
    expect(pod.metadata).toEqual({
      name: 'edge-eu-1',
      namespace: NAMESPACE,
      uid: 'uid-edge-eu-1',
      annotations: { 'keep.example/x': 'kept', [POD_DELETION_COST_ANNOTATION]: '5' },
    });
    const patched = await k8s.patchPodAnnotations('edge-eu-1', {
      [POD_DELETION_COST_ANNOTATION]: '-1',
      'gone.example/y': null,
    });
    expect(patched.metadata.annotations).toEqual({
      'keep.example/x': 'kept',
      [POD_DELETION_COST_ANNOTATION]: '-1',
    });
    const [get, patch] = api.requests.slice(-2);
    expect(get).toMatchObject({
      method: 'GET',
      path: `/api/v1/namespaces/${NAMESPACE}/pods/edge-eu-1`,
      body: '',
    });
    expect(get!.headers).toMatchObject({ authorization: 'Bearer token-1', accept: 'application/json' });
    expect(patch).toMatchObject({ method: 'PATCH', path: `/api/v1/namespaces/${NAMESPACE}/pods/edge-eu-1` });
    expect(patch!.headers).toMatchObject({
      authorization: 'Bearer token-1',
      'content-type': 'application/merge-patch+json',
    });
    expect(JSON.parse(patch!.body)).toEqual({
      metadata: { annotations: { [POD_DELETION_COST_ANNOTATION]: '-1', 'gone.example/y': null } },
    });
  });

  it('reads a node; a name cannot climb out of its path segment', async () => {
    api.nodes.set('worker-1', { labels: { 'kaskade.io/public-ip': '203.0.113.7' }, annotations: {} });
    const node = await client().getNode('worker-1');
    expect(node.metadata.labels).toEqual({ 'kaskade.io/public-ip': '203.0.113.7' });
    expect(api.requests.at(-1)).toMatchObject({ method: 'GET', path: '/api/v1/nodes/worker-1' });
    const error = await refusal(client().getPod('../../nodes/worker-1'));
    expect(api.requests.at(-1)!.path).toBe(`/api/v1/namespaces/${NAMESPACE}/pods/..%2F..%2Fnodes%2Fworker-1`);
    expect(error.code).toBe('NOT_FOUND');
  });

  it('fails typed: 404 NOT_FOUND with the Status reason, a body that is not a Pod INTERNAL', async () => {
    const missing = await refusal(client().patchPodAnnotations('no-such-pod', { a: 'b' }));
    expect({ code: missing.code, status: missing.status, reason: missing.reason }).toEqual({
      code: 'NOT_FOUND' satisfies ErrorCode,
      status: 404,
      reason: 'NotFound',
    });
    expect(missing.message).toContain('pods "no-such-pod" not found');
    const odd = await refusal(client().getPod('odd'));
    expect({ code: odd.code, status: odd.status }).toEqual({ code: 'INTERNAL', status: 200 });
  });

  it('re-reads a rotated token: on a 401 at once, and every refresh period anyway', async () => {
    const k8s = client({ tokenRefreshMs: 60_000 });
    api.pods.set('edge-us-1', {});
    await k8s.getPod('edge-us-1'); // token-1 read and kept
    // kubelet rotates the token; the server stops taking the old one.
    setToken('token-2');
    api.tokens.clear();
    api.tokens.add('token-2');
    const before = api.requests.length;
    await k8s.getPod('edge-us-1');
    expect(api.requests.slice(before).map((r) => r.headers.authorization)).toEqual([
      'Bearer token-1', // 401
      'Bearer token-2',
    ]);
    // A token nobody takes: UNAUTHORIZED, after one try with the file's (same) token.
    api.tokens.clear();
    const unauthorized = await refusal(k8s.getPod('edge-us-1'));
    expect({ code: unauthorized.code, status: unauthorized.status }).toEqual({
      code: 'UNAUTHORIZED',
      status: 401,
    });
    // Read again each period, before any 401.
    api.tokens.add('token-3');
    setToken('token-3');
    const fresh = client({ tokenRefreshMs: 1 });
    await fresh.getPod('edge-us-1');
    await new Promise((r) => setTimeout(r, 5));
    setToken('token-4');
    api.tokens.add('token-4');
    const last = api.requests.length;
    await fresh.getPod('edge-us-1');
    expect(api.requests.slice(last).map((r) => r.headers.authorization)).toEqual(['Bearer token-4']);
    api.tokens.add('token-1');
    setToken('token-1');
  });

  it('trusts only its CA, gives up on a silent server, refuses an oversized answer', async () => {
    const stranger = new KubernetesClient({
      apiUrl: `https://127.0.0.1:${port}`,
      ca: readFileSync(otherCa),
      tokenFile: join(accountDir, 'token'),
      namespace: NAMESPACE,
    });
    clients.push(stranger);
    const before = api.requests.length;
    const untrusted = await refusal(stranger.getPod('edge-eu-1'));
    expect(untrusted.code).toBe('UNAVAILABLE');
    expect(api.requests.length).toBe(before); // the token never left the client
    const started = Date.now();
    const silent = await refusal(client({ timeoutMs: 300 }).getPod('slow'));
    expect(silent.code).toBe('UNAVAILABLE');
    expect(silent.message).toContain('no answer within 300 ms');
    expect(Date.now() - started).toBeLessThan(2000);
    const huge = await refusal(client({ maxResponseBytes: 64 * 1024 }).getPod('huge'));
    expect(huge.code).toBe('INTERNAL');
    expect(huge.message).toContain('larger than 65536 bytes');
  });

  it('knows when it is not in a pod, and when no service account is mounted', () => {
    expect(() => KubernetesClient.inCluster({})).toThrow(/KUBERNETES_SERVICE_HOST is not set/);
    expect(() =>
      KubernetesClient.inCluster(
        { KUBERNETES_SERVICE_HOST: '127.0.0.1' },
        { serviceAccountDir: join(dir, 'none') },
      ),
    ).toThrow(/no service account mounted/);
    const inCluster = KubernetesClient.inCluster(
      { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(port) },
      { serviceAccountDir: accountDir },
    );
    clients.push(inCluster);
    expect(inCluster.namespace).toBe(NAMESPACE);
  });
});

describe("the edge's init container: the public address from its node", () => {
  const run = promisify(execFile);
  const script = new URL('../../deploy/image/node-address.ts', import.meta.url).pathname;
  const env = () => ({
    PATH: process.env.PATH,
    KUBERNETES_SERVICE_HOST: '127.0.0.1',
    KUBERNETES_SERVICE_PORT: String(port),
    KASKADE_K8S_SERVICE_ACCOUNT_DIR: accountDir,
    KASKADE_K8S_NODE_NAME: 'worker-2',
  });
  const addressOf = async (...args: string[]) => {
    const out = join(dir, `address-${Math.random().toString(36).slice(2)}`);
    try {
      await run(process.execPath, [script, ...args, '--out', out], { env: env() });
      return { ok: true as const, address: readFileSync(out, 'utf8') };
    } catch (error) {
      const e = error as { code: number; stderr: string };
      return { ok: false as const, code: e.code, stderr: e.stderr.trim() };
    }
  };

  it('writes the address a label or an annotation carries, and refuses a missing or malformed one', async () => {
    api.nodes.set('worker-2', {
      labels: { 'kaskade.io/public-ip': '198.51.100.20', 'kaskade.io/bad': 'not an address!' },
      annotations: { 'kaskade.io/public-host': 'edge-7.example.org' },
    });
    const [label, annotation, missing, malformed, usage] = await Promise.all([
      addressOf('--label', 'kaskade.io/public-ip'),
      addressOf('--annotation', 'kaskade.io/public-host'),
      addressOf('--label', 'kaskade.io/none'),
      addressOf('--label', 'kaskade.io/bad'),
      addressOf('--label', 'a', '--annotation', 'b'),
    ]);
    expect(label).toEqual({ ok: true, address: '198.51.100.20' });
    expect(annotation).toEqual({ ok: true, address: 'edge-7.example.org' });
    expect(missing).toEqual({
      ok: false,
      code: 1,
      stderr: 'node-address: node worker-2 has no label kaskade.io/none',
    });
    expect(malformed).toEqual({
      ok: false,
      code: 1,
      stderr:
        'node-address: the label kaskade.io/bad of node worker-2 is neither an IP address nor a host name',
    });
    expect(usage).toMatchObject({ ok: false, code: 2 });
    expect(api.requests.filter((r) => r.path === '/api/v1/nodes/worker-2').length).toBe(4);
  });
});

describe('pod deletion costs set by the control plane from a real mesh', () => {
  let mesh: LocalMesh;
  const bots: Placed[] = [];
  const join = async (identity: string, room: string, region: string) => {
    const placed = await joinThroughControlPlane(mesh, identity, room, region);
    bots.push(placed);
    expect(placed.nodeId).toBe(`edge-${region}-1`);
    return placed;
  };

  beforeAll(async () => {
    // edge-us-1 is no pod at first (a 404, handled quietly); its pod appears later.
    api.pods.set('edge-eu-1', {});
    api.pods.delete('edge-us-1');
    mesh = await startLocalMesh({
      edgesPerRegion: 1,
      // Capacity 10: each participant is a tenth of the load; the load is sampled often.
      edgeEnv: { ...FAST_MESH_ENV, KASKADE_NODE_CAPACITY: '10', KASKADE_STATS_INTERVAL_MS: '300' },
      controlPlaneEnv: {
        ...FAST_CONTROL_PLANE_ENV,
        KASKADE_POD_DELETION_COST: 'true',
        KASKADE_POD_DELETION_COST_INTERVAL_MS: '200',
        KASKADE_K8S_SERVICE_ACCOUNT_DIR: accountDir,
        KUBERNETES_SERVICE_HOST: '127.0.0.1',
        KUBERNETES_SERVICE_PORT: String(port),
      },
    });
  });
  afterAll(async () => {
    for (const { bot } of bots) await bot.close().catch(() => undefined);
    await mesh?.stop();
  });

  it("the least-loaded node costs least, a lecture's origin most, and steady load patches nothing", async () => {
    const metric = async (result: string) => {
      const text = await operatorText(mesh.controlPlane.operatorUrl, mesh.operatorToken, '/metrics');
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`kaskade_pod_deletion_cost_patches_total{result="${result}"`));
      return Number(line?.split(' ').at(-1));
    };
    expect(await metric('error')).toBe(0);
    await eventually(async () => expect(await metric('not_found')).toBeGreaterThan(0), 5000);
    api.pods.set('edge-us-1', {});
    // Three on eu, one on us: loads 0.3 and 0.1, in steps of 0.05 above 1 (someone on it).
    for (const i of [1, 2, 3]) await join(`eu-${i}`, 'meeting-eu', 'eu');
    await join('us-1', 'meeting-us', 'us');
    // edge-us-1 is tried again 10 rounds after its 404.
    await eventually(
      () => expect([api.cost('edge-eu-1'), api.cost('edge-us-1')]).toEqual([1 + 6, 1 + 2]),
      8000,
    );
    const patch = api.patchesOf('edge-eu-1').at(-1)!;
    expect(patch.headers).toMatchObject({
      authorization: 'Bearer token-1',
      'content-type': 'application/merge-patch+json',
    });
    // Heartbeats go on every 300 ms; the costs do not change, so nothing is patched.
    const patches = api.requests.filter((r) => r.method === 'PATCH').length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(api.requests.filter((r) => r.method === 'PATCH').length).toBe(patches);

    // A presenter on the less loaded us edge whose lecture is watched from eu: us now
    // feeds eu and must go last.
    const presenter = await join('presenter', 'lecture', 'us');
    await presenter.bot.publish('microphone');
    await join('viewer', 'lecture', 'eu');
    await eventually(
      () => expect([api.cost('edge-eu-1'), api.cost('edge-us-1')]).toEqual([1 + 8, ORIGIN_COST + 4]),
      5000,
    );
    expect(await metric('ok')).toBeGreaterThanOrEqual(4);
    expect(await metric('error')).toBe(0);
  });
});
