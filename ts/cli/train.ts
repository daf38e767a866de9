// `recsys train`: read interactions, fit a model of the registry (progress bar on a terminal), save it to a file.
import { statSync } from 'node:fs';
import { RecsysError, argError } from '../errors.js';
import { readModelInfo } from '../io/load.js';
import { parseArgs, intOption } from './args.js';
import { DATA_USAGE, fmtBytes, modelByName, parseSets, progressBar, readData } from './common.js';

export const trainUsage = [
  'recsys train --data PATH --model NAME --out FILE [options]',
  ...DATA_USAGE,
  '  --model NAME         a model of the registry (recsys train --list shows them; als = ImplicitALS, svd = BiasedMF)',
  '  --set KEY=VALUE      a model parameter (repeatable), e.g. --set factors=64 --set reg=0.05',
  '  --threads N          fit threads (0 = all)',
  '  --seed N             random seed',
  '  --out FILE           where to write the model (atomically: an existing file survives a failed run)',
  '  --list               list the models and exit',
  '  --json               print the summary as JSON',
].join('\n');

export async function trainCommand(args: string[]): Promise<void> {
  const { opts, lists, positionals } = parseArgs(args, {
    flags: ['json', 'list', 'header'],
    values: ['data', 'format', 'delimiter', 'columns', 'model', 'out', 'threads', 'seed'],
    lists: ['set'],
  });
  if (positionals.length) throw argError(`unexpected argument '${positionals[0]}'`);
  if (opts.list) {
    const { models } = await import('../models/registry.js');
    const rows = models.map((m) => ({ name: m.name, tasks: m.tasks, needsRatings: m.needsRatings }));
    console.log(
      opts.json
        ? JSON.stringify(rows, null, 2)
        : rows.map((r) => `${r.name.padEnd(14)} ${r.tasks.join(', ')}${r.needsRatings ? ' (needs ratings)' : ''}`).join('\n'),
    );
    return;
  }
  if (typeof opts.model !== 'string') throw argError('--model NAME is required (recsys train --list shows the models)');
  if (typeof opts.out !== 'string') throw argError('--out FILE is required');
  const entry = modelByName(opts.model);
  const params = parseSets(lists.set);
  if (opts.threads !== undefined) params.threads = intOption(opts.threads, 'threads', 0);
  if (opts.seed !== undefined) params.seed = intOption(opts.seed, 'seed', 42);
  const model = entry.create(params); // checks the parameters before the data is read

  const t0 = performance.now();
  const data = await readData(opts);
  const readSeconds = (performance.now() - t0) / 1000;
  if (entry.needsRatings && !data.hasRatings) throw new RecsysError('E_ARG', `${entry.name} needs ratings; the data has none`);
  if (!opts.json) console.error(`data: ${data.nUsers} users, ${data.nItems} items, ${data.nnz} interactions (read in ${readSeconds.toFixed(1)} s)`);

  const bar = progressBar(`fitting ${entry.name}`);
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  const t1 = performance.now();
  try {
    await model.fitAsync(data, { onProgress: bar.onProgress, signal: abort.signal });
  } finally {
    bar.done();
    process.removeListener('SIGINT', onSigint);
  }
  const fitSeconds = (performance.now() - t1) / 1000;
  model.save(opts.out);
  const info = readModelInfo(opts.out);
  const summary = {
    model: entry.name,
    params: model.params,
    out: opts.out,
    bytes: statSync(opts.out).size,
    checksum: info.checksum,
    users: data.nUsers,
    items: data.nItems,
    interactions: data.nnz,
    readSeconds,
    fitSeconds,
  };
  if (opts.json) console.log(JSON.stringify(summary, null, 2));
  else console.log(`trained ${entry.name} in ${fitSeconds.toFixed(1)} s -> ${opts.out} (${fmtBytes(summary.bytes)}, ${info.checksum})`);
}
