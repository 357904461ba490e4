import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { type ErrorCode, KaskadeError } from '@kaskade/protocol';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { HttpsRequestError, httpsRequest } from './https-request.ts';

/** Where Kubernetes mounts a pod's service account: token, ca.crt, namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

// Only the fields Kaskade reads; the API server sends much more, which is ignored.
const StringMap = Type.Record(Type.String(), Type.String());
const ObjectMeta = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 253 }),
  labels: Type.Optional(StringMap),
  annotations: Type.Optional(StringMap),
});
export const KubernetesPod = Type.Object({
  kind: Type.Literal('Pod'),
  metadata: Type.Object({ ...ObjectMeta.properties, namespace: Type.String({ minLength: 1 }) }),
});
export type KubernetesPod = Static<typeof KubernetesPod>;
export const KubernetesNode = Type.Object({ kind: Type.Literal('Node'), metadata: ObjectMeta });
export type KubernetesNode = Static<typeof KubernetesNode>;
/** The API server's error body (kind Status). */
const ApiStatus = Type.Object({
  kind: Type.Literal('Status'),
  reason: Type.Optional(Type.String({ maxLength: 256 })),
  message: Type.Optional(Type.String()),
});
const checkPod = Compile(KubernetesPod);
const checkNode = Compile(KubernetesNode);
const checkStatus = Compile(ApiStatus);

/** The ErrorCode an API server's HTTP status means for the caller. */
const CODES: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  422: 'BAD_REQUEST',
  429: 'RATE_LIMITED',
};

/**
 * A request to the Kubernetes API that failed: refused (`status` is the HTTP status,
 * `reason` the Status reason, e.g. NotFound, Forbidden), unanswered in time or
 * unreachable (no `status`, code UNAVAILABLE), or answered with a body that is not
 * what was asked for (code INTERNAL).
 */
export class KubernetesApiError extends KaskadeError {
  override readonly name = 'KubernetesApiError';
  readonly status: number | undefined;
  readonly reason: string | undefined;
  constructor(
    code: ErrorCode,
    message: string,
    details: { status?: number; reason?: string; cause?: unknown } = {},
  ) {
    super(code, message, { cause: details.cause });
    this.status = details.status;
    this.reason = details.reason;
  }
}

export interface KubernetesClientOptions {
  /** https://host:port of the API server. */
  apiUrl: string;
  /** PEM of the CA that signed the API server's certificate. */
  ca: string | Buffer;
  /** File holding the bearer token; read again every `tokenRefreshMs` (bound tokens rotate). */
  tokenFile: string;
  /** The namespace pods are read and patched in. */
  namespace: string;
  /** A request not answered within this fails UNAVAILABLE (default 5 s). */
  timeoutMs?: number;
  /** A response body larger than this fails INTERNAL, unread (default 1 MiB). */
  maxResponseBytes?: number;
  /** How long a token read from the file is used before the file is read again (default 60 s). */
  tokenRefreshMs?: number;
}

/**
 * A small client of the Kubernetes API from inside a pod: reads pods and nodes,
 * merge-patches pod annotations. Authenticates with the pod's service-account token,
 * re-read from its file as kubelet rotates it (and at once after a 401, once), and
 * trusts only the cluster's CA. Every answer is checked against the few fields used;
 * every failure is a KubernetesApiError.
 */
export class KubernetesClient {
  readonly namespace: string;
  readonly #base: URL;
  readonly #agent: Agent;
  readonly #tokenFile: string;
  readonly #timeoutMs: number;
  readonly #maxResponseBytes: number;
  readonly #tokenRefreshMs: number;
  #token: { value: string; readAt: number } | undefined;

  constructor(options: KubernetesClientOptions) {
    this.namespace = options.namespace;
    this.#base = new URL(options.apiUrl);
    if (this.#base.protocol !== 'https:')
      throw new KubernetesApiError('BAD_REQUEST', `the Kubernetes API URL must be https: ${options.apiUrl}`);
    this.#agent = new Agent({ ca: options.ca, keepAlive: true, maxSockets: 4 });
    this.#tokenFile = options.tokenFile;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#maxResponseBytes = options.maxResponseBytes ?? 1_048_576;
    this.#tokenRefreshMs = options.tokenRefreshMs ?? 60_000;
  }

  /**
   * The client of the cluster this process runs in: KUBERNETES_SERVICE_HOST/PORT and the
   * mounted service account (`namespace` overrides the mounted one).
   */
  static inCluster(
    env: Record<string, string | undefined> = process.env,
    options: { serviceAccountDir?: string; namespace?: string; timeoutMs?: number } = {},
  ): KubernetesClient {
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT ?? '443';
    if (!host)
      throw new KubernetesApiError(
        'UNAVAILABLE',
        'not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST is not set',
      );
    const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
    const read = (file: string) => {
      try {
        return readFileSync(join(dir, file), 'utf8');
      } catch (cause) {
        throw new KubernetesApiError(
          'UNAVAILABLE',
          `no service account mounted: cannot read ${join(dir, file)}`,
          {
            cause,
          },
        );
      }
    };
    const ca = read('ca.crt');
    const namespace = options.namespace ?? read('namespace').trim();
    return new KubernetesClient({
      apiUrl: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
      ca,
      tokenFile: join(dir, 'token'),
      namespace,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  /** A pod of the namespace. */
  getPod(name: string): Promise<KubernetesPod> {
    return this.#call('GET', this.#podPath(name), checkPod, 'Pod');
  }

  /**
   * Sets (a string) or removes (null) annotations of a pod of the namespace with a JSON
   * merge patch, leaving the others; returns the pod as patched.
   */
  patchPodAnnotations(name: string, annotations: Record<string, string | null>): Promise<KubernetesPod> {
    const body = JSON.stringify({ metadata: { annotations } });
    return this.#call('PATCH', this.#podPath(name), checkPod, 'Pod', body);
  }

  /** A node of the cluster (its labels and annotations). */
  getNode(name: string): Promise<KubernetesNode> {
    return this.#call('GET', `/api/v1/nodes/${segment(name)}`, checkNode, 'Node');
  }

  close(): void {
    this.#agent.destroy();
  }

  #podPath(name: string): string {
    return `/api/v1/namespaces/${segment(this.namespace)}/pods/${segment(name)}`;
  }

  async #call<T>(
    method: 'GET' | 'PATCH',
    path: string,
    check: { Check(value: unknown): value is T },
    kind: string,
    body?: string,
  ): Promise<T> {
    let token = this.#readToken(false);
    let answer = await this.#send(method, path, token, body);
    if (answer.status === 401) {
      // The token may have rotated since it was read: once more with the file's current one.
      const fresh = this.#readToken(true);
      if (fresh !== token) {
        token = fresh;
        answer = await this.#send(method, path, token, body);
      }
    }
    const parsed = parseJson(answer.body);
    if (answer.status < 200 || answer.status >= 300) throw refusal(method, path, answer.status, parsed);
    if (!check.Check(parsed))
      throw new KubernetesApiError('INTERNAL', `${method} ${path}: the answer is not a ${kind}`, {
        status: answer.status,
      });
    return parsed;
  }

  #readToken(force: boolean): string {
    const now = Date.now();
    if (!force && this.#token && now - this.#token.readAt < this.#tokenRefreshMs) return this.#token.value;
    try {
      const value = readFileSync(this.#tokenFile, 'utf8').trim();
      if (value === '') throw new Error('empty');
      this.#token = { value, readAt: now };
      return value;
    } catch (cause) {
      // A rotation in progress: the token read before still serves a while.
      if (this.#token) return this.#token.value;
      throw new KubernetesApiError('UNAUTHORIZED', `no service-account token in ${this.#tokenFile}`, {
        cause,
      });
    }
  }

  async #send(
    method: string,
    path: string,
    token: string,
    body: string | undefined,
  ): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${token}` };
    if (body !== undefined) {
      headers['content-type'] = 'application/merge-patch+json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    try {
      const answer = await httpsRequest(new URL(path, this.#base), {
        method,
        headers,
        agent: this.#agent,
        ...(body !== undefined ? { body } : {}),
        timeoutMs: this.#timeoutMs,
        maxBytes: this.#maxResponseBytes,
      });
      return { status: answer.status, body: answer.body.toString('utf8') };
    } catch (error) {
      const failure = error instanceof HttpsRequestError ? error.failure : 'failed';
      throw new KubernetesApiError(
        failure === 'too-large' ? 'INTERNAL' : 'UNAVAILABLE',
        `${method} ${path}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}

/** A name as one path segment (names are DNS labels; anything else cannot climb the path). */
function segment(name: string): string {
  return encodeURIComponent(name);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function refusal(method: string, path: string, status: number, body: unknown): KubernetesApiError {
  const apiStatus = checkStatus.Check(body) ? body : undefined;
  const code = CODES[status] ?? 'UNAVAILABLE';
  const detail = apiStatus?.message ? `: ${apiStatus.message.slice(0, 300)}` : '';
  return new KubernetesApiError(code, `${method} ${path} answered ${status}${detail}`, {
    status,
    ...(apiStatus?.reason ? { reason: apiStatus.reason } : {}),
  });
}
