/**
 * Token buckets in this process's memory, one per key: `capacity` requests at once, refilled evenly at
 * `perMinute` per minute. Each gateway replica keeps its own buckets, so with N replicas behind a balancer a
 * caller gets up to N times the limit; a shared limiter (Redis) would make it exact and is not built.
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();
  private readonly refillPerMs: number;
  private admitted = 0;

  constructor(
    private readonly perMinute: number,
    private readonly capacity = perMinute,
    private readonly now: () => number = Date.now,
  ) {
    this.refillPerMs = perMinute / 60_000;
  }

  /** Takes a token for `key`: 0 when admitted, else the whole seconds to wait before one is there. */
  take(key: string): number {
    if (this.perMinute <= 0) return 0;
    const now = this.now();
    if (++this.admitted % 10_000 === 0) this.forgetFullBuckets(now);
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, updatedAt: now };
    bucket.tokens = Math.min(this.capacity, bucket.tokens + (now - bucket.updatedAt) * this.refillPerMs);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.refillPerMs / 1000));
  }

  /** Buckets that have refilled completely are the same as no bucket: dropping them bounds memory. */
  private forgetFullBuckets(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) * this.refillPerMs >= this.capacity) this.buckets.delete(key);
    }
  }

  /** Keys with a bucket in memory (tests and diagnostics). */
  get size(): number {
    return this.buckets.size;
  }
}
