// Per-source connection rate limit of the relay: a token bucket per remote address (rate per
// second, burst). Pure: the clock is passed in. The table is bounded: when it grows past
// `maxSources`, buckets that have refilled (which carry no state worth keeping) are dropped.

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    readonly maxSources = 100_000,
  ) {}

  /** True when `source` may open one more connection at `now` (ms). */
  allow(source: string, now: number): boolean {
    let b = this.buckets.get(source);
    if (!b) {
      if (this.buckets.size >= this.maxSources) this.prune(now);
      b = { tokens: this.burst, at: now };
      this.buckets.set(source, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private prune(now: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(k);
    }
    // Still full (a flood from many addresses): forget the oldest half rather than grow.
    if (this.buckets.size >= this.maxSources) {
      let n = this.buckets.size / 2;
      for (const k of this.buckets.keys()) {
        if (n-- <= 0) break;
        this.buckets.delete(k);
      }
    }
  }

  get sources(): number {
    return this.buckets.size;
  }
}
