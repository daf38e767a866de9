import { argError, show } from '../errors.js';

/** Minimal option parsing: --flag, --key value, --key=value; the rest are positionals. Options in `lists` may repeat. */
export function parseArgs(
  args: string[],
  spec: { flags?: string[]; values?: string[]; lists?: string[] },
): { opts: Record<string, string | boolean>; positionals: string[]; lists: Record<string, string[]> } {
  const flags = new Set(spec.flags ?? []);
  const values = new Set([...(spec.values ?? []), ...(spec.lists ?? [])]);
  const listKeys = new Set(spec.lists ?? []);
  const lists: Record<string, string[]> = {};
  const opts: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const key = a.slice(2, eq < 0 ? undefined : eq);
    if (flags.has(key)) {
      if (eq >= 0) throw argError(`--${key} takes no value`);
      opts[key] = true;
    } else if (values.has(key)) {
      const v = eq >= 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw argError(`--${key} needs a value`);
      if (listKeys.has(key)) (lists[key] ??= []).push(v);
      else opts[key] = v;
    } else {
      throw argError(`unknown option --${key}`);
    }
  }
  return { opts, positionals, lists };
}

export function intOption(v: string | boolean | undefined, name: string, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isInteger(n) || n < min) throw argError(`--${name} must be an integer >= ${min}, got ${show(v)}`);
  return n;
}
