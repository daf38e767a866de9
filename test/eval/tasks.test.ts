// evaluate's default metrics follow what the model is for (its tasks), and rmse / mae of a ranking-only model are
// refused: an ImplicitALS score is not a rating, so "rmse 3.28" was a silent wrong answer (issue 12, item 6).
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { evaluateCommand } from '../../ts/cli/evaluate.js';
import { perUserSplit } from '../../ts/data/split.js';
import { evaluate } from '../../ts/eval/evaluate.js';
import { ImplicitALS } from '../../ts/models/als.js';
import { BaselineOnly, Popularity } from '../../ts/models/baseline.js';
import { KNNBasic } from '../../ts/models/rating_knn.js';
import { models } from '../../ts/models/registry.js';
import { synthetic } from '../helpers/synthetic.js';
import { tempDir } from '../io/helpers.js';
import { thrown } from '../helpers/rejection.js';

const data = synthetic({ users: 40, items: 50, minPerUser: 6, maxPerUser: 14, seed: 5 });
const { train, test } = perUserSplit(data, { testFraction: 0.25, seed: 1 });

describe('every model declares its task', () => {
  it('the registry reads each entry’s tasks from its class', () => {
    for (const m of models) {
      expect(m.tasks.length, m.name).toBeGreaterThan(0);
      expect(m.create().tasks, m.name).toEqual(m.tasks);
    }
    expect(models.find((m) => m.name === 'ImplicitALS')!.tasks).toEqual(['ranking']);
    expect(models.find((m) => m.name === 'NeuMF')!.tasks).toEqual(['ranking']);
    expect(models.find((m) => m.name === 'KNNBasic')!.tasks).toEqual(['rating']);
    expect(models.find((m) => m.name === 'BiasedMF')!.tasks).toEqual(['rating', 'ranking']);
  });
});

describe('evaluate: default metrics follow the task', () => {
  it('a ranking model gets ranking metrics only, even on rated test data', () => {
    const m = new ImplicitALS({ factors: 4, iterations: 3, threads: 1 }).fit(train);
    const r = evaluate(m, test, { threads: 1 });
    expect(Object.keys(r).sort()).toEqual(['map@10', 'ndcg@10', 'precision@10', 'recall@10', 'users']);
    expect(r.rmse).toBeUndefined();
  });

  it('a rating model gets rmse and mae; a model of both tasks gets both', () => {
    const knn = new KNNBasic({ k: 5, threads: 1 }).fit(train);
    expect(Object.keys(evaluate(knn, test, { threads: 1 })).sort()).toEqual(['mae', 'rmse']);
    const b = new BaselineOnly({ threads: 1 }).fit(train);
    expect(Object.keys(evaluate(b, test, { threads: 1 })).sort()).toEqual(['mae', 'map@10', 'ndcg@10', 'precision@10', 'recall@10', 'rmse', 'users']);
  });

  it('rmse or mae of a ranking model is E_ARG that says why', () => {
    const m = new Popularity().fit(train);
    const e = thrown(() => evaluate(m, test, { metrics: ['rmse', 'ndcg'] }));
    expect(e.code).toBe('E_ARG');
    expect(e.message).toMatch(/rmse does not apply to Popularity: it is a ranking model, its scores order items and are not ratings/);
    expect(thrown(() => evaluate(m, test, { metrics: ['mae'] })).code).toBe('E_ARG');
    // Ranking metrics of a rating model stay available on request.
    const knn = new KNNBasic({ k: 5, threads: 1 }).fit(train);
    expect(evaluate(knn, test, { metrics: ['ndcg'], threads: 1 })['ndcg@10']).toBeGreaterThanOrEqual(0);
  });
});

describe('recsys evaluate: the same rule', () => {
  const tmp = tempDir('recsys-eval-tasks-');
  afterAll(() => tmp.remove());
  const path = tmp.path('u.data');
  const { rows, cols, values, times } = data.toCoo();
  writeFileSync(path, Array.from(rows, (r, p) => `${r + 1}\t${cols[p]! + 1}\t${values![p]}\t${times![p]}`).join('\n') + '\n');

  async function run(args: string[]): Promise<string> {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await evaluateCommand(args);
    } finally {
      vi.restoreAllMocks();
    }
    return out.join('\n');
  }

  it('prints no rmse for ImplicitALS by default and refuses --metrics rmse', async () => {
    const r = JSON.parse(await run(['--model', 'als', '--data', path, '--set', 'factors=4', '--set', 'iterations=2', '--threads', '1', '--json']));
    expect(r.metrics.rmse).toBeUndefined();
    expect(r.metrics['ndcg@10']).toEqual(expect.any(Number));
    await expect(run(['--model', 'als', '--data', path, '--metrics', 'rmse', '--threads', '1'])).rejects.toMatchObject({
      code: 'E_ARG',
      message: expect.stringMatching(/rmse does not apply to ImplicitALS: it is a ranking model/),
    });
  });
});
