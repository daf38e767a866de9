// Small hand-made benchmark results of every kind, for the report tests.
import type { AccuracyResult, DeepResult, KernelsResult, PeersResult, RunInfo, ScalingResult } from '../../ts/report/results.js';

const info: RunInfo = {
  date: '2026-01-01T00:00:00.000Z',
  machine: { cpu: 'Test CPU', cores: 2, memoryGB: 24, os: 'Linux test' },
  node: 'v20.0.0',
  recsys: '0.1.0',
  blas: 'builtin',
  threads: 0,
  loadavg: [0.5, 0.4, 0.3],
  loadavgAfter: [0.6, 0.4, 0.3],
  notes: ['fixture <with markup & "quotes">'],
};

export const kernels: KernelsResult = {
  kind: 'kernels',
  info,
  rows: [
    { kernel: 'ImplicitALS: one sweep', data: '300k', tsMs: 2800, native1Ms: 50, nativeAllMs: 30, allThreads: 2 },
    { kernel: 'CSR build', data: '1M', tsMs: 290, native1Ms: 99, allThreads: 2 },
  ],
};

const ks = [1, 5, 10, 20, 50];
export const accuracy: AccuracyResult = {
  kind: 'accuracy',
  info,
  rows: [
    {
      dataset: 'ml-test',
      model: 'BiasedMF',
      protocol: 'kfold5',
      metrics: { rmse: 0.93, mae: 0.73 },
      fitSeconds: 0.1,
      predictSeconds: 0.01,
      peakRssMB: 120,
      loss: [1.2, 0.95, 0.9, 0.88],
    },
    {
      dataset: 'ml-test',
      model: 'ImplicitALS',
      protocol: 'peruser80',
      metrics: { 'precision@10': 0.36, 'ndcg@10': 0.43, users: 943 },
      curves: { precision: ks.map((k) => [k, 0.6 / Math.sqrt(k)]), ndcg: ks.map((k) => [k, 0.5 - k / 200]) },
      fitSeconds: 0.1,
      predictSeconds: 0.05,
      peakRssMB: 118,
      loss: [0.05, 0.04, 0.035],
    },
    {
      dataset: 'ml-test',
      model: 'EASE',
      protocol: 'peruser80',
      metrics: { 'precision@10': 0.38, 'ndcg@10': 0.45, users: 943 },
      curves: { precision: ks.map((k) => [k, 0.62 / Math.sqrt(k)]), ndcg: ks.map((k) => [k, 0.52 - k / 200]) },
      fitSeconds: 0.2,
      predictSeconds: 0.08,
      peakRssMB: 135,
    },
    {
      dataset: 'ml-test',
      model: 'EASE',
      protocol: 'loo',
      metrics: { 'hr@10': 0.6, 'ndcg@10': 0.33, users: 943 },
      fitSeconds: 0.2,
      predictSeconds: 0.08,
      peakRssMB: 135,
    },
  ],
};

export const scaling: ScalingResult = {
  kind: 'scaling',
  info,
  rows: [1e6, 1e7, 5e7].flatMap((n) => [
    { model: 'ImplicitALS', interactions: n, users: n / 100, items: n / 500, fitSeconds: n / 2e6, peakRssMB: 100 + n / 1e5, epochs: 3 },
    { model: 'BPR', interactions: n, users: n / 100, items: n / 500, fitSeconds: n / 1e6, peakRssMB: 90 + n / 2e5, epochs: 3 },
  ]),
  exponents: { ImplicitALS: 1, BPR: 1 },
};

export const peers: PeersResult = {
  kind: 'peers',
  info,
  peerVersions: { implicit: '0.7.3' },
  rows: [
    {
      dataset: 'ml-test',
      task: 'ranking',
      recsys: { model: 'ImplicitALS', fitSeconds: 0.1, predictSeconds: 0.01, metrics: { 'ndcg@10': 0.36 } },
      peer: { library: 'implicit', model: 'ALS', fitSeconds: 0.3, predictSeconds: 0.05, metrics: { 'ndcg@10': 0.35 } },
    },
    {
      dataset: 'ml-test',
      task: 'rating',
      recsys: { model: 'BiasedMF', fitSeconds: 0.1, predictSeconds: 0.01, metrics: { rmse: 0.93 } },
      peer: { library: 'surprise', model: 'SVD', fitSeconds: 1, predictSeconds: 0.1, metrics: { rmse: 0.934 } },
    },
  ],
};

export const deep: DeepResult = {
  kind: 'deep',
  info,
  backend: 'wasm',
  rows: [
    { protocol: 'ms-recommenders', model: 'NeuMF', metrics: { 'ndcg@10': 0.43 }, fitSeconds: 22, reference: 'NCF 0.396' },
    { protocol: 'kfold5', model: 'AutoRec', metrics: { rmse: 0.905 }, fitSeconds: 20 },
    { protocol: 'epoch-seconds', model: 'NeuMF', backend: 'wasm', metrics: { 'seconds/epoch': 1.4 }, fitSeconds: 1.4 },
    { protocol: 'epoch-seconds', model: 'NeuMF', backend: 'cpu', metrics: { 'seconds/epoch': 44 }, fitSeconds: 44 },
  ],
};
