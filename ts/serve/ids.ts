// External ids arrive as text (URL paths, query strings) or JSON values; a model's ids may be numbers, strings or
// both. The id rule lives in IdMap.index / IdMap.resolve (ts/data/idmap.ts): the value as given first, then its
// other form ("42" <-> 42, canonical decimals only, so "042" never matches 42). These are the server's names for it.
import type { Id, IdMap } from '../data/idmap.js';

/** The id as the model knows it, or undefined when the model does not know it in either form. */
export function resolveId(map: IdMap, raw: Id): Id | undefined {
  return map.resolve(raw);
}

/** Ids the model knows, each in the form it knows (unknown ones dropped). */
export function resolveIds(map: IdMap, raw: readonly Id[]): Id[] {
  const out: Id[] = [];
  for (const r of raw) {
    const id = map.resolve(r);
    if (id !== undefined) out.push(id);
  }
  return out;
}
