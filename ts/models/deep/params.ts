// Weights of the deep models, held in host memory (Float32Arrays) rather than in TensorFlow.js variables: each
// training step hands TensorFlow.js the weights it needs (and the embedding rows of the mini-batch), takes back
// the gradients, and the native optimizers update the arrays in place. Embedding tables thereby cost O(batch x
// dim) per step whatever the catalogue size, and the weights are the model's state as they stand.
import { RecsysError, native } from '../../errors.js';
import { addon, type NativeTensor, type OptimizerOptions } from '../../native.js';
import type { Rng } from '../../rng.js';

/** Named tensors of a model's state (the form model files store). */
export type StateTensors = Record<string, NativeTensor>;

export interface ParamSpec {
  shape: number[];
  /** Coupled L2 on this tensor (weights usually, not biases). */
  l2?: number;
  /** Updated by rows (an embedding table: only the mini-batch's rows move each step). */
  rows?: boolean;
}

interface Param extends Required<ParamSpec> {
  data: Float32Array;
  m?: Float32Array;
  v?: Float32Array;
}

/** Entries of sparse input rows: entry p is (row rowOf[p], column indices[p]) with value values[p]. */
export interface BagEntries {
  rowOf: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

export interface OptimizerConfig {
  method: 'adam' | 'sgd';
  lr: number;
}

/** Adam's moment decays and epsilon (Kingma & Ba's): fixed, not options of the deep models. */
export const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

export class ParamStore {
  private readonly map = new Map<string, Param>();
  /** Optimizer steps taken (Adam's bias correction counts from here). */
  steps = 0;

  add(name: string, spec: ParamSpec, data: Float32Array): Float32Array {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new RecsysError('E_STATE', `${name}: ${data.length} values for shape [${spec.shape.join(', ')}]`);
    this.map.set(name, { shape: [...spec.shape], l2: spec.l2 ?? 0, rows: spec.rows ?? false, data });
    return data;
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  get(name: string): Float32Array {
    return this.param(name).data;
  }

  shape(name: string): number[] {
    return this.param(name).shape;
  }

  names(): string[] {
    return [...this.map.keys()];
  }

  private param(name: string): Param {
    const p = this.map.get(name);
    if (!p) throw new RecsysError('E_STATE', `no weight named ${name}`);
    return p;
  }

  private options(p: Param, o: OptimizerConfig): OptimizerOptions {
    return { method: o.method, lr: o.lr, ...ADAM, l2: p.l2, step: Math.max(1, this.steps) };
  }

  private moments(p: Param, o: OptimizerConfig): void {
    if (o.method === 'adam' && !p.m) {
      p.m = new Float32Array(p.data.length);
      p.v = new Float32Array(p.data.length);
    }
  }

  /** A full update of a dense tensor. Call `tick()` once per training step before the updates. */
  step(name: string, grad: Float32Array, o: OptimizerConfig): void {
    const p = this.param(name);
    this.moments(p, o);
    native(() => addon.optimizerStep(p.data, grad, p.m, p.v, this.options(p, o)));
  }

  /** An update of some rows of a table (grads: rows.length x row width; repeated rows are summed). */
  stepRows(name: string, rows: Int32Array, grads: Float32Array, o: OptimizerConfig): void {
    const p = this.param(name);
    this.moments(p, o);
    const dim = p.shape.slice(1).reduce((a, b) => a * b, 1);
    native(() => addon.optimizerRowsStep(p.data, p.m, p.v, dim, rows, grads, this.options(p, o)));
  }

  /** The sparse input layer: rows x width sums of entries' values times this table's rows (an embedding bag). */
  bag(name: string, entries: BagEntries, rows: number): Float32Array {
    const p = this.param(name);
    const dim = p.shape.slice(1).reduce((a, b) => a * b, 1);
    return native(() => addon.embeddingBag(p.data, dim, entries, rows));
  }

  /** The bag's update from the gradient of its output (rows x width). */
  stepBag(name: string, entries: BagEntries, dOut: Float32Array, o: OptimizerConfig): void {
    const p = this.param(name);
    this.moments(p, o);
    const dim = p.shape.slice(1).reduce((a, b) => a * b, 1);
    native(() => addon.embeddingBagStep(p.data, p.m, p.v, dim, entries, dOut, this.options(p, o)));
  }

  tick(): void {
    this.steps++;
  }

  /** Rows of a table (rows.length x width); out-of-range rows (unknown users or items) are zeros. */
  gather(name: string, rows: Int32Array): Float32Array {
    const p = this.param(name);
    const dim = p.shape.slice(1).reduce((a, b) => a * b, 1);
    return native(() => addon.gatherRows(p.data, dim, rows));
  }

  /** Copies of every tensor (for keeping the best epoch). */
  snapshot(): Map<string, Float32Array> {
    return new Map([...this.map].map(([k, p]) => [k, p.data.slice()]));
  }

  restore(snap: Map<string, Float32Array>): void {
    for (const [k, d] of snap) this.param(k).data.set(d);
  }

  /** Drops the optimizer's moments (not needed once fitted). */
  dropMoments(): void {
    for (const p of this.map.values()) {
      p.m = undefined;
      p.v = undefined;
    }
  }

  /** The weights as named tensors (copies). */
  state(): StateTensors {
    const out: StateTensors = {};
    for (const [k, p] of this.map) out[k] = { shape: [...p.shape], data: p.data.slice() };
    return out;
  }
}

// ---- initializers (our seeded generator, so a seed gives the same weights on every backend) --------------

/** Glorot/Xavier uniform: U(-a, a) with a = sqrt(6 / (fanIn + fanOut)). */
export function glorotUniform(fanIn: number, fanOut: number, rng: Rng): Float32Array {
  const a = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(fanIn * fanOut);
  for (let j = 0; j < out.length; j++) out[j] = (2 * rng.uniform() - 1) * a;
  return out;
}

/** N(0, std^2) by Box-Muller. */
export function normal(n: number, std: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  for (let j = 0; j < n; j += 2) {
    const u1 = Math.max(rng.uniform(), 1e-300);
    const u2 = rng.uniform();
    const r = Math.sqrt(-2 * Math.log(u1)) * std;
    out[j] = r * Math.cos(2 * Math.PI * u2);
    if (j + 1 < n) out[j + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}
