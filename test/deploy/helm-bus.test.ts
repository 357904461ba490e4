import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CaseResult,
  type Container,
  checkChart,
  type DeploymentSpec,
  installTools,
  type Manifest,
  type PodSpec,
} from './helm-manifests.ts';

// How the chart hands pods their bus credentials (deploy/README.md "## Kubernetes"). In
// the default mode, issuer, every edge and relay pod trades a projected service-account
// token (audience kaskade-bus) for a NATS user of its own at the control plane's issuer,
// in an init container and a renewing native sidecar (deploy/image/bus-credentials.ts);
// the control plane alone holds the account's signing key and mints its own users; the
// issuer tells edges from relays by their ServiceAccounts. In static mode every pod of a
// kind shares the Secret of its kind. Rendered and validated offline like the rest of
// the chart (deploy/helm/validate.ts).

const chart = fileURLToPath(new URL('../../deploy/helm/kaskade', import.meta.url));
const issuerSet = join(chart, 'ci/three-regions.yaml');
const CREDS = '/tmp/bus/nats.creds';
const SCRIPT = ['node', '/app/deploy/image/bus-credentials.ts'];
const ISSUER_URL = 'http://kaskade-control-plane.conferencing.svc:7800';
const ISSUER_CASES = ['ci/three-regions.yaml', 'issuer-custom'];

let results: CaseResult[];
const docs = (name: string) => results.find((r) => r.name === name)!.documents;
const pods = (name: string) =>
  docs(name)
    .filter((d) => d.kind === 'Deployment')
    .map((d) => ({ name: d.metadata.name, pod: (d.spec as unknown as DeploymentSpec).template.spec }));
const media = (name: string) => pods(name).filter((p) => p.name !== 'kaskade-control-plane');
const controlPlane = (name: string) => pods(name).find((p) => p.name === 'kaskade-control-plane')!.pod;
const env = (c: Container, name: string) => c.env?.find((e) => e.name === name);
const init = (pod: PodSpec, name: string) => pod.initContainers?.find((c) => c.name === name);

beforeAll(() => {
  installTools();
  results = checkChart({
    ci: true,
    cases: [
      {
        name: 'issuer-custom',
        values: [issuerSet],
        set: [
          'serviceAccounts={"edge":"conf-edges","relay":"conf-relays"}',
          'nats.auth.audience="conf-bus"',
          'nats.auth.tokenIssuer=""',
        ],
      },
    ],
  }).results;
}, 1_000_000);

describe('bus credentials in the Helm chart', () => {
  it('the issuer value sets render and validate', () => {
    for (const name of ISSUER_CASES) {
      const r = results.find((c) => c.name === name)!;
      expect(r.render.ok, r.render.stderr).toBe(true);
      expect(r.errors).toEqual([]);
    }
  });

  it.each([
    ['ci/three-regions.yaml', 'kaskade-bus'],
    ['issuer-custom', 'conf-bus'],
  ])(
    '%s: every edge and relay pod gets its own user with a projected token of audience %s',
    (name, audience) => {
      const all = media(name);
      expect(all.length).toBe(6);
      for (const { name: deployment, pod } of all) {
        const token = pod.volumes.find((v) => v.name === 'bus-token')?.projected?.sources;
        expect(token, deployment).toEqual([
          { serviceAccountToken: { audience, expirationSeconds: 3600, path: 'bus-token' } },
        ]);
        expect(pod.volumes.find((v) => v.name === 'bus')?.emptyDir).toEqual({
          medium: 'Memory',
          sizeLimit: '1Mi',
        });
        const args = [
          ...SCRIPT,
          '--url',
          ISSUER_URL,
          '--token-file',
          '/etc/kaskade/bus-token/bus-token',
          '--out',
          CREDS,
        ];
        const first = init(pod, 'bus-credentials')!;
        const sidecar = init(pod, 'bus-credentials-renew')!;
        expect(first.command).toEqual(args);
        expect(first.restartPolicy).toBeUndefined();
        // A native sidecar (Kubernetes 1.29+): runs beside the process and renews at 2/3 of the lifetime.
        expect(sidecar.command).toEqual([...args, '--renew']);
        expect(sidecar.restartPolicy).toBe('Always');
        for (const c of [first, sidecar])
          expect(c.volumeMounts).toEqual(
            expect.arrayContaining([
              { name: 'bus', mountPath: '/tmp/bus' },
              { name: 'bus-token', mountPath: '/etc/kaskade/bus-token', readOnly: true },
            ]),
          );
        // The first one ends before the process starts; the sidecar comes after it.
        expect(pod.initContainers!.indexOf(first)).toBeLessThan(pod.initContainers!.indexOf(sidecar));
        const main = pod.containers[0]!;
        expect(env(main, 'KASKADE_NATS_CREDS_FILE')?.value).toBe(CREDS);
        expect(main.env.filter((e) => /^KASKADE_NATS_(USER|PASSWORD|TOKEN|CERT_FILE)$/.test(e.name))).toEqual(
          [],
        );
        // The process reads the credentials; the token, good for getting them, stays with the init containers.
        expect(main.volumeMounts).toContainEqual({ name: 'bus', mountPath: '/tmp/bus', readOnly: true });
        expect(main.volumeMounts.some((m) => m.name === 'bus-token')).toBe(false);
        expect(pod.volumes.some((v) => v.name === 'nats-credentials')).toBe(false);
      }
    },
  );

  it('the signing key is mounted in control-plane pods only, which mint their own users with it', () => {
    expect(results.filter((c) => c.render.ok).length).toBe(5);
    for (const r of results.filter((c) => c.render.ok)) {
      for (const { name, pod } of pods(r.name)) {
        const holds = pod.volumes.some((v) => v.secret?.secretName === 'kaskade-bus-signing-key');
        expect(holds, `${r.name} ${name}`).toBe(
          name === 'kaskade-control-plane' && ISSUER_CASES.includes(r.name),
        );
        for (const c of [...(pod.initContainers ?? []), ...pod.containers])
          expect(
            c.volumeMounts.some((m) => m.name === 'bus-signing-key'),
            `${r.name} ${name} ${c.name}`,
          ).toBe(holds);
      }
    }
    const cp = controlPlane('ci/three-regions.yaml');
    const seed = '/etc/kaskade/bus-signing-key/signing-key.nk';
    const account = 'ACLEUX2HALVQU4EEL5W2OMF7QY62IHPED7V57G5NYNDH5QTSG37S5YK3';
    const args = [
      ...SCRIPT,
      '--signing-key-file',
      seed,
      '--account',
      account,
      '--node-id',
      '$(KASKADE_NODE_ID)',
    ];
    const mint = [...args, '--ttl-s', '43200', '--out', CREDS];
    expect(init(cp, 'bus-credentials')!.command).toEqual(mint);
    expect(init(cp, 'bus-credentials-renew')!.command).toEqual([...mint, '--renew']);
    expect(init(cp, 'bus-credentials-renew')!.restartPolicy).toBe('Always');
    // $(KASKADE_NODE_ID) expands to the pod name only if the container has it.
    expect(env(init(cp, 'bus-credentials')!, 'KASKADE_NODE_ID')?.valueFrom?.fieldRef?.fieldPath).toBe(
      'metadata.name',
    );
    const main = cp.containers[0]!;
    expect(env(main, 'KASKADE_NATS_CREDS_FILE')?.value).toBe(CREDS);
    expect(env(main, 'KASKADE_BUS_ISSUER_SIGNING_KEY_FILE')?.value).toBe(seed);
    expect(env(main, 'KASKADE_BUS_ISSUER_ACCOUNT')?.value).toBe(account);
    expect(env(main, 'KASKADE_BUS_ISSUER_NAMESPACE')?.value).toBe('conferencing');
    expect(env(main, 'KASKADE_BUS_ISSUER_AUDIENCE')?.value).toBe('kaskade-bus');
    expect(env(main, 'KASKADE_BUS_ISSUER_CREDENTIAL_TTL_S')?.value).toBe('43200');
    expect(env(main, 'KASKADE_BUS_ISSUER_TOKEN_ISSUER')?.value).toBe(
      'https://kubernetes.default.svc.cluster.local',
    );
    // The cluster's token keys are read with the control plane's own service-account token.
    expect(cp.automountServiceAccountToken).toBe(true);
    expect(env(main, 'KASKADE_BUS_ISSUER_JWKS_CA_FILE')?.value).toBe(
      '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
    );
    expect(env(main, 'KASKADE_BUS_ISSUER_JWKS_TOKEN_FILE')?.value).toBe(
      '/var/run/secrets/kubernetes.io/serviceaccount/token',
    );
    const custom = controlPlane('issuer-custom').containers[0]!;
    expect(env(custom, 'KASKADE_BUS_ISSUER_AUDIENCE')?.value).toBe('conf-bus');
    expect(env(custom, 'KASKADE_BUS_ISSUER_TOKEN_ISSUER')).toBeUndefined();
  });

  it.each([
    ['ci/three-regions.yaml', 'kaskade-edge', 'kaskade-relay'],
    ['issuer-custom', 'conf-edges', 'conf-relays'],
  ])(
    '%s: edges and relays run under the two ServiceAccounts the issuer maps to roles',
    (name, edgeAccount, relayAccount) => {
      const main = controlPlane(name).containers[0]!;
      expect(env(main, 'KASKADE_BUS_ISSUER_EDGE_SERVICE_ACCOUNT')?.value).toBe(edgeAccount);
      expect(env(main, 'KASKADE_BUS_ISSUER_RELAY_SERVICE_ACCOUNT')?.value).toBe(relayAccount);
      for (const { name: deployment, pod } of media(name))
        expect(pod.serviceAccountName, deployment).toBe(
          deployment.includes('-edge-') ? edgeAccount : relayAccount,
        );
      const accounts = docs(name)
        .filter((d) => d.kind === 'ServiceAccount')
        .map((d) => d.metadata.name);
      expect(accounts).toEqual(expect.arrayContaining([edgeAccount, relayAccount]));
      // Both read their Node's public address (node label in this set).
      const binding = docs(name).find((d) => d.kind === 'ClusterRoleBinding') as Manifest & {
        subjects: { name: string }[];
      };
      expect(binding.subjects.map((s) => s.name)).toEqual([edgeAccount, relayAccount]);
    },
  );

  it('static mode: every pod of a kind shares its Secret, no issuer, no token', () => {
    for (const name of ['ci/minimal.yaml', 'ci/external-tls.yaml', 'kaskade-trial/values.yaml (kaskade:)']) {
      const cp = controlPlane(name);
      expect(
        cp.containers[0]!.env.some((e) => e.name.startsWith('KASKADE_BUS_ISSUER_')),
        name,
      ).toBe(false);
      for (const { pod } of pods(name)) {
        expect(pod.initContainers?.some((c) => c.name.startsWith('bus-credentials')) ?? false).toBe(false);
        expect(pod.volumes.some((v) => v.name === 'bus-token' || v.name === 'bus')).toBe(false);
      }
    }
    const edge = media('ci/minimal.yaml')[0]!.pod.containers[0]!;
    expect(env(edge, 'KASKADE_NATS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
      name: 'kaskade-nats-edge',
      key: 'password',
    });
    expect(env(edge, 'KASKADE_NATS_CREDS_FILE')).toBeUndefined();
  });

  it('the NetworkPolicies let media pods reach the issuer on the public port', () => {
    const policy = docs('ci/three-regions.yaml').find(
      (d) => d.kind === 'NetworkPolicy' && d.metadata.name === 'kaskade-control-plane',
    )!.spec as { policyTypes: string[]; ingress: { from?: unknown[]; ports: { port: number }[] }[] };
    const open = policy.ingress.find((rule) => rule.ports.some((p) => p.port === 7800))!;
    expect(open.from).toBeUndefined();
    // Media pods' policies restrict what comes in, not what goes out.
    for (const d of docs('ci/three-regions.yaml').filter((p) => p.kind === 'NetworkPolicy'))
      expect((d.spec as { policyTypes: string[] }).policyTypes).toEqual(['Ingress']);
  });
});
