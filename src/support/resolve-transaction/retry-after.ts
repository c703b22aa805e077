/** Retry-After is whole seconds; rounding up (and at least 1) never invites an early retry. */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}
