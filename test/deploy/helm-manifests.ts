// The shapes of the rendered manifests the chart tests read, the value sets the chart
// must refuse (test/deploy/helm-chart.test.ts) and the way they run deploy/helm/validate.ts.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const validator = fileURLToPath(new URL('../../deploy/helm/validate.ts', import.meta.url));

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
  restartPolicy?: string;
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
export interface Volume {
  name: string;
  emptyDir?: { medium?: string };
  secret?: { secretName: string };
  projected?: {
    sources: { serviceAccountToken?: { audience: string; expirationSeconds: number; path: string } }[];
  };
}
export interface PodSpec {
  serviceAccountName: string;
  automountServiceAccountToken: boolean;
  hostNetwork?: boolean;
  terminationGracePeriodSeconds: number;
  securityContext: { runAsNonRoot: boolean; runAsUser: number };
  initContainers?: Container[];
  containers: Container[];
  volumes: Volume[];
}
export interface DeploymentSpec {
  replicas?: number;
  strategy: { rollingUpdate: { maxUnavailable: number; maxSurge: number } };
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
}

/** helm, kubernetes-validate and the CRDs: idempotent and fast once installed; the first run builds helm (minutes). */
export function installTools(): void {
  execFileSync('bash', [fileURLToPath(new URL('../../deploy/helm/install-tools.sh', import.meta.url))], {
    stdio: 'inherit',
    timeout: 900_000,
  });
}

/** A case of validate.ts --json: value files (later ones win) and --set-json overrides. */
export interface RenderCase {
  name: string;
  values: string[];
  set?: string[];
}

/** Renders (and lints the ci/ sets, with `ci`) and validates offline through deploy/helm/validate.ts --json. */
export function checkChart(request: {
  ci?: boolean;
  cases?: RenderCase[];
  parse?: string[];
  validate?: string[];
}): {
  results: CaseResult[];
  parsed: unknown[][];
  validated: { errors: { kind: string; message: string }[] }[];
} {
  const out = execFileSync('node', [validator, '--json'], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 300_000,
  });
  return JSON.parse(out);
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
    name: 'issuer-without-account',
    values: { nats: { auth: { mode: 'issuer', signingKeySecret: { name: 'kaskade-bus-signing-key' } } } },
    says: /account/,
  },
  {
    name: 'issuer-without-signing-key',
    values: { nats: { auth: { mode: 'issuer', account: `A${'B'.repeat(55)}` } } },
    says: /signingKeySecret/,
  },
  {
    name: 'region-credentials-with-issuer',
    values: {
      nats: {
        auth: { mode: 'issuer', account: `A${'B'.repeat(55)}`, signingKeySecret: { name: 'bus-key' } },
      },
      regions: [
        { name: 'eu', edges: { min: 1, max: 2, natsCredentials: { existingSecret: 'x', type: 'creds' } } },
      ],
    },
    says: /natsCredentials need nats.auth.mode static/,
  },
  {
    name: 'one-service-account-for-both',
    values: { serviceAccounts: { edge: 'kaskade-media', relay: 'kaskade-media' } },
    says: /ServiceAccounts of their own/,
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
