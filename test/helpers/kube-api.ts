// A local stand-in for the Kubernetes API server (no kube-apiserver can run here), for
// test/integration/kubernetes-client.test.ts: HTTPS with a test CA's certificate.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { POD_DELETION_COST_ANNOTATION } from '@kaskade/control-plane';

export const NAMESPACE = 'kaskade';

export interface Recorded {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Answers like the API server for the few calls Kaskade makes: pods of one namespace
 * (GET, merge PATCH of annotations), nodes (GET), a Status body with 401, 404 or 415.
 * Pods named `slow`, `huge` and `odd` never answer, answer 2 MiB, answer a Deployment.
 */
export class FakeApiServer {
  readonly requests: Recorded[] = [];
  readonly pods = new Map<string, Record<string, string>>();
  readonly nodes = new Map<string, { labels: Record<string, string>; annotations: Record<string, string> }>();
  readonly tokens = new Set<string>();
  readonly #server: Server;

  constructor(cert: { certFile: string; keyFile: string }) {
    this.#server = createServer(
      { cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          this.requests.push({ method: req.method!, path: req.url!, headers: req.headers, body });
          const answer = (status: number, value: unknown) => {
            res.writeHead(status, { 'content-type': 'application/json' });
            res.end(JSON.stringify(value));
          };
          const status = (code: number, reason: string, message: string) =>
            answer(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code });
          const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
          if (!token || !this.tokens.has(token)) return status(401, 'Unauthorized', 'Unauthorized');
          const pod = new RegExp(`^/api/v1/namespaces/${NAMESPACE}/pods/([^/]+)$`).exec(req.url!);
          const node = /^\/api\/v1\/nodes\/([^/]+)$/.exec(req.url!);
          if (pod) {
            const name = decodeURIComponent(pod[1]!);
            if (name === 'slow') return; // never answers
            if (name === 'huge') return answer(200, { kind: 'Pod', padding: 'x'.repeat(2 * 1024 * 1024) });
            if (name === 'odd') return answer(200, { kind: 'Deployment', metadata: { name } });
            const annotations = this.pods.get(name);
            if (!annotations) return status(404, 'NotFound', `pods "${name}" not found`);
            if (req.method === 'PATCH') {
              if (req.headers['content-type'] !== 'application/merge-patch+json')
                return status(
                  415,
                  'UnsupportedMediaType',
                  'the body of the request was in an unknown format',
                );
              const patch = JSON.parse(body) as {
                metadata?: { annotations?: Record<string, string | null> };
              };
              for (const [k, v] of Object.entries(patch.metadata?.annotations ?? {}))
                if (v === null) delete annotations[k];
                else annotations[k] = v;
            }
            return answer(200, {
              kind: 'Pod',
              apiVersion: 'v1',
              metadata: { name, namespace: NAMESPACE, uid: `uid-${name}`, annotations: { ...annotations } },
              spec: { containers: [{ name: 'edge', image: 'localhost/kaskade:test' }] },
              status: { phase: 'Running', hostIP: '10.0.0.1' },
            });
          }
          if (node && req.method === 'GET') {
            const name = decodeURIComponent(node[1]!);
            const found = this.nodes.get(name);
            if (!found) return status(404, 'NotFound', `nodes "${name}" not found`);
            return answer(200, {
              kind: 'Node',
              apiVersion: 'v1',
              metadata: { name, ...found },
              status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] },
            });
          }
          status(404, 'NotFound', 'the server could not find the requested resource');
        });
      },
    );
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return (this.#server.address() as AddressInfo).port;
  }

  patchesOf(pod: string): Recorded[] {
    return this.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/pods/${pod}`));
  }

  cost(pod: string): number | undefined {
    const value = this.pods.get(pod)?.[POD_DELETION_COST_ANNOTATION];
    return value === undefined ? undefined : Number(value);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
