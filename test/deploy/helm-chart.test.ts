import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CaseResult,
  type Container,
  checkChart,
  type DeploymentSpec,
  installTools,
  refused,
} from './helm-manifests.ts';

// The Helm chart (deploy/helm/kaskade), checked the way CI can without a cluster: helm
// lint --strict, helm template with each value set of ci/ (and the trial chart's values),
// every document against the Kubernetes 1.30 OpenAPI schemas and every custom resource
// against the KEDA / prometheus-operator CRDs (deploy/helm/validate.ts), then what the
// chart promises: the alerts and dashboards are their one source, a ScaledObject per
// region and kind, one UDP+TCP hostPort pair per worker, a grace period longer than the
// drain, and values the schema must refuse are refused.

const root = fileURLToPath(new URL('../..', import.meta.url));
const chart = join(root, 'deploy/helm/kaskade');

const tmp = mkdtempSync(join(tmpdir(), 'kaskade-chart-'));
/** A values file for a case (JSON is YAML). */
function valuesFile(name: string, values: unknown): string {
  const file = join(tmp, `${name}.yaml`);
  writeFileSync(file, JSON.stringify(values));
  return file;
}
const minimal = join(chart, 'ci/minimal.yaml');

let results: CaseResult[];
let alerts: unknown;
const result = (name: string) => results.find((r) => r.name === name)!;
const docs = (name: string) => result(name).documents;
const ofKind = (name: string, kind: string) => docs(name).filter((d) => d.kind === kind);
const deployment = (name: string, deploymentName: string) =>
  ofKind(name, 'Deployment').find((d) => d.metadata.name === deploymentName)!
    .spec as unknown as DeploymentSpec;
const env = (c: Container, name: string) => c.env.find((e) => e.name === name);

beforeAll(() => {
  installTools();
  const request = {
    ci: true,
    cases: [
      { name: 'defaults-off', values: [minimal, valuesFile('off', { networkPolicy: { enabled: false } })] },
      ...refused.map((r) => ({ name: r.name, values: [minimal, valuesFile(r.name, r.values)] })),
    ],
    parse: [readFileSync(join(root, 'deploy/prometheus/alerts.yml'), 'utf8')],
  };
  const parsed = checkChart(request);
  results = parsed.results;
  alerts = parsed.parsed[0]![0];
}, 1_000_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ciSets = [
  'ci/minimal.yaml',
  'ci/three-regions.yaml',
  'ci/external-tls.yaml',
  'kaskade-trial/values.yaml (kaskade:)',
];

describe('the Helm chart', () => {
  it.each(ciSets)('%s: lints strictly, renders, and every document validates', (name) => {
    const r = result(name);
    expect(r.lint?.ok, r.lint?.stdout + (r.lint?.stderr ?? '')).toBe(true);
    expect(r.render.ok, r.render.stderr).toBe(true);
    expect(r.errors).toEqual([]);
    expect(r.documents.length).toBeGreaterThan(10);
    for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'ConfigMap'])
      expect(ofKind(name, kind).length, kind).toBeGreaterThan(0);
  });

  it('the validator is not vacuous: a misspelt field fails the Kubernetes schema and the CRD', () => {
    const broken = result('ci/minimal.yaml')
      .render.stdout.replace('minReplicaCount:', 'minReplicaCountt:')
      .replace('terminationGracePeriodSeconds:', 'terminationGracePeriod:');
    const checked = checkChart({ validate: [broken] }).validated;
    const kinds = checked[0]!.errors.map((e) => e.kind).sort();
    expect(kinds).toEqual(['Deployment', 'ScaledObject']);
    expect(checked[0]!.errors.map((e) => e.message).join('\n')).toMatch(/minReplicaCountt/);
  });

  it('the PrometheusRule holds exactly deploy/prometheus/alerts.yml', () => {
    for (const name of ciSets) {
      const [rule] = ofKind(name, 'PrometheusRule');
      expect(rule!.spec).toEqual({ groups: (alerts as { groups: unknown[] }).groups });
    }
    expect(JSON.stringify((alerts as { groups: unknown[] }).groups)).toContain('{{ $labels.node }}');
  });

  it('the dashboards are ConfigMaps for the Grafana sidecar, byte for byte deploy/grafana/dashboards', () => {
    const dir = join(root, 'deploy/grafana/dashboards');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    const maps = ofKind('ci/minimal.yaml', 'ConfigMap').filter(
      (m) => m.metadata.labels?.grafana_dashboard === '1',
    );
    expect(maps.length).toBe(files.length);
    for (const f of files) {
      const map = maps.find((m) => m.data?.[f] !== undefined);
      expect(map, f).toBeDefined();
      expect(map!.data![f]).toBe(readFileSync(join(dir, f), 'utf8').trimEnd());
    }
  });

  it('one ScaledObject per region and kind, on max(kaskade_desired_nodes), bounded by the region values', () => {
    const scaled = ofKind('ci/three-regions.yaml', 'ScaledObject');
    const expected = [
      ['eu-west', 'edge', 3, 20],
      ['eu-west', 'relay', 2, 6],
      ['us-east', 'edge', 2, 20],
      ['us-east', 'relay', 1, 4],
      ['ap-south', 'edge', 1, 10],
      ['ap-south', 'relay', 1, 3],
    ] as const;
    expect(scaled.length).toBe(expected.length);
    for (const [region, kind, min, max] of expected) {
      const name = `kaskade-${kind}-${region}`;
      const s = scaled.find((o) => o.metadata.name === name)?.spec as {
        scaleTargetRef: { name: string };
        minReplicaCount: number;
        maxReplicaCount: number;
        triggers: { type: string; metadata: { query: string; threshold: string } }[];
      };
      expect(s, name).toBeDefined();
      expect(s.scaleTargetRef.name).toBe(name);
      expect([s.minReplicaCount, s.maxReplicaCount]).toEqual([min, max]);
      expect(s.triggers).toMatchObject([
        {
          type: 'prometheus',
          metadata: {
            query: `max(kaskade_desired_nodes{region="${region}",kind="${kind}"})`,
            threshold: '1',
            ignoreNullValues: 'false',
          },
        },
      ]);
      // The autoscaler owns the replica count: the Deployment does not fight it on upgrade.
      expect(deployment('ci/three-regions.yaml', name).replicas).toBeUndefined();
    }
    // The HPA alternative: External metric, same selector, no ScaledObject.
    expect(ofKind('ci/external-tls.yaml', 'ScaledObject')).toEqual([]);
    const hpas = ofKind('ci/external-tls.yaml', 'HorizontalPodAutoscaler');
    expect(hpas.map((h) => h.metadata.name).sort()).toEqual([
      'kaskade-edge-eu',
      'kaskade-edge-us',
      'kaskade-relay-eu',
    ]);
    expect(JSON.stringify(hpas[0]!.spec)).toContain('"name":"kaskade_desired_nodes"');
  });

  it('media pods keep their own network by default, with one UDP+TCP hostPort pair per worker', () => {
    for (const [name, region, workers] of [
      ['ci/minimal.yaml', 'eu', 2],
      ['ci/three-regions.yaml', 'eu-west', 4],
      ['ci/three-regions.yaml', 'us-east', 8],
    ] as const) {
      const pod = deployment(name, `kaskade-edge-${region}`).template.spec;
      expect(pod.hostNetwork).toBe(false);
      const ports = pod.containers[0]!.ports!;
      const rtc = ports.filter((p) => p.name?.startsWith('rtc-'));
      expect(rtc.length).toBe(workers * 2);
      for (let i = 0; i < workers; i++)
        for (const protocol of ['UDP', 'TCP'])
          expect(rtc).toContainEqual({
            name: `rtc-${protocol.toLowerCase()}-${i}`,
            containerPort: 40000 + i,
            hostPort: 40000 + i,
            protocol,
          });
      expect(env(pod.containers[0]!, 'KASKADE_WORKERS')?.value).toBe(String(workers));
      expect(env(pod.containers[0]!, 'KASKADE_RTC_PORT_BASE')?.value).toBe('40000');
      // Pipes listen at the pod's address, for other media pods: no hostPort for them.
      expect(ports.filter((p) => !p.name)).toEqual([]);
      expect(env(pod.containers[0]!, 'KASKADE_PIPE_LISTEN_IP')?.valueFrom?.fieldRef?.fieldPath).toBe(
        'status.podIP',
      );
    }
    const hostNet = deployment('ci/external-tls.yaml', 'kaskade-edge-eu').template.spec;
    expect(hostNet.hostNetwork).toBe(true);
    expect(hostNet.containers[0]!.ports!.some((p) => p.hostPort !== undefined)).toBe(false);
    expect(env(hostNet.containers[0]!, 'KASKADE_PIPE_LISTEN_IP')).toBeUndefined();
  });

  it('the announced address comes from status.hostIP, or from the node through the init container', () => {
    const byHost = deployment('ci/minimal.yaml', 'kaskade-edge-eu').template.spec;
    const c = byHost.containers[0]!;
    expect(env(c, 'KASKADE_K8S_HOST_IP')?.valueFrom?.fieldRef?.fieldPath).toBe('status.hostIP');
    expect(env(c, 'KASKADE_RTC_ANNOUNCED_ADDRESS')?.value).toBe('$(KASKADE_K8S_HOST_IP)');
    expect(byHost.initContainers).toBeUndefined();
    for (const [name, flag, key] of [
      ['ci/three-regions.yaml', '--label', 'kaskade.io/public-ipv4'],
      ['ci/external-tls.yaml', '--annotation', 'kaskade.io/public-address'],
    ] as const) {
      const pod = ofKind(name, 'Deployment').find((d) => d.metadata.name.includes('-edge-'))!
        .spec as unknown as DeploymentSpec;
      const init = pod.template.spec.initContainers![0]!;
      const file = '/etc/kaskade/address/announced-address';
      expect(init.command).toEqual(['node', '/app/deploy/image/node-address.ts', flag, key, '--out', file]);
      expect(env(init, 'KASKADE_K8S_NODE_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
      const main = pod.template.spec.containers[0]!;
      expect(env(main, 'KASKADE_RTC_ANNOUNCED_ADDRESS_FILE')?.value).toBe(file);
      expect(env(main, 'KASKADE_RTC_ANNOUNCED_ADDRESS')).toBeUndefined();
      expect(main.volumeMounts).toContainEqual(
        expect.objectContaining({ name: 'address', mountPath: '/etc/kaskade/address' }),
      );
      const role = ofKind(name, 'ClusterRole')[0]!;
      expect((role as unknown as { rules: unknown[] }).rules).toEqual([
        { apiGroups: [''], resources: ['nodes'], verbs: ['get'] },
      ]);
    }
    expect(ofKind('ci/minimal.yaml', 'ClusterRole')).toEqual([]);
  });

  it('every pod names itself as the contract says and runs non-root on a read-only root with /tmp writable', () => {
    for (const d of ofKind('ci/three-regions.yaml', 'Deployment')) {
      const pod = (d.spec as unknown as DeploymentSpec).template.spec;
      const c = pod.containers[0]!;
      expect(env(c, 'KASKADE_NODE_ID')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
      expect(env(c, 'KASKADE_K8S_NAMESPACE')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.namespace');
      expect(env(c, 'KASKADE_K8S_NODE_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
      expect(env(c, 'KASKADE_REGION')?.value).toBe(d.metadata.labels?.['kaskade.io/region'] ?? 'control');
      expect(env(c, 'KASKADE_OPERATOR_TOKEN')?.valueFrom?.secretKeyRef).toEqual({
        name: 'kaskade-operator',
        key: 'KASKADE_OPERATOR_TOKEN',
      });
      expect(c.command).toEqual(['/app/deploy/image/entrypoint.sh']);
      expect(['edge', 'relay', 'control-plane']).toContain(c.args![0]);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
      expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      expect(pod.volumes.find((v) => v.name === 'tmp')?.emptyDir).toBeDefined();
      expect(c.livenessProbe?.httpGet.path).toBe('/livez');
      expect(c.readinessProbe?.httpGet.path).toBe('/readyz');
      // Rolling with drain: a new pod is up before an old one stops.
      expect((d.spec as unknown as DeploymentSpec).strategy.rollingUpdate).toEqual({
        maxUnavailable: 0,
        maxSurge: 1,
      });
    }
    // Only the control plane holds the application's keys; edges verify edge tokens.
    const cp = deployment('ci/three-regions.yaml', 'kaskade-control-plane');
    expect(cp.replicas).toBe(3);
    const cpc = cp.template.spec.containers[0]!;
    expect(env(cpc, 'KASKADE_APP_JWT_PUBLIC_KEY')?.valueFrom?.secretKeyRef?.name).toBe('kaskade-application');
    expect(env(cpc, 'KASKADE_POD_DELETION_COST')?.value).toBe('true');
    const edge = deployment('ci/three-regions.yaml', 'kaskade-edge-eu-west').template.spec.containers[0]!;
    expect(edge.env.some((e) => e.name.startsWith('KASKADE_APP_'))).toBe(false);
    expect(env(edge, 'KASKADE_JWT_SECRET')?.valueFrom?.secretKeyRef?.name).toBe('kaskade-operator');
  });

  it('terminationGracePeriodSeconds outlasts preStop plus the drain deadline of each Deployment', () => {
    for (const name of ciSets)
      for (const d of ofKind(name, 'Deployment')) {
        const pod = (d.spec as unknown as DeploymentSpec).template.spec;
        const c = pod.containers[0]!;
        const drainMs = Number(env(c, 'KASKADE_SHUTDOWN_TIMEOUT_MS')?.value ?? 0);
        const preStop = Number(c.lifecycle!.preStop.exec.command[1]);
        expect(pod.terminationGracePeriodSeconds * 1000, d.metadata.name).toBeGreaterThan(
          preStop * 1000 + drainMs,
        );
      }
    const us = deployment('ci/three-regions.yaml', 'kaskade-edge-us-east').template.spec;
    expect(env(us.containers[0]!, 'KASKADE_SHUTDOWN_TIMEOUT_MS')?.value).toBe('60000');
    expect(us.terminationGracePeriodSeconds).toBe(5 + 60 + 15);
  });

  it('a PodDisruptionBudget per Deployment, a Role for pod-deletion-cost, a PodMonitor with the operator token', () => {
    const name = 'ci/three-regions.yaml';
    const deployments = ofKind(name, 'Deployment')
      .map((d) => d.metadata.name)
      .sort();
    expect(
      ofKind(name, 'PodDisruptionBudget')
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual(deployments);
    const role = ofKind(name, 'Role')[0] as unknown as { rules: unknown[] };
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'patch'] }]);
    // ...and an admission policy narrows that patch to the one annotation, for that account only.
    const policy = ofKind(name, 'ValidatingAdmissionPolicy')[0]!.spec as {
      matchConditions: { expression: string }[];
      validations: { expression: string }[];
    };
    expect(policy.matchConditions[0]!.expression).toBe(
      'request.userInfo.username == "system:serviceaccount:conferencing:kaskade-control-plane"',
    );
    expect(policy.validations.map((v) => v.expression)).toContain('object.spec == oldObject.spec');
    expect(ofKind(name, 'ValidatingAdmissionPolicyBinding')[0]!.spec).toMatchObject({
      policyName: ofKind(name, 'ValidatingAdmissionPolicy')[0]!.metadata.name,
      validationActions: ['Deny'],
    });
    const monitor = ofKind(name, 'PodMonitor')[0]!.spec as {
      jobLabel: string;
      podMetricsEndpoints: { port: string; authorization: { credentials: { name: string; key: string } } }[];
    };
    expect(monitor.jobLabel).toBe('kaskade.io/job');
    expect(monitor.podMetricsEndpoints[0]).toMatchObject({
      port: 'operator',
      authorization: { credentials: { name: 'kaskade-operator', key: 'KASKADE_OPERATOR_TOKEN' } },
    });
    const jobs = ofKind(name, 'Deployment').map(
      (d) => (d.spec as unknown as DeploymentSpec).template.metadata.labels['kaskade.io/job'],
    );
    expect(new Set(jobs)).toEqual(new Set(['kaskade-control-plane', 'kaskade-edge', 'kaskade-relay']));
  });

  it('NetworkPolicies: operator ports from monitoring only, pipe ports only between media pods, public ports open', () => {
    type Rule = { from?: unknown[]; ports: { port: number; endPort?: number; protocol: string }[] };
    const policies = ofKind('ci/external-tls.yaml', 'NetworkPolicy');
    const rules = (suffix: string) =>
      (policies.find((p) => p.metadata.name.endsWith(suffix))!.spec as { ingress: Rule[] }).ingress;
    const monitoring = {
      namespaceSelector: { matchLabels: { team: 'observability' } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
    };
    const media = {
      podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'kaskade', 'kaskade.io/media': 'true' } },
    };
    expect(rules('-control-plane')).toEqual([
      { ports: [{ port: 7800, protocol: 'TCP' }] },
      { from: [monitoring], ports: [{ port: 7801, protocol: 'TCP' }] },
    ]);
    expect(rules('-edge')).toEqual([
      {
        ports: [
          { port: 7880, protocol: 'TCP' },
          { port: 40000, endPort: 40003, protocol: 'UDP' },
          { port: 40000, endPort: 40003, protocol: 'TCP' },
        ],
      },
      { from: [media], ports: [{ port: 41000, endPort: 42999, protocol: 'UDP' }] },
      { from: [monitoring], ports: [{ port: 7881, protocol: 'TCP' }] },
    ]);
    expect(rules('-relay')).toEqual([
      { from: [media], ports: [{ port: 41000, endPort: 42999, protocol: 'UDP' }] },
      { from: [monitoring], ports: [{ port: 7891, protocol: 'TCP' }] },
    ]);
    expect(ofKind('defaults-off', 'NetworkPolicy')).toEqual([]);
  });

  it('secrets come from Secrets: none rendered unless generation is asked for, values mounted as files or env refs', () => {
    expect(ofKind('ci/external-tls.yaml', 'Secret')).toEqual([]);
    expect(ofKind('ci/three-regions.yaml', 'Secret')).toEqual([]);
    const [generated] = ofKind('ci/minimal.yaml', 'Secret');
    expect(Object.keys(generated!.data!).sort()).toEqual(['KASKADE_JWT_SECRET', 'KASKADE_OPERATOR_TOKEN']);
    expect(Buffer.from(generated!.data!.KASKADE_OPERATOR_TOKEN!, 'base64').length).toBe(48);
    // The default values hold no secret material, only Secret names and keys.
    expect(readFileSync(join(chart, 'values.yaml'), 'utf8')).not.toMatch(/BEGIN|password:\s*\S/);
    // External TLS: CAs and client certificates are files from Secrets/ConfigMaps.
    const edge = deployment('ci/external-tls.yaml', 'kaskade-edge-us').template.spec;
    const c = edge.containers[0]!;
    expect(env(c, 'KASKADE_NATS_CA_FILE')?.value).toBe('/etc/kaskade/nats-ca/ca.crt');
    expect(env(c, 'KASKADE_NATS_CERT_FILE')?.value).toBe('/etc/kaskade/nats/tls.crt');
    expect(env(c, 'KASKADE_REDIS_CA_FILE')?.value).toBe('/etc/kaskade/redis-ca/ca.pem');
    expect(env(c, 'KASKADE_REDIS_URL')?.valueFrom?.secretKeyRef).toEqual({
      name: 'kaskade-redis-url',
      key: 'url',
    });
    const volumes = edge.volumes as { name: string; secret?: { secretName: string } }[];
    expect(volumes.find((v) => v.name === 'nats-credentials')?.secret?.secretName).toBe(
      'kaskade-nats-edge-us-cert',
    );
  });

  it.each(refused)('refuses $name', ({ name, says }) => {
    const r = result(name);
    expect(r.render.ok).toBe(false);
    expect(r.render.stderr).toMatch(says);
  });
});
