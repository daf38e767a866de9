// Approximate top-K for factor models (issue 15 part 4): the options every FactorRecommender accepts, and when
// the HNSW index over the item factors is built. The index itself lives in the native model (native/core/ann.h):
// recommend, recommendBatch and recommendForNewUser (with the folded-in vector) search it, with seen items, exclude
// and include applied inside the graph search, and take the exact path when the filters leave too few eligible items.
import type { NativeModel } from '../native.js';
import type { ModelSpec, ParamSpec } from './params.js';

/** The approximate-search options of factor models (ALS, BPR, BiasedMF, SVD++, PureSVD, NMF, LightGCN, FactorModel ...). */
export interface AnnParams {
  /**
   * Top-K search over the item factors: 'exact' scores every item (the default behaviour of small catalogues);
   * 'hnsw' builds an HNSW graph at fit / load time and searches it; 'auto' (default) builds it when the model has
   * at least annThreshold items. Recommendations for new users (fold-in) search it with the folded-in vector.
   */
  ann?: 'auto' | 'hnsw' | 'exact';
  /** Items from which 'auto' builds the index. Default 500000. */
  annThreshold?: number;
  /** HNSW graph degree M (2M links per node at the bottom layer). Default 16. */
  annM?: number;
  /** HNSW candidate-list size while building. Default 100. */
  annEfConstruction?: number;
  /** HNSW candidate-list size while searching (at least k is used). Default 100. */
  annEfSearch?: number;
  /**
   * Also search from the best of the 1,024 longest item vectors (landmarks) the request may return, where the
   * first search did not reach it. For factors in well-separated clusters (converged ALS on distinct tastes), where
   * the inner-product graph falls apart: measured recall@10 0.80 -> 0.98 (3-iteration ALS, 64 planted taste groups,
   * 101k items; 0.77 -> 0.99 on 20k); costs little on connected graphs (a second search runs only where the first
   * did not reach the landmark: bench:ann at 100k p50 0.16 vs 0.14 ms). Default false.
   */
  annLandmarks?: boolean;
}

/** The specs of AnnParams (serving settings: the fitted factors do not depend on them). */
export const annSpec: Readonly<Record<string, ParamSpec>> = {
  ann: { oneOf: ['auto', 'hnsw', 'exact'], default: 'auto', state: false },
  annThreshold: { int: [0, 2 ** 31 - 1], default: 500000, state: false },
  annM: { int: [2, 256], default: 16, state: false },
  annEfConstruction: { int: [1, 100000], default: 100, state: false },
  annEfSearch: { int: [1, 100000], default: 100, state: false },
  annLandmarks: { bool: true, default: false, state: false },
};

/** A factor model's spec with the approximate-search options added. */
export function withAnn(spec: ModelSpec): ModelSpec {
  return { ...spec, params: { ...spec.params, ...annSpec } };
}

/** What annInfo reports about a built index. */
export interface AnnIndexInfo {
  items: number;
  M: number;
  efConstruction: number;
  efSearch: number;
  /** Whether searches also start from the best landmark (annLandmarks). */
  landmarks: boolean;
  /** Bytes the graph and its copy of the (transformed) item vectors take. */
  bytes: number;
}

/** Whether the options ask for an index over a catalogue of `items` items. */
export function wantsAnn(p: Readonly<AnnParams>, items: number): boolean {
  const mode = p.ann ?? 'auto';
  return mode === 'hnsw' || (mode === 'auto' && items >= (p.annThreshold ?? 500000));
}

/** The native build options from the model's params. */
export function annBuildOptions(p: Readonly<AnnParams & { seed?: number; threads?: number }>) {
  return {
    M: p.annM ?? 16,
    efConstruction: p.annEfConstruction ?? 100,
    efSearch: p.annEfSearch ?? 100,
    seed: p.seed ?? 42,
    threads: p.threads ?? 0,
  };
}

type AnnHandle = NativeModel & Required<Pick<NativeModel, 'annSupported' | 'buildAnn' | 'buildAnnAsync' | 'annInfo' | 'setAnnSearch' | 'dropAnn'>>;

function hasFactors(h: NativeModel): h is AnnHandle {
  // Handles of models scored in TS (deep models) have no native index.
  return h.nItems > 0 && typeof h.annSupported === 'function' && h.annSupported();
}

/**
 * Brings a fitted or loaded model's index in line with its options: builds it when wanted and missing (a model
 * file saved with its index keeps it: the graph is not rebuilt), drops it when the options say 'exact', and sets
 * the search-time efSearch. Models without item factors are left as they are.
 */
export function syncAnn(h: NativeModel, p: Readonly<AnnParams & { seed?: number; threads?: number }>): void {
  if (!hasFactors(h)) return;
  if (!wantsAnn(p, h.nItems)) {
    if ((p.ann ?? 'auto') === 'exact') h.dropAnn();
    if (h.annInfo() !== null) h.setAnnSearch(p.annEfSearch ?? 100, p.annLandmarks ?? false);
    return;
  }
  if (h.annInfo() === null) h.buildAnn(annBuildOptions(p));
  h.setAnnSearch(p.annEfSearch ?? 100, p.annLandmarks ?? false);
}

/** syncAnn with the build on a worker thread (fitAsync). */
export async function syncAnnAsync(h: NativeModel, p: Readonly<AnnParams & { seed?: number; threads?: number }>): Promise<void> {
  if (hasFactors(h) && wantsAnn(p, h.nItems) && h.annInfo() === null) await h.buildAnnAsync(annBuildOptions(p));
  syncAnn(h, p);
}
