// The shapes of the rendered manifests the chart test reads, and the value sets the chart
// must refuse (test/deploy/helm-chart.test.ts).

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
export interface HelmResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}
export interface CaseResult {
  name: string;
  lint?: HelmResult;
  render: HelmResult;
  documents: Manifest[];
  errors: { kind: string; name: string; message: string }[];
}
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}
export interface Port {
  name?: string;
  containerPort: number;
  hostPort?: number;
  protocol: string;
}
export interface Container {
  name: string;
  args?: string[];
  command?: string[];
  env: EnvVar[];
  ports?: Port[];
  securityContext: { readOnlyRootFilesystem?: boolean };
  volumeMounts: { name: string; mountPath: string }[];
  lifecycle?: { preStop: { exec: { command: string[] } } };
  readinessProbe?: { httpGet: { path: string } };
  livenessProbe?: { httpGet: { path: string } };
}
export interface PodSpec {
  hostNetwork?: boolean;
  terminationGracePeriodSeconds: number;
  securityContext: { runAsNonRoot: boolean; runAsUser: number };
  initContainers?: Container[];
  containers: Container[];
  volumes: { name: string; emptyDir?: unknown }[];
}
export interface DeploymentSpec {
  replicas?: number;
  strategy: { rollingUpdate: { maxUnavailable: number; maxSurge: number } };
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
}

/** Value sets the schema or the templates must refuse, each with what the refusal says. */
export const refused: { name: string; values: unknown; says: RegExp }[] = [
  { name: 'one-control-plane', values: { controlPlane: { replicas: 1 } }, says: /controlPlane\/replicas/ },
  { name: 'typo', values: { edges: { wrokers: 4 } }, says: /wrokers/ },
  { name: 'host-network-string', values: { media: { hostNetwork: 'yes' } }, says: /hostNetwork/ },
  { name: 'plain-bus', values: { nats: { url: 'nats://nats:4222' } }, says: /nats/ },
  { name: 'plain-redis', values: { redis: { url: 'redis://redis:6379' } }, says: /redis/ },
  { name: 'label-without-key', values: { media: { announcedAddress: { from: 'nodeLabel' } } }, says: /key/ },
  { name: 'no-operator-secret', values: { secrets: { operator: { generate: false } } }, says: /operator/ },
  { name: 'unknown-mode', values: { autoscaling: { mode: 'vpa' } }, says: /mode/ },
  {
    name: 'bad-env-name',
    values: { edges: { env: { LOG_LEVEL: 'debug' } } },
    says: /LOG_LEVEL' does not match/,
  },
  {
    name: 'region-name',
    values: { regions: [{ name: 'EU_West', edges: { min: 1, max: 2 } }] },
    says: /name/,
  },
  {
    name: 'min-above-max',
    values: { regions: [{ name: 'eu', edges: { min: 4, max: 2 } }] },
    says: /min 4 is above max 2/,
  },
  {
    name: 'twice-a-region',
    values: {
      regions: [
        { name: 'eu', edges: { min: 1, max: 2 } },
        { name: 'eu', edges: { min: 1, max: 2 } },
      ],
    },
    says: /eu is listed twice/,
  },
];
