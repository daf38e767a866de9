// What the rating-prediction models share on the TS side: the rating scale options and their check.
import { argError } from '../errors.js';
import type { ParamSpec } from './params.js';

/** Options of every rating model: the scale predictions are clipped to. */
export interface RatingScaleParams {
  /** Predictions are clipped to [ratingMin, ratingMax]; default the training data's smallest / largest rating. */
  ratingMin?: number;
  ratingMax?: number;
}

export const ratingScaleSpec: Record<string, ParamSpec> = {
  ratingMin: { real: [-Infinity, Infinity] },
  ratingMax: { real: [-Infinity, Infinity] },
};

/** ratingMin <= ratingMax when both are given (each is checked by its spec). */
export function checkRatingScale(model: string, p: RatingScaleParams): void {
  if (typeof p.ratingMin === 'number' && typeof p.ratingMax === 'number' && p.ratingMin > p.ratingMax) {
    throw argError(`${model}: ratingMin must be <= ratingMax`);
  }
}
