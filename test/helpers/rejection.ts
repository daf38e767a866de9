import { expect } from 'vitest';
import { RecsysError } from '../../ts/index.js';

/** Awaits a promise that must reject with a RecsysError and returns the error (to check code and message). */
export async function rejection(p: Promise<unknown>): Promise<RecsysError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RecsysError);
    return err as RecsysError;
  }
  throw new Error('expected a rejection');
}

/** The RecsysError that f must throw (failing the test if it throws anything else or nothing). */
export function thrown(f: () => unknown): RecsysError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RecsysError);
    return e as RecsysError;
  }
  throw new Error('expected a RecsysError');
}

/** The code of the RecsysError that f throws (failing the test if it throws anything else), or undefined. */
export function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RecsysError);
    return (e as RecsysError).code;
  }
  return undefined;
}

/** For fuzzing: f either works or throws a RecsysError whose code is E_SOMETHING — never another error. */
export function typedOrFine(f: () => unknown): void {
  const c = code(f);
  if (c !== undefined) expect(c).toMatch(/^E_[A-Z_]+$/);
}

/** typedOrFine for a function whose promise may reject. */
export async function typedOrFineAsync(f: () => unknown): Promise<void> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(RecsysError);
    expect((e as RecsysError).code).toMatch(/^E_[A-Z_]+$/);
  }
}
