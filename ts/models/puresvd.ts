import { withAnn, type AnnParams } from './ann.js';
import { argError, show } from '../errors.js';
import { Dataset, csrOf } from '../data/dataset.js';
import { addon, type CsrMatrix, type FitOptionsNative, type NativeModel } from '../native.js';
import { FactorRecommender, type CommonParams, type ModelTask } from './base.js';
import { resolveParams, type ModelSpec } from './params.js';

export interface PureSVDParams extends CommonParams, AnnParams {
  /** Rank of the truncated SVD. Default 32 (at most min(users, items)); 16 is best on ML-100K. */
  factors?: number;
  /** Extra sketch columns of the randomized SVD (at least; see truncatedSVD). Default 10. */
  oversample?: number;
  /** Power iterations of the randomized SVD (each re-orthonormalized by QR). Default 4. */
  powerIterations?: number;
  /** Treat every interaction as r = 1 (ignore ratings / counts). Default false. */
  binary?: boolean;
}

const spec: ModelSpec = {
  params: {
    // Default min(32, users, items): it depends on the data (nativeParams).
    factors: { int: [1, 1 << 20] },
    oversample: { int: [0, 100000], default: 10 },
    powerIterations: { int: [0, 1000], default: 4 },
    binary: { bool: true, default: false },
  },
};

/**
 * PureSVD (Cremonesi, Koren, Turrin 2010): the truncated SVD R ~ U S V^T of the user-item matrix (missing = 0),
 * scoring r_u V V^T. A new user folds in by projecting their interactions on V.
 */
export class PureSVD extends FactorRecommender<PureSVDParams> {
  readonly name = 'PureSVD';
  readonly tasks: readonly ModelTask[] = ['ranking'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'PureSVD';
  }
  constructor(params: PureSVDParams = {}) {
    super(resolveParams('PureSVD', params, withAnn(spec)));
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return addon.fitPureSVD(csrOf(train), this.nativeParams(train), run);
  }
  /** factors not given: min(32, users, items), the largest rank the data allows up to 32. */
  protected override nativeParams(train: Dataset): Record<string, unknown> {
    return { ...super.nativeParams(train), factors: this.params.factors ?? Math.min(32, train.nUsers, train.nItems) };
  }
}

export interface TruncatedSVDOptions {
  /** Extra sketch columns (at least; the width k + oversample is rounded up to a multiple of 16). Default 10. */
  oversample?: number;
  /** Power iterations, each re-orthonormalized by QR. Default 4; more for slowly decaying spectra. */
  powerIterations?: number;
  /** Seed of the Gaussian sketch. Default 42. */
  seed?: number;
  /** Threads for the sparse products (and BLAS/LAPACK calls); 0 = all. Default 0. The result depends on the seed
   * and, through the order of float sums, slightly on the thread count. */
  threads?: number;
}

/** A rank-k SVD M ~ U diag(S) Vt. */
export interface TruncatedSVD {
  /** rows x k, row-major, orthonormal columns. */
  U: Float32Array;
  /** k singular values, descending. */
  S: Float32Array;
  /** k x cols, row-major, orthonormal rows. */
  Vt: Float32Array;
  rows: number;
  cols: number;
  k: number;
}

/**
 * The rank-k truncated SVD of a sparse matrix (a CSR, or a Dataset's users x items matrix, values or ones) by
 * randomized SVD (Halko, Martinsson, Tropp 2011), computed natively and in parallel over the sparse rows.
 */
export function truncatedSVD(matrix: CsrMatrix | Dataset, k: number, options: TruncatedSVDOptions = {}): TruncatedSVD {
  // Defaults from the same specs as PureSVD's options (and the common seed and threads).
  const o = resolveParams('truncatedSVD', options, { params: { oversample: spec.params.oversample!, powerIterations: spec.params.powerIterations! } });
  const csr = matrix instanceof Dataset ? matrix.csr : matrix;
  if (!csr || typeof csr !== 'object' || !(csr.indptr instanceof Int32Array)) throw argError('truncatedSVD expects a CsrMatrix or a Dataset');
  const maxK = Math.min(csr.rows, csr.cols);
  if (!Number.isInteger(k) || k < 1 || k > maxK) throw argError(`truncatedSVD: k must be an integer in [1, ${maxK}], got ${show(k)}`);
  return addon.truncatedSVD(csr, { k, oversample: o.oversample!, powerIterations: o.powerIterations!, seed: o.seed!, threads: o.threads! });
}
