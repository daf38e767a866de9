// External ids arrive as text (URL paths, query strings) or JSON values; a model's ids may be numbers, strings or
// both. resolveId finds the id the model knows: the value as given first, then its other form ("42" <-> 42, only
// for canonical integers and decimals, so "042" never matches 42).
import type { Id, IdMap } from '../data/idmap.js';

const CANONICAL_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$/;

/** The id as the model knows it, or undefined when the model does not know it in either form. */
export function resolveId(map: IdMap, raw: Id): Id | undefined {
  if (map.index(raw) >= 0) return raw;
  if (typeof raw === 'string') {
    if (raw.length <= 24 && CANONICAL_NUMBER.test(raw)) {
      const n = Number(raw);
      if (String(n) === raw && map.index(n) >= 0) return n;
    }
    return undefined;
  }
  if (typeof raw === 'number' && Number.isFinite(raw)) {
    const s = String(raw);
    if (map.index(s) >= 0) return s;
  }
  return undefined;
}

/** Ids the model knows, each in the form it knows (unknown ones dropped). */
export function resolveIds(map: IdMap, raw: readonly Id[]): Id[] {
  const out: Id[] = [];
  for (const r of raw) {
    const id = resolveId(map, r);
    if (id !== undefined) out.push(id);
  }
  return out;
}
