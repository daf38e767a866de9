// Model file format version 1 kept some of a model's options as positional state tensors (ImplicitALS
// `options`, NMF `nmf_options`, the SGD models' `sgd_options`, the KNN models' `knn_options` ...) and its
// metadata's params held only the options given to the constructor. Version 2 keeps every option by name in the
// metadata. This is the one place that maps a version-1 file's option tensors to named options; loadModel then
// checks them with the class's spec like any version-2 file's.
import type { NativeTensor } from '../native.js';

const SIMILARITIES = ['msd', 'cosine', 'pearson', 'pearson_baseline'] as const;

/**
 * The named options of a version-1 file of class `cls`: its metadata's params, overridden by what its option
 * tensors say (the values the fitted model used), and the names of those option tensors (loadModel leaves them out
 * of the state it restores: a restorer refuses tensors that are not part of its kind's state). Throws a plain
 * Error naming a missing or malformed tensor.
 */
export function v1Params(
  cls: string,
  params: Record<string, unknown>,
  tensors: Record<string, NativeTensor | undefined>,
): { params: Record<string, unknown>; optionTensors: Set<string> } {
  const out: Record<string, unknown> = { ...params };
  const optionTensors = new Set<string>();
  const values = (name: string, n: number): ArrayLike<number> => {
    const t = tensors[name];
    if (!t || t.data.length !== n) throw new Error(`version-1 option tensor '${name}' is missing or has the wrong size`);
    optionTensors.add(name);
    return t.data;
  };
  const f = (name: string): number => values(name, 1)[0]!;
  const bool = (v: number): boolean | number => (v === 0 ? false : v === 1 ? true : v); // anything else: refused by the spec
  const seed = (name = 'seed'): number => {
    const v = values(name, 2);
    return v[0]! + v[1]! * 2 ** 31;
  };
  switch (cls) {
    case 'Random':
      out.seed = seed();
      break;
    case 'ImplicitALS': {
      const o = values('options', 4);
      Object.assign(out, {
        reg: f('reg'),
        alpha: f('alpha'),
        binary: bool(o[0]!),
        solver: o[1] === 1 ? 'cholesky' : o[1] === 0 ? 'cg' : o[1],
        cgSteps: o[2],
        iterations: o[3],
        seed: seed(),
      });
      break;
    }
    case 'BPR':
      Object.assign(out, { lr: f('lr'), reg: f('reg'), epochs: f('epochs'), seed: seed() });
      break;
    case 'ExplicitALS':
      Object.assign(out, { reg: f('reg'), biased: bool(f('biased')) });
      break;
    case 'NMF': {
      const r = values('nmf', 8);
      const o = values('nmf_options', 2);
      Object.assign(out, {
        regUser: r[0],
        regItem: r[1],
        regBiasUser: r[2],
        regBiasItem: r[3],
        lrBiasUser: r[4],
        lrBiasItem: r[5],
        initLow: r[6],
        initHigh: r[7],
        epochs: o[0],
        biased: bool(o[1]!),
        seed: seed(),
      });
      break;
    }
    case 'BiasedMF':
    case 'SVDpp': {
      const r = values('sgd', 6);
      const o = values('sgd_options', 4);
      Object.assign(out, {
        lr: r[0],
        reg: r[1],
        lrBias: r[2],
        regBias: r[3],
        initMean: r[4],
        initStd: r[5],
        epochs: o[0],
        biased: bool(o[1]!),
        shuffle: bool(o[2]!),
        seed: seed(),
      });
      if (cls === 'BiasedMF') out.blocks = o[3];
      if (cls === 'SVDpp') {
        const y = values('implicit_lr_reg', 2);
        Object.assign(out, { lrY: y[0], regY: y[1] });
      }
      break;
    }
    case 'KNNBasic':
    case 'KNNWithMeans':
    case 'KNNBaseline': {
      const o = values('knn_options', 6);
      const r = values('knn_reals', 2);
      Object.assign(out, {
        userBased: bool(o[0]!),
        similarity: SIMILARITIES[o[1]!] ?? o[1],
        minSupport: o[2],
        k: o[3],
        minK: o[4],
        maxNeighbors: o[5],
        shrinkage: r[0],
        baselineRegUser: r[1],
      });
      break;
    }
    case 'SlopeOne':
      out.weighted = bool(f('weighted'));
      break;
    case 'PureSVD':
    case 'EASE':
    case 'ItemKNN':
      out.binary = bool(f('binary'));
      break;
    default:
      break;
  }
  return { params: out, optionTensors };
}
