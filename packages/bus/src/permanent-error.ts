// Two kinds of failure (STYLE.md, "A service"): a PermanentError will recur for the same
// input, so the input is dead-lettered, counted and skipped; anything else is retried.

export class PermanentError extends Error {
  override name = 'PermanentError';
}

export function isPermanent(err: unknown): boolean {
  return err instanceof PermanentError;
}
