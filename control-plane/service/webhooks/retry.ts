/** How a webhook is retried: attempts in all, and the backoff between them. */
export interface RetryPolicy {
  maxAttempts: number;
  /** The wait before the second attempt; each further wait doubles, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * The wait before attempt `attempt + 1` after `attempt` failed (attempts count from 1),
 * or null when no attempt is left. Exponential: base, 2 base, 4 base... capped.
 */
export function retryDelayMs(attempt: number, policy: RetryPolicy): number | null {
  if (attempt >= policy.maxAttempts) return null;
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
}
