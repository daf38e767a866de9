// What a fuzz target is and how one case's outcome is judged. The oracle: a case either succeeds with a
// well-formed result or throws a RecsysError with a known code; anything else is a finding.
import { RecsysError, type Recommendation } from '../../ts/index.js';
import type { Gen } from './gen.js';

/** A failure a target detects itself: a silent coercion or a wrong / malformed result. */
export class Finding extends Error {
  constructor(
    readonly kind: 'coercion' | 'wrong',
    message: string,
  ) {
    super(message);
  }
}
export function coercion(message: string): never {
  throw new Finding('coercion', message);
}
export function wrong(message: string): never {
  throw new Finding('wrong', message);
}

export interface Target<C = any, X = any> {
  name: string;
  setup(): X | Promise<X>;
  /** Draws case `index` from g (seeded for this case alone). */
  gen(g: Gen, ctx: X, index: number): C;
  show(c: C): string;
  /**
   * Runs a case: returns on success (optionally a label for the tally, e.g. 'HTTP 404'), throws a RecsysError to
   * refuse it, a Finding for a failure.
   */
  run(c: C, ctx: X): void | string | Promise<void | string>;
}

export const KNOWN_CODES = new Set([
  'E_ARG',
  'E_PARSE',
  'E_IO',
  'E_FORMAT',
  'E_DUPLICATE',
  'E_EMPTY',
  'E_UNKNOWN_USER',
  'E_UNKNOWN_ITEM',
  'E_NOT_FITTED',
  'E_UNSUPPORTED',
  'E_CANCELLED',
  'E_MEMORY',
  'E_STATE',
  'E_PRUNED',
  'E_NATIVE',
]);

/**
 * An E_NATIVE whose message is a leftover of the C++ or N-API layer (a std::bad_alloc, an abort, a type check of
 * node-addon-api) is another exception in disguise: it counts as a non-RecsysError exception.
 */
const LEAKED = /bad_alloc|Aborted\(|^Invalid argument$|napi_|N-API|was expected|std::|length_error|out_of_range|vector::|Maximum call stack/i;

/** 'refused:CODE' for a proper RecsysError, or a description of the foreign exception. */
export function classify(e: unknown): { refused: string } | { exception: string } {
  if (e instanceof RecsysError && KNOWN_CODES.has(e.code) && !(e.code === 'E_NATIVE' && LEAKED.test(e.message))) return { refused: e.code };
  const name = e instanceof RecsysError ? `RecsysError(${e.code})` : ((e as Error)?.constructor?.name ?? typeof e);
  const message = e instanceof Error ? e.message : String(e);
  const at =
    e instanceof Error
      ? (e.stack ?? '')
          .split('\n')
          .slice(1, 4)
          .map((s) => s.trim())
          .join(' | ')
      : '';
  return { exception: `${name}: ${message}${at ? ` [${at}]` : ''}` };
}

/**
 * A well-formed recommendation list: an array of at most k { item, score } with items the model knows, no
 * repeats, none of `forbidden`, all of `allowed` (when given), and finite, non-increasing scores.
 */
export function checkRecs(
  recs: unknown,
  o: { k?: number; has: (id: any) => boolean; forbidden?: Iterable<unknown>; allowed?: Iterable<unknown>; what?: string },
): Recommendation[] {
  const what = o.what ?? 'result';
  if (!Array.isArray(recs)) wrong(`${what} is not an array`);
  const list = recs as Recommendation[];
  if (o.k !== undefined && list.length > o.k) wrong(`${what} has ${list.length} items for k=${o.k}`);
  const seen = new Set<unknown>();
  const forbidden = new Set(o.forbidden ?? []);
  const allowed = o.allowed ? new Set(o.allowed) : undefined;
  let last = Infinity;
  for (const [j, r] of list.entries()) {
    if (r === null || typeof r !== 'object') wrong(`${what}[${j}] is not an object`);
    if (typeof r.score !== 'number' || !Number.isFinite(r.score)) wrong(`${what}[${j}].score is ${r.score} (not finite)`);
    if (!o.has(r.item)) wrong(`${what}[${j}].item ${JSON.stringify(r.item)} is not an item of the model`);
    if (seen.has(r.item)) wrong(`${what} repeats item ${JSON.stringify(r.item)}`);
    if (forbidden.has(r.item)) wrong(`${what} contains excluded item ${JSON.stringify(r.item)}`);
    if (allowed && !allowed.has(r.item)) wrong(`${what} contains item ${JSON.stringify(r.item)} outside include`);
    if (r.score > last + 1e-6 * Math.max(1, Math.abs(last))) wrong(`${what} is not sorted by score at ${j}`);
    seen.add(r.item);
    last = r.score;
  }
  return list;
}

/** A valid k (a positive integer) or undefined when the value is not one. */
export const validK = (k: unknown): number | undefined => (typeof k === 'number' && Number.isInteger(k) && k > 0 ? k : undefined);

/** Runs f with a deadline: an AbortSignal that fires after ms (for fitAsync). */
export function deadline(ms: number): AbortSignal {
  return AbortSignal.timeout(ms);
}
