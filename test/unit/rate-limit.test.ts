import { addressKey, RateLimiter } from '@kaskade/node-toolkit';
import { describe, expect, it } from 'vitest';

/** A limiter on a hand-driven clock. */
function limiter(perSecond: number, burst: number, maxKeys = 100) {
  const clock = { ms: 0 };
  return { clock, limiter: new RateLimiter({ perSecond, burst }, { maxKeys, now: () => clock.ms }) };
}

describe('RateLimiter (keyed token buckets)', () => {
  it('lets a burst through, then refuses with the wait until the next token', () => {
    const { limiter: l } = limiter(2, 3);
    expect([l.take('a'), l.take('a'), l.take('a')]).toEqual([0, 0, 0]);
    expect(l.take('a')).toBe(500); // 2 per second: one token every 500 ms
  });

  it('refills at the rate and never above the burst', () => {
    const { clock, limiter: l } = limiter(2, 3);
    for (let i = 0; i < 3; i++) l.take('a');
    clock.ms = 250;
    expect(l.take('a')).toBe(250); // half a token so far
    clock.ms = 500;
    expect(l.take('a')).toBe(0);
    clock.ms = 60_000; // a long pause fills the bucket to the burst, no more
    expect([l.take('a'), l.take('a'), l.take('a'), l.take('a')]).toEqual([0, 0, 0, 500]);
  });

  it('a refused request does not spend a token', () => {
    const { clock, limiter: l } = limiter(1, 1);
    expect(l.take('a')).toBe(0);
    for (let i = 0; i < 10; i++) expect(l.take('a')).toBeGreaterThan(0);
    clock.ms = 1000;
    expect(l.take('a')).toBe(0);
  });

  it('keys are independent', () => {
    const { limiter: l } = limiter(1, 1);
    expect(l.take('a')).toBe(0);
    expect(l.take('a')).toBeGreaterThan(0);
    expect(l.take('b')).toBe(0);
  });

  it('memory is bounded: past maxKeys the least recently used key is forgotten', () => {
    const { limiter: l } = limiter(1, 1, 3);
    l.take('a');
    l.take('b');
    l.take('c');
    expect(l.take('a')).toBeGreaterThan(0); // a is now the most recent
    l.take('d'); // evicts b, the least recent
    expect(l.size).toBe(3);
    expect(l.take('a')).toBeGreaterThan(0); // still remembered
    expect(l.take('b')).toBe(0); // forgotten: starts full again
    for (let i = 0; i < 10_000; i++) l.take(`k${i}`);
    expect(l.size).toBe(3);
  });

  it('forgets keys whose buckets have refilled: a quiet limiter holds nobody', () => {
    const { clock, limiter: l } = limiter(1, 2);
    for (const key of ['a', 'b', 'c']) l.take(key);
    expect(l.size).toBe(3);
    clock.ms = 10_000; // every bucket is full again
    l.take('d');
    l.take('d');
    expect(l.size).toBeLessThanOrEqual(2);
    l.take('d');
    expect(l.size).toBe(1); // only d, still draining
    expect(l.take('a')).toBe(0); // a forgotten key starts full, as it would have been
  });

  it('refuses a rate that would never refill', () => {
    expect(() => new RateLimiter({ perSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new RateLimiter({ perSecond: 1, burst: 0 })).toThrow(RangeError);
  });
});

describe('addressKey (what a per-address limit counts under)', () => {
  it('keeps IPv4 addresses, also mapped into IPv6', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts IPv6 addresses by their /64, however they are written', () => {
    const key = addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd');
    expect(key).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002::1')).toBe(key);
    expect(addressKey('2001:db8:1:3::1')).not.toBe(key);
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });
});
