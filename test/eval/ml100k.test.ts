import { describe, expect, it } from 'vitest';
import { crossValidate } from '../../ts/eval/evaluate.js';
import { BaselineOnly } from '../../ts/models/baseline.js';
import { findDatasetDir, loadMovieLens } from '../../ts/data/movielens.js';

const ml100k = findDatasetDir('ml-100k');
if (!ml100k.dir) console.warn(`skipping the ML-100k checks: ml-100k not found; looked in ${ml100k.searched.join(', ')} (set RECSYS_DATA_DIR)`);

describe.skipIf(!ml100k.dir)('ML-100k published figures', () => {
  it('BaselineOnly, 5-fold KFold: RMSE ~ 0.944, MAE ~ 0.748 (Surprise: 0.9440 / 0.7484)', async () => {
    const ds = await loadMovieLens(ml100k.dir!, { itemInfo: false });
    const cv = crossValidate(() => new BaselineOnly(), ds, { folds: 5, seed: 42, metrics: ['rmse', 'mae'] });
    console.log(
      `ML-100k BaselineOnly 5-fold: RMSE ${cv.mean.rmse!.toFixed(4)} ± ${cv.std.rmse!.toFixed(4)}, MAE ${cv.mean.mae!.toFixed(4)} ± ${cv.std.mae!.toFixed(4)}, fit ${cv.mean.fit_time!.toFixed(3)} s, test ${cv.mean.test_time!.toFixed(3)} s per fold`,
    );
    // Different random folds than Surprise's run: the fold-to-fold spread is about 0.003.
    expect(Math.abs(cv.mean.rmse! - 0.944)).toBeLessThan(0.004);
    expect(Math.abs(cv.mean.mae! - 0.7484)).toBeLessThan(0.004);
  });
});
