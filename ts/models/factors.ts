import { RecsysError, argError, show } from '../errors.js';
import { Dataset } from '../data/dataset.js';
import { IdMap, type Id } from '../data/idmap.js';
import { addon, type FitOptionsNative, type NativeModel } from '../native.js';
import { FactorRecommender, type CommonParams, type ModelTask } from './base.js';
import { resolveParams } from './params.js';
import { withAnn, type AnnParams } from './ann.js';

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
  /**
   * Approximate top-K over the item factors (ann, annThreshold, annM, annEfConstruction, annEfSearch; see
   * AnnParams). With 'hnsw', or 'auto' and at least annThreshold items, the index is built here.
   */
  annOptions?: AnnParams & { seed?: number };
  /** How recommendForNewUser folds a new user in; absent = no fold-in (E_UNSUPPORTED). */
  foldIn?: LeastSquaresFoldIn;
}

/**
 * Fold-in by the least-squares problem of the ALS that fitted the factors, solved against the item factors V:
 * explicit (V_S^T V_S + reg' I) x = V_S^T r over the user's items S; implicit (Hu et al.)
 * (V^T V + sum c v v^T + reg' I) x = sum_{r > 0} (1 + c) v with c = alpha |r|. reg' = reg times the number of
 * (positive) interactions when scaleReg, as Spark MLlib's ALS does, else reg (as implicit's ALS does).
 */
export interface LeastSquaresFoldIn {
  /** Implicit-feedback ALS. Default false (explicit ratings). */
  implicit?: boolean;
  /** Confidence scale of implicit feedback. Default 1. */
  alpha?: number;
  /** Regularization (Spark's regParam). */
  reg: number;
  /** Scale reg by the number of (positive) interactions. Default true. */
  scaleReg?: boolean;
}

/**
 * A factor model whose vectors were fitted elsewhere (Spark MLlib, a deep model's embeddings, another
 * library): score(u, i) = global + b_u + b_i + <p_u, q_i>, served with the native top-K like any model here.
 */
export class FactorModel extends FactorRecommender<CommonParams & AnnParams> {
  readonly name = 'FactorModel';
  readonly tasks: readonly ModelTask[] = ['rating', 'ranking'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'FactorModel';
  }

  constructor(params: CommonParams & AnnParams = {}) {
    super(resolveParams('FactorModel', params, withAnn({ params: {} })));
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
    if (!Number.isInteger(input.factors) || input.factors < 0) throw argError(`factors must be a non-negative integer, got ${show(input.factors)}`);
    const seen = input.seen ?? Dataset.fromCoo(users, items, new Int32Array(0), new Int32Array(0));
    if (seen.users !== users && seen.nUsers !== users.size) throw argError('seen must use the same user ids');
    const f = input.foldIn;
    if (f !== undefined) {
      if (f === null || typeof f !== 'object') throw argError('foldIn must be { implicit?, alpha?, reg, scaleReg? }');
      if (typeof f.reg !== 'number' || !(f.reg >= 0) || !Number.isFinite(f.reg)) throw argError(`foldIn.reg must be a finite number >= 0, got ${show(f.reg)}`);
      if (f.alpha !== undefined && (typeof f.alpha !== 'number' || !(f.alpha >= 0) || !Number.isFinite(f.alpha)))
        throw argError(`foldIn.alpha must be a finite number >= 0, got ${show(f.alpha)}`);
      if (f.implicit !== undefined && typeof f.implicit !== 'boolean') throw argError('foldIn.implicit must be a boolean');
      if (f.scaleReg !== undefined && typeof f.scaleReg !== 'boolean') throw argError('foldIn.scaleReg must be a boolean');
      if (input.factors < 1) throw argError('foldIn needs factors >= 1');
    }
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the addon's functions do not use `this`
    const create = f === undefined ? addon.createFactorModel : addon.createFoldInFactorModel;
    const handle = create({
      users: users.size,
      items: items.size,
      factors: input.factors,
      userFactors: input.userFactors,
      itemFactors: input.itemFactors,
      userBias: input.userBias,
      itemBias: input.itemBias,
      global: input.globalBias ?? 0,
      kind: 'FactorModel',
      ...(f === undefined ? {} : { implicit: f.implicit ?? false, alpha: f.alpha ?? 1, reg: f.reg, scaleReg: f.scaleReg ?? true }),
    });
    const ann = input.annOptions;
    if (ann !== undefined && (ann === null || typeof ann !== 'object' || Array.isArray(ann))) throw argError('annOptions must be an object');
    const m = new FactorModel({ threads: input.threads, ...ann });
    m.handle = handle;
    m.trainSet = seen;
    m.prepareServing();
    return m;
  }
}
