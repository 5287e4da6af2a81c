/**
 * The Events API's rate limit: requests per access key per 10-second window, reported as
 * `X-RateLimit-Limit/Remaining/Reset` (reset as epoch seconds) and, past it, 429 with `Retry-After`.
 * A fixed window, in memory: exact for one local server; in AWS each function instance counts its
 * own requests and the function's reserved concurrency caps the total.
 */
export const RATE_WINDOW_MS = 10_000;

export interface RateDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Epoch seconds when the window resets. */
  readonly reset: number;
  /** Seconds to wait, when not allowed. */
  readonly retryAfter: number;
}

export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  /** @param limit requests per 10-second window per key */
  constructor(readonly limit: number) {}

  take(keyId: string, now = Date.now()): RateDecision {
    const start = now - (now % RATE_WINDOW_MS);
    let window = this.windows.get(keyId);
    if (window === undefined || window.start !== start) {
      if (this.windows.size > 10_000) this.forgetBefore(start); // bounded: old windows go
      window = { start, count: 0 };
      this.windows.set(keyId, window);
    }
    const resetMs = start + RATE_WINDOW_MS;
    const reset = Math.ceil(resetMs / 1000);
    if (window.count >= this.limit)
      return {
        allowed: false,
        limit: this.limit,
        remaining: 0,
        reset,
        retryAfter: Math.max(1, Math.ceil((resetMs - now) / 1000)),
      };
    window.count += 1;
    return { allowed: true, limit: this.limit, remaining: this.limit - window.count, reset, retryAfter: 0 };
  }

  private forgetBefore(start: number): void {
    for (const [key, window] of this.windows) if (window.start < start) this.windows.delete(key);
  }
}
