// Renders the chart with each value set of deploy/helm/kaskade/ci and checks it offline:
//   node deploy/helm/validate.ts            (after bash deploy/helm/install-tools.sh)
// `helm lint --strict`, `helm template`, then every document against the Kubernetes
// OpenAPI schemas (kubernetes-validate) and every custom resource against its CRD
// (validate_manifests.py, in the tools' venv). test/deploy/helm-chart.test.ts runs it with --json.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Kubernetes version the chart targets and is validated against (its kubeVersion: >=1.30). */
export const KUBERNETES_VERSION = '1.30.0';
export const HELM_DIR = fileURLToPath(new URL('.', import.meta.url));
export const CHART_DIR = join(HELM_DIR, 'kaskade');
/** The value sets CI renders (helm's ci/ convention). */
export const CI_VALUES = readdirSync(join(CHART_DIR, 'ci'))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => join(CHART_DIR, 'ci', f));

/** A rendered Kubernetes object; the tests read into it with their own shapes. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

export interface ValidationProblem {
  kind: string;
  name: string;
  message: string;
}

let tools: { helm: string; python: string; crds: string } | undefined;

/** Where install-tools.sh put things (same defaults). */
export function toolPaths(): { helm: string; python: string; crds: string } {
  if (tools) return tools;
  const cache =
    process.env.KASKADE_HELM_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kaskade-helm');
  const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim();
  const paths = {
    helm: join(gopath, 'bin', 'helm'),
    python: join(cache, 'venv', 'bin', 'python'),
    crds: join(cache, 'crds'),
  };
  for (const p of Object.values(paths))
    if (!existsSync(p)) throw new Error(`${p} is missing: run bash deploy/helm/install-tools.sh`);
  tools = paths;
  return paths;
}

export interface HelmResult {
  ok: boolean;
  stdout: string;
  /** helm's messages, without its notes about the chart's links (files/ points at the one sources). */
  stderr: string;
}

function helm(args: string[]): HelmResult {
  const r = spawnSync(toolPaths().helm, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const stderr = r.stderr
    .split('\n')
    .filter((l) => l && !l.includes('found symbolic link in path'))
    .join('\n');
  return { ok: r.status === 0, stdout: r.stdout, stderr };
}

/** `helm lint --strict` with value files. */
export function lintChart(valuesFiles: string[]): HelmResult {
  return helm([
    'lint',
    '--strict',
    '--kube-version',
    KUBERNETES_VERSION,
    CHART_DIR,
    ...valuesFiles.flatMap((f) => ['-f', f]),
  ]);
}

/** `helm template` with value files (later ones win) and --set-json overrides. */
export function renderChart(valuesFiles: string[], setJson: string[] = []): HelmResult {
  return helm([
    'template',
    'kaskade',
    CHART_DIR,
    '--namespace',
    'conferencing',
    '--kube-version',
    KUBERNETES_VERSION,
    ...valuesFiles.flatMap((f) => ['-f', f]),
    ...setJson.flatMap((s) => ['--set-json', s]),
  ]);
}

export interface Validation {
  documents: Manifest[];
  errors: ValidationProblem[];
}

function runValidator(yamls: string[], args: string[]): Validation[] {
  const { python } = toolPaths();
  const out = execFileSync(python, [join(HELM_DIR, 'validate_manifests.py'), ...args], {
    input: JSON.stringify(yamls),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return JSON.parse(out) as Validation[];
}

/**
 * Each YAML text's documents, checked: built-in kinds against Kubernetes' schemas, custom
 * resources against their CRDs. One Python process for all of them.
 */
export function validateManifests(yamls: string[]): Validation[] {
  return runValidator(yamls, ['--kube-version', KUBERNETES_VERSION, '--crds', toolPaths().crds]);
}

/** YAML documents as objects, nothing checked (e.g. deploy/prometheus/alerts.yml). */
export function parseYaml(yaml: string): unknown[] {
  return runValidator([yaml], ['--parse-only'])[0]!.documents;
}

/** One rendering to check: value files (later ones win), --set-json overrides, and whether to lint it too. */
export interface RenderCase {
  name: string;
  values: string[];
  set?: string[];
  lint?: boolean;
}

export interface CaseResult {
  name: string;
  lint?: HelmResult;
  render: HelmResult;
  documents: Manifest[];
  errors: ValidationProblem[];
}

/**
 * The value sets CI checks: each file of ci/, and the trial umbrella chart's `kaskade:`
 * values (deploy/helm/kaskade-trial cannot be rendered offline: its upstream charts are
 * not vendored, but what it hands this chart can).
 */
export function ciCases(): RenderCase[] {
  const trial = parseYaml(readFileSync(join(HELM_DIR, 'kaskade-trial', 'values.yaml'), 'utf8'))[0] as {
    kaskade: unknown;
  };
  const dir = mkdtempSync(join(tmpdir(), 'kaskade-trial-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const trialValues = join(dir, 'values.yaml');
  writeFileSync(trialValues, JSON.stringify(trial.kaskade));
  return [
    ...CI_VALUES.map((f) => ({ name: f.slice(CHART_DIR.length + 1), values: [f], lint: true })),
    { name: 'kaskade-trial/values.yaml (kaskade:)', values: [trialValues], lint: true },
  ];
}

/** Lints and renders each case, then validates every rendering in one go. */
export function checkCases(cases: RenderCase[]): CaseResult[] {
  const results = cases.map((c) => ({
    name: c.name,
    ...(c.lint ? { lint: lintChart(c.values) } : {}),
    render: renderChart(c.values, c.set),
  }));
  const rendered = results.filter((r) => r.render.ok);
  const validations = rendered.length === 0 ? [] : validateManifests(rendered.map((r) => r.render.stdout));
  return results.map((r) => {
    const v = r.render.ok ? validations[rendered.indexOf(r)]! : { documents: [], errors: [] };
    return { ...r, ...v };
  });
}

if (import.meta.main) {
  if (process.argv.includes('--json')) {
    // For the tests: stdin {"ci"?: boolean, "cases"?: RenderCase[], "parse"?: yaml[], "validate"?: yaml[]},
    // stdout the results as JSON.
    const request = JSON.parse(readFileSync(0, 'utf8')) as {
      ci?: boolean;
      cases?: RenderCase[];
      parse?: string[];
      validate?: string[];
    };
    const cases = [...(request.ci ? ciCases() : []), ...(request.cases ?? [])];
    process.stdout.write(
      JSON.stringify({
        results: checkCases(cases),
        parsed: (request.parse ?? []).map(parseYaml),
        validated: request.validate ? validateManifests(request.validate) : [],
      }),
    );
  } else {
    const problems: string[] = [];
    for (const r of checkCases(ciCases())) {
      if (r.lint && !r.lint.ok)
        problems.push(`${r.name}: helm lint failed\n${r.lint.stdout}${r.lint.stderr}`);
      if (!r.render.ok) problems.push(`${r.name}: helm template failed\n${r.render.stderr}`);
      else console.log(`${r.name}: ${r.documents.length} documents, ${r.errors.length} problems`);
      for (const e of r.errors) problems.push(`${r.name}: ${e.kind} ${e.name}: ${e.message}`);
    }
    for (const p of problems) console.log(p);
    process.exitCode = problems.length > 0 ? 1 : 0;
  }
}
