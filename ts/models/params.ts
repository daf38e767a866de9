// Option checks shared by the model classes: each names the option and gives RecsysError E_ARG. The native
// layer checks the same again (never trust what crosses the boundary).
import { argError } from '../errors.js';

/** A value as text for a message, whatever it is (String() throws for some objects). */
export function show(v: unknown): string {
  try {
    return typeof v === 'string' ? JSON.stringify(v) : String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/** An optional integer option in [lo, hi]. */
export function checkInt(name: string, v: unknown, lo: number, hi: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw argError(`${name} must be an integer in [${lo}, ${hi}], got ${show(v)}`);
  }
}

/** An optional finite number >= lo (> lo when open) and <= hi. */
export function checkReal(name: string, v: unknown, lo: number, hi = Infinity, open = false): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (open && v === lo)) {
    const range = `${open ? '>' : '>='} ${lo}${Number.isFinite(hi) ? ` and <= ${hi}` : ''}`;
    throw argError(`${name} must be a finite number ${range}, got ${show(v)}`);
  }
}

/** An optional boolean option. */
export function checkBool(name: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'boolean') throw argError(`${name} must be a boolean, got ${show(v)}`);
}

/** An optional option from a fixed set of strings. */
export function checkOneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): void {
  if (v === undefined) return;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw argError(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${show(v)}`);
  }
}

/** Options of every rating model: the scale predictions are clipped to. */
export interface RatingScaleParams {
  /** Predictions are clipped to [ratingMin, ratingMax]; default the training data's smallest / largest rating. */
  ratingMin?: number;
  ratingMax?: number;
}

export function checkRatingScale(p: RatingScaleParams): void {
  checkReal('ratingMin', p.ratingMin, -Infinity);
  checkReal('ratingMax', p.ratingMax, -Infinity);
  if (p.ratingMin !== undefined && p.ratingMax !== undefined && p.ratingMin > p.ratingMax) throw argError('ratingMin must be <= ratingMax');
}
