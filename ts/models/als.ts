import { syncAnn, syncAnnAsync, withAnn, type AnnParams } from './ann.js';
import { RecsysError, argError, native, nativeAsync } from '../errors.js';
import { Dataset, csrOf, cscOf, isSealed } from '../data/dataset.js';
import type { Id } from '../data/idmap.js';
import { addon, type FitOptionsNative, type NativeModel } from '../native.js';
import { FactorRecommender, type CommonParams, type ModelTask } from './base.js';
import { resolveParams, type ModelSpec } from './params.js';

export interface ImplicitALSParams extends CommonParams, AnnParams {
  /** Latent factors. Default 64. */
  factors?: number;
  /** L2 regularization added to every least-squares system (not scaled by counts, as in implicit). Default 0.01. */
  reg?: number;
  /**
   * Confidence of an observed value r is 1 + alpha * |r| (Hu et al.); unobserved pairs have confidence 1.
   * Default 1. (implicit uses alpha * r instead: its alpha = a on binary data is our alpha = a - 1.)
   */
  alpha?: number;
  /** Sweeps (users, then items). Default 15. */
  iterations?: number;
  /**
   * 'cg': a few conjugate-gradient steps warm-started from the last vector (fast); 'cholesky': exact; 'block': the
   * iALS++ subspace solver (Rendle et al. 2021), exact solves over `blockSize` coordinates at a time, warm-started
   * (for many factors: 256 and up). Default 'cg'.
   */
  solver?: 'cg' | 'cholesky' | 'block';
  /** CG steps per vector and sweep. Default 3. */
  cgSteps?: number;
  /** Coordinates per block of the 'block' solver (capped at factors). Default 32 (measured fastest at 256 factors). */
  blockSize?: number;
  /** Passes over the blocks per vector and sweep ('block' solver). Default 1. */
  blockSweeps?: number;
  /**
   * Frequency-scaled regularization (Rendle et al. 2021, "Revisiting the performance of iALS"): a user with n items
   * gets reg * (n + regUnobserved * items)^regExponent, an item likewise with its users. 0 (default) keeps the
   * plain reg on every row. The paper's nu.
   */
  regExponent?: number;
  /**
   * The paper's alpha_0 in the frequency scaling above (the weight of an unobserved pair relative to an observed
   * one); read only when regExponent > 0. Default 1 (our loss weighs every unobserved pair 1).
   */
  regUnobserved?: number;
  /** Treat every interaction as r = 1 (ignore ratings / counts). Default false. */
  binary?: boolean;
  /** Report the weighted training loss after each iteration through onProgress (costs about one CG step). Default false. */
  computeLoss?: boolean;
}

const spec: ModelSpec = {
  params: {
    factors: { int: [1, 4096], default: 64 },
    reg: { real: [0, 1e12], default: 0.01 },
    alpha: { real: [0, 1e12], default: 1 },
    iterations: { int: [0, 100000], default: 15 },
    solver: { oneOf: ['cg', 'cholesky', 'block'], default: 'cg' },
    cgSteps: { int: [1, 1000], default: 3 },
    blockSize: { int: [1, 4096], default: 32 },
    blockSweeps: { int: [1, 1000], default: 1 },
    regExponent: { real: [0, 4], default: 0 },
    regUnobserved: { real: [0, 1e12], default: 1 },
    binary: { bool: true, default: false },
    computeLoss: { bool: true, default: false, state: false },
  },
};

export interface PartialFitOptions {
  /** Known users whose interactions changed: their vectors are recomputed too. New users always are. */
  users?: readonly Id[];
  /** Known items whose interactions changed: recomputed too. New items always are. */
  items?: readonly Id[];
}

/**
 * Alternating least squares for implicit feedback (Hu, Koren, Volinsky 2008) with the conjugate-gradient solver
 * of Takacs et al. (as in implicit), float32 factors, parallel over users and items. Fold-in of a new user
 * solves that user's weighted least-squares problem exactly; partialFit adds users and items without a refit.
 */
export class ImplicitALS extends FactorRecommender<ImplicitALSParams> {
  readonly name = 'ImplicitALS';
  readonly tasks: readonly ModelTask[] = ['ranking'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'ImplicitALS';
  }
  constructor(params: ImplicitALSParams = {}) {
    super(resolveParams('ImplicitALS', params, withAnn(spec)));
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return addon.fitImplicitALS(csrOf(train), cscOf(train), this.nativeParams(train), run);
  }

  // Checks partialFit's input; the returned call runs the native solve (sync or on a worker per `run`).
  private partialArgs(data: Dataset, options: PartialFitOptions): (run: FitOptionsNative) => NativeModel | Promise<NativeModel> {
    const h = this.nativeModel;
    const old = this.trainData;
    if (!(data instanceof Dataset)) throw argError('partialFit expects a Dataset');
    if (data.nnz === 0) throw new RecsysError('E_EMPTY', 'cannot fit on an empty dataset');
    if (options === null || typeof options !== 'object') throw argError('partialFit options must be an object');
    const userOld = old.users.indicesOf(data.users.ids);
    const itemOld = old.items.indicesOf(data.items.ids);
    const lookup = (ids: readonly Id[] | undefined, map: Dataset['users'], what: string) => {
      if (ids === undefined) return new Int32Array(0);
      if (!Array.isArray(ids)) throw argError(`partialFit: ${what} must be an array of ids`);
      const idx = map.indicesOf(ids);
      const bad = idx.findIndex((v) => v < 0);
      if (bad >= 0)
        throw new RecsysError(
          what === 'users' ? 'E_UNKNOWN_USER' : 'E_UNKNOWN_ITEM',
          `partialFit: ${what}[${bad}] = ${JSON.stringify(ids[bad])} is not in the data`,
        );
      return idx;
    };
    const ru = lookup(options.users, data.users, 'users');
    const ri = lookup(options.items, data.items, 'items');
    // The index is carried over (updated, not rebuilt) unless the options want exact top-K only.
    const ann = (this.params.ann ?? 'auto') !== 'exact';
    return (run) => addon.alsPartialFit(h, data.csr, data.csc, userOld, itemOld, ru, ri, { threads: this.params.threads ?? 0, ann }, run);
  }

  /**
   * Updates the model to `data` (the full, updated interactions; its id maps may add users and items) without a
   * refit: users and items the model does not know, and those listed in `options`, get their vectors solved
   * exactly with every other vector fixed; the rest keep theirs. Afterwards the model serves `data`'s ids.
   * An approximate index (ann options) comes along: the old graph copied, the re-solved items updated in it and the
   * new ones inserted; without an old index, one is built when the options want one for the new catalogue size.
   */
  partialFit(data: Dataset, options: PartialFitOptions = {}): this {
    const h = this.partialArgs(data, options)({ async: false });
    if (h instanceof Promise) throw new RecsysError('E_STATE', 'alsPartialFit returned a promise for a sync call');
    syncAnn(h, this.params);
    this.handle = h;
    this.trainSet = data;
    return this;
  }

  /**
   * partialFit on a worker thread of the addon (the event loop stays free): the same vectors as partialFit. The
   * model keeps serving its old state until the promise resolves; then the new one replaces it in one assignment.
   */
  async partialFitAsync(data: Dataset, options: PartialFitOptions = {}): Promise<this> {
    const call = this.partialArgs(data, options);
    const h = await nativeAsync(Promise.resolve(native(() => call({ async: true, sealed: isSealed(data) }))));
    // A fresh build, when one is needed, also runs on the worker: the old model keeps serving until the swap.
    await syncAnnAsync(h, this.params);
    this.handle = h;
    this.trainSet = data;
    return this;
  }
}
