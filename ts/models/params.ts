// The one owner of every model option: its type, range, default and whether the fitted state depends on it.
// The constructor resolves a model's options once through resolveParams (defaults filled in, every value and
// cross-field rule checked); the native fit receives those resolved values; model files store them by name and
// loadModel checks them with the same spec before restoring. No other layer keeps its own default or range: the
// native readers require every option they read (native/core/common.h), so a default missing here is an error,
// never a silent C++ value.
import { totalmem } from 'node:os';
import { argError, show } from '../errors.js';

/** A value an option can take. */
export type ParamValue = number | boolean | string | readonly number[];

/** How one option is checked: an integer or real range, a boolean, one of a few strings, or a list of integers. */
export type ParamType =
  | { readonly int: readonly [number, number] }
  | { readonly real: readonly [number, number]; readonly open?: boolean }
  | { readonly bool: true }
  | { readonly oneOf: readonly string[] }
  | { readonly intList: readonly [number, number]; readonly minLength?: number };

export type ParamSpec = ParamType & {
  /** The value used when the option is not given. */
  readonly default?: ParamValue;
  /**
   * The value used when the option is not given, computed from the other resolved options (lrBias follows lr);
   * model.params shows it. With neither default nor derive, the default depends on the data: model.params leaves
   * the option out and the fit decides it (Recommender.nativeParams: computed in TS, or sent as null for the
   * native fit to take from the data).
   */
  readonly derive?: (p: Readonly<Record<string, unknown>>) => ParamValue;
  /** false: the fitted state does not depend on it (threads); it is still saved, as the model's serving setting. */
  readonly state?: false;
};

/** A model's options: one spec per option, and the rules that tie several options together. */
export interface ModelSpec {
  readonly params: Readonly<Record<string, ParamSpec>>;
  /** Cross-field rules: each returns why the resolved options break it, or undefined. */
  readonly rules?: readonly ((p: Readonly<Record<string, unknown>>) => string | undefined)[];
}

/**
 * Largest magnitude of a real option whose value the native state or a model file keeps as float32: larger
 * values would become Infinity there (and the file would not load).
 */
export const FLOAT_LIMIT = 1e30;

/**
 * Smallest value of a positive real option that the native fit keeps as float32 (learning rates, lambda): below
 * it the float32 value would be 0, which the fit refuses or cannot use.
 */
export const FLOAT_TINY = 1e-30;

/** Options every model accepts. */
export const commonSpec: Readonly<Record<string, ParamSpec>> = {
  threads: { int: [0, 1024], default: 0, state: false },
  seed: { int: [0, Number.MAX_SAFE_INTEGER], default: 42 },
  /**
   * No default here: a fit that is given none uses defaultMaxMemoryBytes() of the machine it runs on (so a saved
   * model does not carry another machine's figure).
   */
  maxMemoryBytes: { real: [0, 1e18], state: false },
};

/** maxMemoryBytes when the options give none: half of the physical memory. */
export function defaultMaxMemoryBytes(): number {
  return totalmem() / 2;
}

/** Levenshtein distance (small strings: option names). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known name nearest to `name` by edit distance, when it is near enough to be a likely typo. */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Why `value` does not fit `s`, or undefined. */
function checkValue(key: string, value: unknown, s: ParamSpec): string | undefined {
  if ('int' in s) {
    const [lo, hi] = s.int;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi)
      return `${key} must be an integer in [${lo}, ${hi}], got ${show(value)}`;
  } else if ('real' in s) {
    const [lo, hi] = s.real;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < lo || value > hi || (s.open && value === lo)) {
      return `${key} must be a finite number ${s.open ? '>' : '>='} ${lo}${Number.isFinite(hi) ? ` and <= ${hi}` : ''}, got ${show(value)}`;
    }
  } else if ('bool' in s) {
    if (typeof value !== 'boolean') return `${key} must be a boolean, got ${show(value)}`;
  } else if ('oneOf' in s) {
    if (typeof value !== 'string' || !s.oneOf.includes(value)) return `${key} must be one of ${s.oneOf.map((v) => `'${v}'`).join(', ')}, got ${show(value)}`;
  } else {
    const [lo, hi] = s.intList;
    const min = s.minLength ?? 1;
    if (
      !Array.isArray(value) ||
      value.length < min ||
      value.length > 64 ||
      !value.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi)
    ) {
      return `${key} must be a list of ${min} to 64 integers in [${lo}, ${hi}], got ${show(value)}`;
    }
  }
  return undefined;
}

/**
 * Resolves a model's options against its spec (and the common ones): rejects unknown options (naming the nearest
 * known one), checks every value and cross-field rule (E_ARG naming the model and option), and returns a new
 * object with every option that has a default filled in, in spec order. Only own enumerable keys are read, so
 * names like `constructor` or `__proto__` are unknown options like any other.
 */
export function resolveParams<P extends object>(model: string, params: P | undefined, spec: ModelSpec): P {
  if (params === undefined) params = {} as P;
  if (params === null || typeof params !== 'object' || Array.isArray(params)) throw argError(`${model}: options must be an object, got ${show(params)}`);
  const all: Record<string, ParamSpec> = Object.assign(Object.create(null) as Record<string, ParamSpec>, commonSpec, spec.params);
  const given = params as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(all, key)) {
      const near = nearestName(key, Object.keys(all));
      throw argError(`${model}: unknown option ${show(key)}${near ? ` (did you mean '${near}'?)` : ''}; known: ${Object.keys(all).join(', ')}`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(all)) {
    const s = all[key]!;
    const v = Object.hasOwn(given, key) ? given[key] : undefined;
    if (v === undefined) {
      if (s.default !== undefined) out[key] = Array.isArray(s.default) ? [...(s.default as readonly unknown[])] : s.default;
      else if (s.derive) out[key] = undefined; // keeps spec order; filled below from the other options
      continue;
    }
    const why = checkValue(key, v, s);
    if (why) throw argError(`${model}: ${why}`);
    // -0 is 0 (a model file's JSON cannot tell them apart).
    out[key] = Array.isArray(v) ? Object.freeze([...(v as unknown[])]) : Object.is(v, -0) ? 0 : v;
  }
  for (const key of Object.keys(out)) {
    if (out[key] !== undefined) continue;
    out[key] = all[key]!.derive!(out);
    const why = checkValue(key, out[key], all[key]!);
    if (why) throw argError(`${model}: ${why} (derived from the other options)`);
  }
  for (const rule of spec.rules ?? []) {
    const why = rule(out);
    if (why) throw argError(`${model}: ${why}`);
  }
  specs.set(out, { params: all, rules: spec.rules });
  return out as P;
}

const specs = new WeakMap<object, ModelSpec>();

/** The full spec (common options included) that resolved `params` (for a model: its spec; see Recommender). */
export function specOf(params: object): ModelSpec | undefined {
  return specs.get(params);
}

/** Marks `copy` as resolved by the same spec as `params`. */
export function sameSpec<T extends object>(params: object, copy: T): T {
  const s = specs.get(params);
  if (s) specs.set(copy, s);
  return copy;
}

/** Rule: lo <= hi when both are set. */
export function ordered(lo: string, hi: string): (p: Readonly<Record<string, unknown>>) => string | undefined {
  return (p) => (typeof p[lo] === 'number' && typeof p[hi] === 'number' && (p[lo] as number) > (p[hi] as number) ? `${lo} must be <= ${hi}` : undefined);
}
