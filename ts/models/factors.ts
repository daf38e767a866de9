import { RecsysError, argError, native } from '../errors.js';
import { Dataset } from '../data/dataset.js';
import { IdMap, type Id } from '../data/idmap.js';
import { addon, type FitOptionsNative, type NativeModel } from '../native.js';
import { FactorRecommender, type CommonParams } from './base.js';

export interface FromFactorsInput {
  /** External user ids, one per row of userFactors (or an IdMap). */
  users: readonly Id[] | IdMap;
  /** External item ids, one per row of itemFactors (or an IdMap). */
  items: readonly Id[] | IdMap;
  factors: number;
  /** users x factors, row-major. */
  userFactors: Float32Array;
  /** items x factors, row-major. */
  itemFactors: Float32Array;
  userBias?: Float32Array;
  itemBias?: Float32Array;
  globalBias?: number;
  /** Interactions to leave out of recommendations (its id maps must be the same objects). */
  seen?: Dataset;
  threads?: number;
}

/**
 * A factor model whose vectors were fitted elsewhere (Spark MLlib, a deep model's embeddings, another
 * library): score(u, i) = global + b_u + b_i + <p_u, q_i>, served with the native top-K like any model here.
 */
export class FactorModel extends FactorRecommender<CommonParams> {
  readonly name = 'FactorModel';

  constructor(params: CommonParams = {}) {
    super(params);
  }

  protected fitNative(_train: Dataset, _run: FitOptionsNative): NativeModel {
    throw new RecsysError('E_UNSUPPORTED', 'FactorModel holds vectors fitted elsewhere; build it with FactorModel.fromFactors()');
  }

  static fromFactors(input: FromFactorsInput): FactorModel {
    if (input === null || typeof input !== 'object') throw argError('fromFactors expects an options object');
    const users = input.users instanceof IdMap ? input.users : IdMap.build(input.users, 'users').map;
    const items = input.items instanceof IdMap ? input.items : IdMap.build(input.items, 'items').map;
    if (users.size !== (input.users instanceof IdMap ? input.users.size : input.users.length)) throw argError('users has repeated ids');
    if (items.size !== (input.items instanceof IdMap ? input.items.size : input.items.length)) throw argError('items has repeated ids');
    if (!Number.isInteger(input.factors) || input.factors < 0) throw argError(`factors must be a non-negative integer, got ${input.factors}`);
    const seen = input.seen ?? Dataset.fromCoo(users, items, new Int32Array(0), new Int32Array(0));
    if (seen.users !== users && seen.nUsers !== users.size) throw argError('seen must use the same user ids');
    const handle = native(() =>
      addon.createFactorModel({
        users: users.size,
        items: items.size,
        factors: input.factors,
        userFactors: input.userFactors,
        itemFactors: input.itemFactors,
        userBias: input.userBias,
        itemBias: input.itemBias,
        global: input.globalBias ?? 0,
      }),
    );
    const m = new FactorModel({ threads: input.threads });
    m.handle = handle;
    m.trainSet = seen;
    return m;
  }
}
