import { describe, expect, it } from 'vitest';
import { TokenBucketLimiter } from './rate-limiter.js';

describe('TokenBucketLimiter', () => {
  it('admits the configured count at once, then tells how long to wait, and refills evenly', () => {
    let now = 1_000_000;
    const limiter = new TokenBucketLimiter(3, 3, () => now);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(20);
    now += 19_999;
    expect(limiter.take('a')).toBe(1);
    now += 1;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(20);
  });

  it('keeps one bucket per key', () => {
    const limiter = new TokenBucketLimiter(1, 1, () => 0);
    expect(limiter.take('tenant-1:alice')).toBe(0);
    expect(limiter.take('tenant-1:alice')).toBe(60);
    expect(limiter.take('tenant-1:bob')).toBe(0);
    expect(limiter.take('tenant-2:alice')).toBe(0);
  });

  it('never refuses when the limit is 0 (off)', () => {
    const limiter = new TokenBucketLimiter(0, 0, () => 0);
    for (let i = 0; i < 1000; i++) expect(limiter.take('a')).toBe(0);
    expect(limiter.size).toBe(0);
  });

  it('forgets buckets that have refilled, so idle callers cost no memory', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter(60, 60, () => now);
    for (let i = 0; i < 5_000; i++) limiter.take(`caller-${i}`);
    expect(limiter.size).toBe(5_000);
    now += 60_000;
    for (let i = 0; i < 5_000; i++) limiter.take('busy');
    expect(limiter.size).toBe(1);
  });
});
