import { isIPv6 } from 'node:net';

/** A refill rate and how many requests may come at once. */
export interface Rate {
  perSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by key (a socket's methods, a source address, an identity). Memory is
 * bounded: past maxKeys the least recently used bucket is forgotten, which only ever
 * errs towards letting someone in (a forgotten bucket starts full).
 */
export class RateLimiter {
  readonly #rate: Rate;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(rate: Rate, { maxKeys = 100_000, now = () => performance.now() } = {}) {
    if (!(rate.perSecond > 0) || !(rate.burst >= 1))
      throw new RangeError('a rate needs perSecond > 0 and burst >= 1');
    this.#rate = rate;
    this.#maxKeys = maxKeys;
    this.#now = now;
  }

  /** Takes one token for the key: 0 when allowed, else the milliseconds until one is available. */
  take(key = ''): number {
    const now = this.#now();
    this.#forgetRefilled(now);
    const bucket = this.#buckets.get(key);
    let tokens = this.#rate.burst;
    if (bucket) {
      tokens = Math.min(this.#rate.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate.perSecond);
      this.#buckets.delete(key); // re-inserted below: Map order is recency order
    } else if (this.#buckets.size >= this.#maxKeys) {
      this.#buckets.delete(this.#buckets.keys().next().value as string);
    }
    const allowed = tokens >= 1;
    this.#buckets.set(key, { tokens: allowed ? tokens - 1 : tokens, at: now });
    return allowed ? 0 : Math.ceil(((1 - tokens) / this.#rate.perSecond) * 1000);
  }

  /**
   * A bucket that has refilled is the same as none: the least recently used ones are
   * dropped as they get there, so a quiet limiter holds no addresses or identities.
   */
  #forgetRefilled(now: number): void {
    for (let i = 0; i < 2; i++) {
      const oldest = this.#buckets.entries().next().value;
      if (!oldest) return;
      const [key, bucket] = oldest;
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.#rate.perSecond < this.#rate.burst) return;
      this.#buckets.delete(key);
    }
  }

  /** Buckets held now (bounded by maxKeys). */
  get size(): number {
    return this.#buckets.size;
  }
}

/**
 * The key a per-address limit counts a client under: an IPv4 address as it is (also when
 * mapped into IPv6), an IPv6 address by its /64, which one subscriber usually holds whole:
 * keyed by full address, a /64 would be an endless supply of fresh keys.
 */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const before = head ? head.split(':') : [];
  const after = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...before, ...Array<string>(Math.max(0, 8 - before.length - after.length)).fill('0'), ...after]
    : before;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
