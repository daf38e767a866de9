import { argError } from '../errors.js';
import type { ModelTask, Recommender } from './base.js';
import { BaselineOnly, Popularity, Random } from './baseline.js';
import { BiasedMF } from './biased_mf.js';
import { ExplicitALS } from './explicit_als.js';
import { NMF } from './nmf.js';
import { KNNBaseline, KNNBasic, KNNWithMeans } from './rating_knn.js';
import { SlopeOne } from './slope_one.js';
import { SVDpp } from './svdpp.js';
import { ImplicitALS } from './als.js';
import { BPR } from './bpr.js';
import { ItemKNN } from './itemknn.js';
import { EASE } from './ease.js';
import { SANSA } from './sansa.js';
import { ItemTransitions } from './transitions.js';
import { SASRec } from './deep/sasrec.js';
import { PureSVD } from './puresvd.js';
import { LightGCN } from './lightgcn.js';
import { AutoRec } from './deep/autorec.js';
import { MultVAE } from './deep/multvae.js';
import { RecVAE } from './deep/recvae.js';
import { GMF, MLP, NeuMF } from './deep/ncf.js';
import { withoutDependencyCheck } from './deep/base.js';

export type { ModelTask } from './base.js';

export interface ModelEntry {
  /** Name used by the CLI (`--model`) and in reports. */
  name: string;
  /** What the model is for (its class declares it; evaluate, the demo and the benchmarks follow it). */
  tasks: readonly ModelTask[];
  /** Needs explicit ratings to fit. */
  needsRatings: boolean;
  create(params?: Record<string, unknown>): Recommender;
  /** Parameters the demo uses (e.g. fewer epochs for a slow model); false leaves the model out of the demo. */
  demo?: Record<string, unknown> | false;
}

/** Every model family of the package, in the order reports list them. Families append their entries here. */
const entries: Omit<ModelEntry, 'tasks'>[] = [
  { name: 'Random', needsRatings: false, create: (p) => new Random(p) },
  { name: 'Popularity', needsRatings: false, create: (p) => new Popularity(p) },
  { name: 'BaselineOnly', needsRatings: true, create: (p) => new BaselineOnly(p) },
  { name: 'BiasedMF', needsRatings: true, create: (p) => new BiasedMF(p) },
  { name: 'SVDpp', needsRatings: true, create: (p) => new SVDpp(p) },
  { name: 'ExplicitALS', needsRatings: true, create: (p) => new ExplicitALS(p) },
  { name: 'KNNBasic', needsRatings: true, create: (p) => new KNNBasic(p), demo: false },
  { name: 'KNNWithMeans', needsRatings: true, create: (p) => new KNNWithMeans(p), demo: false },
  { name: 'KNNBaseline', needsRatings: true, create: (p) => new KNNBaseline(p) },
  { name: 'NMF', needsRatings: true, create: (p) => new NMF(p) },
  { name: 'SlopeOne', needsRatings: true, create: (p) => new SlopeOne(p) },
  // Implicit-feedback models read star ratings as "watched" in the demo (binary), with ML-100K-tuned settings.
  { name: 'ImplicitALS', needsRatings: false, create: (p) => new ImplicitALS(p), demo: { binary: true, reg: 10, alpha: 0 } },
  { name: 'BPR', needsRatings: false, create: (p) => new BPR(p) },
  { name: 'ItemKNN', needsRatings: false, create: (p) => new ItemKNN(p), demo: { binary: true, similarity: 'tfidf' } },
  { name: 'EASE', needsRatings: false, create: (p) => new EASE(p), demo: { binary: true } },
  { name: 'SANSA', needsRatings: false, create: (p) => new SANSA(p), demo: { binary: true } },
  { name: 'PureSVD', needsRatings: false, create: (p) => new PureSVD(p), demo: { binary: true, factors: 16 } },
  { name: 'LightGCN', needsRatings: false, create: (p) => new LightGCN(p), demo: { epochs: 5 } },
  // Deep models (TensorFlow.js, loaded on first use). The demo runs short fits of NeuMF and MultVAE (bench/deep.ts
  // has the full ones).
  { name: 'NeuMF', needsRatings: false, create: (p) => new NeuMF(p), demo: { epochs: 3 } },
  { name: 'GMF', needsRatings: false, create: (p) => new GMF(p), demo: false },
  { name: 'MLP', needsRatings: false, create: (p) => new MLP(p), demo: false },
  { name: 'MultVAE', needsRatings: false, create: (p) => new MultVAE(p), demo: { epochs: 10 } },
  { name: 'AutoRec', needsRatings: true, create: (p) => new AutoRec(p), demo: false },
  // RecVAE runs four passes per epoch: its demo would take minutes (bench/deep.ts --only recvae has the fit).
  { name: 'RecVAE', needsRatings: false, create: (p) => new RecVAE(p), demo: false },
  // Next-item (sequential) models: their histories are time-ordered (bench/sequential.ts).
  { name: 'ItemTransitions', needsRatings: false, create: (p) => new ItemTransitions(p) },
  { name: 'SASRec', needsRatings: false, create: (p) => new SASRec(p), demo: false },
];

/**
 * The entries with each model's tasks, read from its class (one owner: the class declares them). A deep model's
 * instance is made without its TensorFlow.js check, so the list is complete whether or not TensorFlow.js is
 * installed; create() itself raises E_DEPENDENCY without it.
 */
export const models: ModelEntry[] = entries.map((e) => ({ ...e, tasks: withoutDependencyCheck(() => e.create()).tasks }));

export function modelEntry(name: string): ModelEntry {
  const e = models.find((m) => m.name.toLowerCase() === name.toLowerCase());
  if (!e) throw argError(`unknown model '${name}'; models: ${models.map((m) => m.name).join(', ')}`);
  return e;
}
