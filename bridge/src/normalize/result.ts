/** What a normalizer gives back: a clean value (or null for empty) and, maybe, one issue. */
export type Scalar = string | number | boolean | null;

export interface Normalized {
  value: Scalar;
  issue?: { level: 'error' | 'warning'; message: string };
}

export const empty: Normalized = { value: null };

export function ok(value: Scalar): Normalized {
  return { value };
}

export function warn(value: Scalar, message: string): Normalized {
  return { value, issue: { level: 'warning', message } };
}

export function fail(message: string): Normalized {
  return { value: null, issue: { level: 'error', message } };
}
