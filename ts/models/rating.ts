// What the rating-prediction models share on the TS side: the rating scale options and their rule.
import { FLOAT_LIMIT, ordered, type ParamSpec } from './params.js';

/** Options of every rating model: the scale predictions are clipped to. */
export interface RatingScaleParams {
  /** Predictions are clipped to [ratingMin, ratingMax]; default the training data's smallest / largest rating. */
  ratingMin?: number;
  ratingMax?: number;
}

// No default: the training data's range. Bounded so that the float32 clip range a model file keeps is finite.
export const ratingScaleSpec: Record<string, ParamSpec> = {
  ratingMin: { real: [-FLOAT_LIMIT, FLOAT_LIMIT] },
  ratingMax: { real: [-FLOAT_LIMIT, FLOAT_LIMIT] },
};

/** ratingMin <= ratingMax when both are given (each is checked by its spec). */
export const ratingScaleRule = ordered('ratingMin', 'ratingMax');
