// `recsys evaluate`: fit a model on a split of the data and evaluate it, or evaluate a saved model on a test file.
import { existsSync, statSync } from 'node:fs';
import { argError } from '../errors.js';
import type { Dataset } from '../data/dataset.js';
import { leaveLastK, perUserSplit, randomSplit, timeSplit } from '../data/split.js';
import { evaluate, type MetricName } from '../eval/evaluate.js';
import { loadModel } from '../io/load.js';
import type { Recommender } from '../models/base.js';
import { intOption, parseArgs } from './args.js';
import { DATA_USAGE, modelByName, parseSets, progressBar, readData, table } from './common.js';

export const evaluateUsage = [
  'recsys evaluate --model NAME|FILE (--data PATH [--split S] | --test PATH [--data PATH]) [options]',
  '  --model NAME         fit this model (see recsys train --list) on the training part, or',
  '  --model FILE         evaluate a saved model (then --test PATH is the test file)',
  ...DATA_USAGE,
  '  --test PATH          test interactions (same format options); without it --data is split',
  '  --split S            per-user (default) | random | time | leave-last',
  '  --test-fraction F    share of interactions in the test part (default 0.2; leave-last: --k-last N)',
  '  --k-last N           leave-last: test items per user (default 1)',
  '  --set KEY=VALUE      a model parameter (repeatable)',
  '  --k K[,K...]         ranking cutoffs (default 10)',
  "  --metrics M,...      e.g. rmse,mae,precision,recall,ndcg,map,auc,coverage (default: from the model's task:",
  '                       rmse,mae for rating models, precision,recall,ndcg,map for ranking models, both for both)',
  '  --threads N  --seed N  --json',
].join('\n');

function split(data: Dataset, kind: string, fraction: number, kLast: number, seed: number): { train: Dataset; test: Dataset } {
  switch (kind) {
    case 'per-user':
      return perUserSplit(data, { testFraction: fraction, seed });
    case 'random':
      return randomSplit(data, { testFraction: fraction, seed });
    case 'time':
      return timeSplit(data, { testFraction: fraction });
    case 'leave-last':
      return leaveLastK(data, { k: kLast });
    default:
      throw argError(`--split must be per-user, random, time or leave-last, got ${kind}`);
  }
}

export async function evaluateCommand(args: string[]): Promise<void> {
  const { opts, lists, positionals } = parseArgs(args, {
    flags: ['json', 'header'],
    values: ['data', 'test', 'format', 'delimiter', 'columns', 'model', 'split', 'test-fraction', 'k-last', 'k', 'metrics', 'threads', 'seed'],
    lists: ['set'],
  });
  if (positionals.length) throw argError(`unexpected argument '${positionals[0]}'`);
  if (typeof opts.model !== 'string') throw argError('--model NAME or FILE is required');
  const seed = intOption(opts.seed, 'seed', 42);
  const threads = intOption(opts.threads, 'threads', 0);
  const ks = typeof opts.k === 'string' ? opts.k.split(',').map((k) => intOption(k, 'k', 10, 1)) : [10];
  const metrics = typeof opts.metrics === 'string' ? (opts.metrics.split(',') as MetricName[]) : undefined;
  const fraction = typeof opts['test-fraction'] === 'string' ? Number(opts['test-fraction']) : 0.2;
  if (!(fraction > 0 && fraction < 1)) throw argError('--test-fraction must be a number in (0, 1)');
  const json = opts.json === true;

  let model: Recommender;
  let test: Dataset;
  let fitSeconds: number | undefined;
  const isFile = existsSync(opts.model) && statSync(opts.model).isFile();
  if (isFile) {
    if (lists.set) throw argError('--set applies when fitting a model, not to a saved one');
    model = loadModel(opts.model);
    if (typeof opts.test !== 'string') throw argError('a saved model is evaluated on --test PATH');
    test = await readData(opts, 'test', { users: model.trainData.users, items: model.trainData.items });
  } else {
    const entry = modelByName(opts.model);
    const params = parseSets(lists.set);
    if (opts.threads !== undefined) params.threads = threads;
    if (opts.seed !== undefined) params.seed = seed;
    model = entry.create(params);
    const data = await readData(opts);
    let train: Dataset;
    if (typeof opts.test === 'string') {
      train = data;
      test = await readData(opts, 'test', { users: data.users, items: data.items });
      train = train.withIdMaps(test.users, test.items);
    } else {
      ({ train, test } = split(data, typeof opts.split === 'string' ? opts.split : 'per-user', fraction, intOption(opts['k-last'], 'k-last', 1, 1), seed));
    }
    const bar = progressBar(`fitting ${entry.name}`);
    const t = performance.now();
    try {
      await model.fitAsync(train, { onProgress: bar.onProgress });
    } finally {
      bar.done();
    }
    fitSeconds = (performance.now() - t) / 1000;
  }
  const t = performance.now();
  const result = evaluate(model, test, { k: ks, metrics, threads, seed });
  const testSeconds = (performance.now() - t) / 1000;
  if (json) {
    console.log(JSON.stringify({ model: model.name, params: model.params, fitSeconds, testSeconds, metrics: result }, null, 2));
    return;
  }
  console.log(
    `${model.name}: ${test.nnz} test interactions${fitSeconds !== undefined ? `, fit ${fitSeconds.toFixed(1)} s` : ''}, evaluated in ${testSeconds.toFixed(2)} s`,
  );
  console.log(
    table(
      ['metric', 'value'],
      Object.entries(result).map(([k, v]) => [k, Number.isInteger(v) ? String(v) : v.toFixed(4)]),
    ),
  );
}
