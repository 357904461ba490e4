import { createHmac, timingSafeEqual } from 'node:crypto';
import { Compile } from 'typebox/compile';
import {
  WEBHOOK_SIGNATURE_VERSION,
  WEBHOOK_TOLERANCE_SECONDS,
  WebhookData,
  WebhookEvent,
  WebhookHeaders,
} from './contract-shapes.ts';

const checkEvent = Compile(WebhookEvent);

export type WebhookFailure =
  /** A kaskade-webhook-* header is missing or malformed. */
  | 'MISSING_HEADER'
  /** Signed longer ago (or further ahead) than the tolerance: a replay, or a clock far off. */
  | 'TIMESTAMP_OUT_OF_TOLERANCE'
  /** No signature matches any of the secrets: not from the control plane, or a changed body. */
  | 'BAD_SIGNATURE'
  /** Signed, but not a webhook event (or its id differs from the header's). */
  | 'BAD_BODY'
  /**
   * Signed and well-formed, of a type this package does not know (a newer server): answer
   * 2xx and ignore it, or it is retried.
   */
  | 'UNKNOWN_TYPE';

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  readonly reason: WebhookFailure;
  constructor(reason: WebhookFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** Node's `req.headers`, or a fetch `Headers`. */
export type WebhookRequestHeaders = Headers | Record<string, string | readonly string[] | undefined>;

export interface VerifyWebhookOptions {
  /**
   * KASKADE_WEBHOOK_SECRET, or during a rotation the list of secrets to accept (the new
   * and the previous): a signature by any of them passes.
   */
  secret: string | readonly string[];
  /** Oldest signature accepted, in seconds (default 300). */
  toleranceSeconds?: number;
  /** Unix seconds now (tests). */
  now?: number;
}

function header(headers: WebhookRequestHeaders, name: string): string | undefined {
  const value = headers instanceof Headers ? headers.get(name) : headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`: one signature of the header's list. */
export function signWebhook(secret: string, timestamp: number, rawBody: string | Uint8Array): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody);
  return `${WEBHOOK_SIGNATURE_VERSION}=${mac.digest('hex')}`;
}

/**
 * Verifies a webhook request and returns its event. Give it the body exactly as received
 * (the raw bytes or string, before any JSON parsing: a re-serialized body does not verify)
 * and the request's headers. Throws WebhookVerificationError saying why it refused.
 */
export function verifyWebhook(
  rawBody: string | Uint8Array,
  headers: WebhookRequestHeaders,
  options: VerifyWebhookOptions,
): WebhookEvent {
  const secrets = typeof options.secret === 'string' ? [options.secret] : options.secret;
  if (secrets.length === 0 || secrets.some((s) => !s)) throw new TypeError('verifyWebhook needs its secret');
  const id = header(headers, WebhookHeaders.id);
  const timestampText = header(headers, WebhookHeaders.timestamp);
  const signatures = header(headers, WebhookHeaders.signature);
  if (!id || !timestampText || !signatures || !/^\d{1,12}$/.test(timestampText)) {
    throw new WebhookVerificationError('MISSING_HEADER', 'webhook headers missing or malformed');
  }
  const timestamp = Number(timestampText);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS)) {
    throw new WebhookVerificationError(
      'TIMESTAMP_OUT_OF_TOLERANCE',
      `webhook signed at ${timestamp}, now is ${now}`,
    );
  }
  const offered = signatures
    .split(' ')
    .filter((s) => s.startsWith(`${WEBHOOK_SIGNATURE_VERSION}=`))
    .map((s) => Buffer.from(s));
  const matches = secrets.some((secret) => {
    const expected = Buffer.from(signWebhook(secret, timestamp, rawBody));
    // Compares every offered signature (constant time each; the length is no secret).
    return offered.reduce(
      (found, s) => (s.length === expected.length && timingSafeEqual(s, expected)) || found,
      false,
    );
  });
  if (!matches)
    throw new WebhookVerificationError('BAD_SIGNATURE', 'no webhook signature matches the secret');
  let body: unknown;
  try {
    body = JSON.parse(typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody));
  } catch {
    throw new WebhookVerificationError('BAD_BODY', 'webhook body is not JSON');
  }
  const type = (body as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && !Object.hasOwn(WebhookData, type)) {
    throw new WebhookVerificationError('UNKNOWN_TYPE', `webhook type ${type} is unknown to this package`);
  }
  // The schema's own Static of a union built by a map is too wide to narrow to: typed below.
  const valid: boolean = checkEvent.Check(body);
  if (!valid) {
    const first = checkEvent.Errors(body)[0];
    throw new WebhookVerificationError(
      'BAD_BODY',
      `webhook body invalid: ${first?.instancePath || '/'} ${first?.message ?? ''}`,
    );
  }
  const event = body as WebhookEvent;
  if (event.id !== id) throw new WebhookVerificationError('BAD_BODY', 'webhook id differs from its header');
  return event;
}
