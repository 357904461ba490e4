import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { WEBHOOK_SIGNATURE_VERSION, WEBHOOK_TOLERANCE_SECONDS } from '@kaskade/protocol';

/**
 * Whether two secrets are equal, in time that does not depend on where they differ:
 * both are hashed first, so neither their contents nor their lengths leak.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: one signature of a webhook. */
function signatureWith(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `${WEBHOOK_SIGNATURE_VERSION}=${mac}`;
}

/**
 * The kaskade-webhook-signature header of a body sent at `timestamp` (unix seconds): one
 * signature per secret (the current one first, the previous one during a rotation),
 * space-separated.
 */
export function signWebhook(secrets: readonly string[], timestamp: number, body: string): string {
  return secrets.map((secret) => signatureWith(secret, timestamp, body)).join(' ');
}

export interface WebhookCheck {
  /** The secrets the receiver accepts (the current one, and the previous one during a rotation). */
  secrets: readonly string[];
  /** The kaskade-webhook-signature header. */
  signature: string | undefined;
  /** The kaskade-webhook-timestamp header. */
  timestamp: string | undefined;
  /** The raw body, exactly as received. */
  body: string;
  nowSeconds?: number;
  toleranceSeconds?: number;
}

/**
 * Whether a webhook is genuine and recent: its timestamp lies within the tolerance of
 * now (either way) and one of its signatures is that of one of the secrets.
 */
export function verifyWebhook({
  secrets,
  signature,
  timestamp,
  body,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = WEBHOOK_TOLERANCE_SECONDS,
}: WebhookCheck): boolean {
  if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
  const sentAt = Number(timestamp);
  if (Math.abs(nowSeconds - sentAt) > toleranceSeconds) return false;
  const offered = signature.split(' ').filter((s) => s.startsWith(`${WEBHOOK_SIGNATURE_VERSION}=`));
  let valid = false;
  // Every pair is compared (no early exit): the time taken says nothing about which matched.
  for (const secret of secrets) {
    const expected = signatureWith(secret, sentAt, body);
    for (const candidate of offered) valid = constantTimeEqual(candidate, expected) || valid;
  }
  return valid;
}
