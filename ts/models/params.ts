import { argError, show } from '../errors.js';

/** How one option is checked: an integer or real range, a boolean, or one of a few strings. */
export type ParamSpec =
  | { readonly int: readonly [number, number] }
  | { readonly real: readonly [number, number]; readonly open?: boolean }
  | { readonly bool: true }
  | { readonly oneOf: readonly string[] };

const common: Record<string, ParamSpec> = {
  threads: { int: [0, 1024] },
  seed: { int: [0, Number.MAX_SAFE_INTEGER] },
  maxMemoryBytes: { real: [0, 1e18] },
};

/**
 * Checks a model's options against their specs (E_ARG naming the model and option), and rejects options the
 * model does not know, so a typo (`factor: 32`) fails instead of being silently ignored.
 */
export function checkParams(model: string, params: object, spec: Readonly<Record<string, ParamSpec>>): void {
  if (params === null || typeof params !== 'object') throw argError(`${model}: options must be an object`);
  for (const [key, value] of Object.entries(params)) {
    const s = spec[key] ?? common[key];
    if (!s) throw argError(`${model}: unknown option '${key}' (known: ${[...Object.keys(spec), ...Object.keys(common)].join(', ')})`);
    if (value === undefined) continue;
    if ('int' in s) {
      const [lo, hi] = s.int;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
        throw argError(`${model}: ${key} must be an integer in [${lo}, ${hi}], got ${show(value)}`);
      }
    } else if ('real' in s) {
      const [lo, hi] = s.real;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < lo || value > hi || (s.open && value === lo)) {
        throw argError(`${model}: ${key} must be a finite number ${s.open ? '>' : '>='} ${lo}${Number.isFinite(hi) ? ` and <= ${hi}` : ''}, got ${show(value)}`);
      }
    } else if ('bool' in s) {
      if (typeof value !== 'boolean') throw argError(`${model}: ${key} must be a boolean, got ${show(value)}`);
    } else if (!s.oneOf.includes(value as string)) {
      throw argError(`${model}: ${key} must be one of ${s.oneOf.map((v) => `'${v}'`).join(', ')}, got ${show(value)}`);
    }
  }
}
