import { type Agent, request } from 'node:https';

/** Why an HTTPS request got no whole answer. */
export type HttpsFailure = 'no-answer' | 'too-large' | 'cut-off' | 'failed';

export class HttpsRequestError extends Error {
  readonly failure: HttpsFailure;

  constructor(failure: HttpsFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HttpsRequestError';
    this.failure = failure;
  }
}

export interface HttpsRequestOptions {
  method: string;
  headers: Record<string, string>;
  /** The connection pool (with the CA it trusts), or just the CA for a one-off request. */
  agent?: Agent;
  ca?: string | Buffer;
  body?: string;
  /** No whole answer within this: 'no-answer'. */
  timeoutMs: number;
  /** A body larger than this is not read further: 'too-large'. */
  maxBytes: number;
  signal?: AbortSignal;
}

/**
 * One HTTPS request over node:https (which takes a private CA, as a cluster's API server
 * needs), its answer read whole but bounded in size and time; every failure is an
 * HttpsRequestError saying which.
 */
export function httpsRequest(
  url: URL,
  options: HttpsRequestOptions,
): Promise<{ status: number; body: Buffer }> {
  const { method, headers, agent, ca, body, timeoutMs, maxBytes, signal } = options;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent, ca, signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          reject(new HttpsRequestError('too-large', `answer larger than ${maxBytes} bytes`));
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', (cause) => reject(new HttpsRequestError('cut-off', 'answer cut off', { cause })));
    });
    const deadline = setTimeout(() => {
      reject(new HttpsRequestError('no-answer', `no answer within ${timeoutMs} ms`));
      req.destroy();
    }, timeoutMs);
    req.on('close', () => clearTimeout(deadline));
    req.on('error', (cause) => reject(new HttpsRequestError('failed', cause.message, { cause })));
    req.end(body);
  });
}
