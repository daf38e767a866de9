// `recsys recommend` and `recsys similar`: answers from a saved model file.
import { argError, show } from '../errors.js';
import { resolveId, resolveIds } from '../serve/ids.js';
import { loadModel } from '../io/load.js';
import type { Recommendation } from '../models/base.js';
import { intOption, parseArgs } from './args.js';
import { cliId, splitIds, table } from './common.js';

export const recommendUsage = [
  'recsys recommend --model FILE (--user ID [--user ID ...] | --items ID,ID,...) [options]',
  '  --model FILE         a model saved by recsys train (or model.save)',
  '  --user ID            a user the model was trained on (repeatable)',
  '  --items ID,...       items a new user interacted with (fold-in), instead of --user; unknown ids are',
  '                       ignored (named on stderr); none known is an error (E_UNKNOWN_ITEM) unless --fallback popularity',
  '  --fallback popularity  with --items: when none is known, the most popular items (flagged in the output)',
  '  --k N                how many items (default 10)',
  '  --exclude ID,...     items never to recommend',
  '  --include-seen       keep items the user already interacted with',
  '  --json               print JSON',
].join('\n');

export const similarUsage = [
  'recsys similar --model FILE --item ID [--k N] [--json]',
  '  --model FILE         a model saved by recsys train (or model.save)',
  '  --item ID            the item to find neighbours of',
  '  --k N                how many items (default 10)',
  '  --json               print JSON',
].join('\n');

function print(json: boolean, title: string, list: Recommendation[]): void {
  if (json) return;
  console.log(title);
  console.log(
    table(
      ['rank', 'item', 'score'],
      list.map((r, j) => [String(j + 1), String(r.item), r.score.toFixed(4)]),
    ),
  );
}

export async function recommendCommand(args: string[]): Promise<void> {
  const { opts, lists, positionals } = parseArgs(args, {
    flags: ['json', 'include-seen'],
    values: ['model', 'items', 'k', 'exclude', 'fallback'],
    lists: ['user'],
  });
  if (positionals.length) throw argError(`unexpected argument '${positionals[0]}'`);
  if (typeof opts.model !== 'string') throw argError('--model FILE is required');
  const users = lists.user ?? [];
  const items = splitIds(opts.items);
  if (users.length === 0 && !items) throw argError('give --user ID or --items ID,...');
  if (users.length && items) throw argError('give either --user or --items, not both');
  const fallback = opts.fallback;
  if (fallback !== undefined && (fallback !== 'popularity' || !items))
    throw argError(`--fallback takes 'popularity' and goes with --items, got ${show(fallback)}`);
  const model = loadModel(opts.model);
  const k = intOption(opts.k, 'k', 10, 1);
  const json = opts.json === true;
  const exclude = (splitIds(opts.exclude) ?? []).map((e) => {
    try {
      return cliId(model.trainData.items, e, 'item');
    } catch {
      return e; // unknown items cannot be recommended anyway
    }
  });
  const o = { k, exclude, filterSeen: opts['include-seen'] !== true };
  if (items) {
    // The API's rule: unknown items are ignored; none known is E_UNKNOWN_ITEM unless the fallback is asked for.
    const known = resolveIds(model.trainData.items, items);
    const unknown = items.filter((i) => resolveId(model.trainData.items, i) === undefined);
    if (unknown.length && known.length)
      console.error(`recsys: ignoring ${unknown.length} unknown item(s): ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', ...' : ''}`);
    const list = model.recommendForNewUser({ items: known }, { ...o, fallback: fallback === 'popularity' ? 'popularity' : 'error' });
    const fell = known.length === 0;
    if (json) console.log(JSON.stringify(fell ? { items: list, fallback: 'popularity' } : { items: list }, null, 2));
    print(
      json,
      fell
        ? `top ${k} most popular items: none of the given items is known (${model.name}, popularity fallback)`
        : `top ${k} for a new user with ${known.length} items (${model.name})`,
      list,
    );
    return;
  }
  const out = users.map((u) => {
    const id = cliId(model.trainData.users, u, 'user');
    return { user: id, items: model.recommend(id, o) };
  });
  if (json) console.log(JSON.stringify(out.length === 1 ? out[0] : out, null, 2));
  for (const r of out) print(json, `top ${k} for user ${String(r.user)} (${model.name})`, r.items);
}

export async function similarCommand(args: string[]): Promise<void> {
  const { opts, positionals } = parseArgs(args, { flags: ['json'], values: ['model', 'item', 'k'] });
  if (positionals.length) throw argError(`unexpected argument '${positionals[0]}'`);
  if (typeof opts.model !== 'string') throw argError('--model FILE is required');
  if (typeof opts.item !== 'string') throw argError('--item ID is required');
  const model = loadModel(opts.model);
  const k = intOption(opts.k, 'k', 10, 1);
  const id = cliId(model.trainData.items, opts.item, 'item');
  const list = model.similarItems(id, k);
  if (opts.json) console.log(JSON.stringify({ item: id, items: list }, null, 2));
  else print(false, `${k} items most similar to ${String(id)} (${model.name})`, list);
}
