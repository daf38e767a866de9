import { csrOf, cscOf, type Dataset } from '../data/dataset.js';
import { addon, type FitOptionsNative, type NativeModel } from '../native.js';
import { Recommender, type CommonParams, type ModelTask } from './base.js';
import { FLOAT_TINY, resolveParams, type ModelSpec } from './params.js';

export interface SANSAParams extends CommonParams {
  /** L2 regularization, as EASE's lambda (the same model at density 1). Default 500. */
  lambda?: number;
  /**
   * The share of the items x items lower triangle the sparse factors may fill, in (0, 1]: the LDL^T factor keeps
   * at most density * items^2 / 2 entries (and its approximate inverse about as many). 1 drops nothing (EASE's
   * weights exactly). Default: from `entries`, so that small catalogues get EASE's weights and large ones a budget.
   */
  density?: number;
  /**
   * When density is not given, the factor's entry budget: density = min(1, entries / (items (items - 1) / 2)).
   * The default 10M is the whole triangle up to ~4,470 items (MovieLens: SANSA = EASE) and about 10 entries per
   * item at 1M items (density 2e-5: ~0.75 GB, ~33 s of CPU on 10M interactions). Default 10000000.
   */
  entries?: number;
  /** Treat every interaction as r = 1 (ignore ratings / counts). Default false. */
  binary?: boolean;
  /**
   * The fit refuses (E_MEMORY, before allocating) when the factors' entry budget would need more bytes than this.
   * Default: half of the machine's physical memory.
   */
  maxMemoryBytes?: number;
}

const spec: ModelSpec = {
  params: {
    lambda: { real: [FLOAT_TINY, 1e15], default: 500 },
    // Default from `entries` and the catalogue size (nativeParams).
    density: { real: [FLOAT_TINY, 1] },
    entries: { int: [1, 2 ** 31 - 1], default: 10_000_000 },
    binary: { bool: true, default: false },
  },
};

/**
 * SANSA (Spisak et al. 2023): EASE's zero-diagonal item-item model for catalogues too large for an items x items
 * matrix. An incomplete LDL^T of X^T X + lambda I (popularity order, a budget of `density` (or `entries`) entries) and a sparse
 * approximate inverse of its unit-lower factor give the weights as two sparse factors; scores are two sparse
 * products. Memory grows with density * items^2, not items^2. similarItems ranks by the approximate weights; there
 * is no similarUsers.
 */
export class SANSA extends Recommender<SANSAParams> {
  readonly name = 'SANSA';
  readonly tasks: readonly ModelTask[] = ['ranking'];
  /** The native kind its state has (also for subclasses that rename the class). */
  override get stateKind(): string {
    return 'SANSA';
  }
  constructor(params: SANSAParams = {}) {
    super(resolveParams('SANSA', params, spec));
  }
  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    return addon.fitSANSA(csrOf(train), cscOf(train), this.nativeParams(train), run);
  }
  /** density not given: the share of the triangle that `entries` fills (1 when it holds the whole triangle). */
  protected override nativeParams(train: Dataset): Record<string, unknown> {
    // `entries` is read here only: the native fit gets the density it gives.
    const { entries: _entries, ...rest } = super.nativeParams(train);
    return { ...rest, density: this.params.density ?? autoDensity(train.nItems, this.params.entries ?? 10_000_000) };
  }
}

/** The density whose budget is `entries` factor entries for a catalogue of n items (at most 1). */
export function autoDensity(n: number, entries: number): number {
  const full = (n * (n - 1)) / 2;
  return full <= entries ? 1 : entries / full;
}
