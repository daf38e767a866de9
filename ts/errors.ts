/** Error codes every recsys function may throw; branch on `err.code`. */
export type RecsysErrorCode =
  | 'E_ARG' // a bad argument or option (names the argument)
  | 'E_PARSE' // a malformed input file (message has path:line)
  | 'E_IO' // a file could not be read or written
  | 'E_FORMAT' // a model file that is corrupt, truncated, of another format version or not a model file
  | 'E_DUPLICATE' // duplicate (user, item) pairs with duplicates: 'error'
  | 'E_EMPTY' // an empty dataset or split where data is needed
  | 'E_UNKNOWN_USER' // a user id the model or dataset does not know
  | 'E_UNKNOWN_ITEM' // an item id the model or dataset does not know
  | 'E_NOT_FITTED' // a model used before fit
  | 'E_UNSUPPORTED' // the model cannot do this (e.g. no fold-in)
  | 'E_DEPENDENCY' // an optional package this needs is not installed (message has the npm install line)
  | 'E_CANCELLED' // an async fit stopped by its AbortSignal
  | 'E_MEMORY' // an allocation would not fit
  | 'E_PRUNED' // events a replay needs were deleted from the event log's archive by its retention
  | 'E_STATE' // an internal state that should not happen
  | 'E_NATIVE'; // any other native failure

/** The one error type of recsys. `code` is stable; `message` is for people. */
export class RecsysError extends Error {
  readonly code: RecsysErrorCode;
  constructor(code: RecsysErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RecsysError';
    this.code = code;
  }
}

/** A value as text for an error message; never throws (String() does, for objects with a broken toString). */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  try {
    return JSON.stringify(v) ?? Object.prototype.toString.call(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

export function argError(message: string): RecsysError {
  return new RecsysError('E_ARG', message);
}

/** Re-throws an error from the native addon (an Error with .code) as a RecsysError. */
export function fromNative(err: unknown): RecsysError {
  if (err instanceof RecsysError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' && e.code.startsWith('E_') ? (e.code as RecsysErrorCode) : 'E_NATIVE';
  return new RecsysError(code, typeof e?.message === 'string' ? e.message : String(err), { cause: err });
}

/** Runs a native call, converting its errors. */
export function native<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw fromNative(err);
  }
}

/** Awaits a native promise, converting its rejection. */
export async function nativeAsync<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw fromNative(err);
  }
}
