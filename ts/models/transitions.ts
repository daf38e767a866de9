// ItemTransitions: the non-neural next-item baseline. Counts of item-to-item transitions between consecutive events
// of each user's time-ordered history, row-normalised into P(next | item), mixed over the last few items of a
// history (most recent weighted most) with a popularity backoff. Computed in TS: the fit is one pass over the
// interactions and a native CSR build (duplicates summed).
import { RecsysError, argError, native } from '../errors.js';
import { csrOf, type Dataset } from '../data/dataset.js';
import { userSequence } from '../eval/sequential.js';
import { addon, type CsrMatrix, type FitOptionsNative, type NativeModel, type NativeTensor, type TopKResult } from '../native.js';
import { Recommender, type CommonParams, type ModelState, type ModelTask } from './base.js';
import { ScoredHandle, topkOfRow } from './scored.js';
import { resolveParams, type ModelSpec } from './params.js';

export interface ItemTransitionsParams extends CommonParams {
  /** How many of the history's last items vote for the next one. Default 3. */
  historyLength?: number;
  /** Weight of the j-th most recent item is historyDecay^j (the last item has weight 1). Default 0.5. */
  historyDecay?: number;
  /**
   * Pairs counted per event: the next `window` events after it, the d-th weighted windowDecay^(d - 1). Default 1
   * (consecutive events only).
   */
  window?: number;
  /** Weight of later events within the window. Default 0.5. */
  windowDecay?: number;
  /** Weight of the popularity backoff P(item) (share of all events) added to every score. Default 0.1. */
  popularityWeight?: number;
}

const spec: ModelSpec = {
  params: {
    historyLength: { int: [1, 1000], default: 3 },
    historyDecay: { real: [0, 1], default: 0.5 },
    window: { int: [1, 1000], default: 1 },
    windowDecay: { real: [0, 1], default: 0.5 },
    popularityWeight: { real: [0, 1e6], default: 0.1 },
  },
};

/** The fitted tables. */
interface Tables {
  /** items x items, row a holds P(b | a) over the items b that followed a. */
  next: CsrMatrix & { data: Float32Array };
  /** P(item): share of the training events. */
  popularity: Float32Array;
  /** users x historyLength: each user's last items, oldest first, -1 before a short history. */
  recent: Int32Array;
}

/**
 * Next-item recommendation from item-to-item transitions (a first-order Markov chain over each user's time-ordered
 * events, smoothed over the last `historyLength` items and backed off to popularity). Needs timestamps to be
 * meaningful: without them a user's events are read in item order. recommend() uses the user's last training
 * items; recommendForNewUser() takes a history as given, oldest first (a session, no refit); similarItems ranks
 * the items that most often follow an item.
 */
export class ItemTransitions extends Recommender<ItemTransitionsParams> {
  readonly name = 'ItemTransitions';
  readonly tasks: readonly ModelTask[] = ['ranking'];
  private tables?: Tables;

  constructor(params: ItemTransitionsParams = {}) {
    super(resolveParams('ItemTransitions', params, spec));
  }

  private get p(): Required<Omit<ItemTransitionsParams, keyof CommonParams>> {
    return this.params as Required<ItemTransitionsParams>;
  }

  protected fitNative(train: Dataset, run: FitOptionsNative): NativeModel | Promise<NativeModel> {
    const t0 = performance.now();
    if (run.cancel?.[0]) throw new RecsysError('E_CANCELLED', `${this.name}: fit was cancelled`);
    const { historyLength: L, window, windowDecay } = this.p;
    const n = train.nItems;
    const src: number[] = [];
    const dst: number[] = [];
    const w: number[] = [];
    const recent = new Int32Array(train.nUsers * L).fill(-1);
    const popularity = new Float32Array(n);
    const csr = csrOf(train);
    // The native fits check the matrix a user could have written to; this TS fit asks the addon for the same check.
    if (!run.sealed) native(() => addon._checkCsr(csr));
    for (const i of csr.indices) popularity[i]!++;
    for (let i = 0; i < n; i++) popularity[i] = popularity[i]! / train.nnz;
    for (let u = 0; u < train.nUsers; u++) {
      const seq = userSequence(train, u);
      for (let j = 0; j < seq.length; j++)
        for (let d = 1; d <= window && j + d < seq.length; d++) {
          src.push(seq[j]!);
          dst.push(seq[j + d]!);
          w.push(windowDecay ** (d - 1));
        }
      const tail = seq.subarray(Math.max(0, seq.length - L));
      recent.set(tail, u * L + L - tail.length);
    }
    const built = native(() => addon.buildCsr(n, n, Int32Array.from(src), Int32Array.from(dst), Float32Array.from(w), undefined, 'sum'));
    const data = built.data!;
    for (let a = 0; a < n; a++) {
      let s = 0;
      for (let p = built.indptr[a]!; p < built.indptr[a + 1]!; p++) s += data[p]!;
      for (let p = built.indptr[a]!; p < built.indptr[a + 1]!; p++) data[p] = data[p]! / s;
    }
    this.tables = { next: { rows: n, cols: n, indptr: built.indptr, indices: built.indices, data }, popularity, recent };
    run.onProgress?.({ phase: 'transitions', step: 1, total: 1, seconds: (performance.now() - t0) / 1000 });
    return new TransitionsHandle(this, train.nUsers, n);
  }

  private get fittedTables(): Tables {
    if (!this.tables) throw new RecsysError('E_NOT_FITTED', `${this.name} is not fitted: call fit() or fitAsync() first`);
    return this.tables;
  }

  /**
   * Scores of every item after a history (dense item indices, oldest first): sum over the last historyLength items
   * h_j (j = 0 the most recent) of historyDecay^j P(item | h_j), plus popularityWeight P(item). Items outside the
   * catalogue (or -1) in the history are skipped.
   */
  scoreHistory(history: ArrayLike<number>, out = new Float32Array(this.fittedTables.popularity.length)): Float32Array {
    const { next, popularity } = this.fittedTables;
    const n = popularity.length;
    const { historyLength: L, historyDecay, popularityWeight } = this.p;
    for (let i = 0; i < n; i++) out[i] = popularityWeight * popularity[i]!;
    let j = 0;
    for (let q = history.length - 1; q >= 0 && j < L; q--) {
      const a = history[q]!;
      if (!(a >= 0 && a < n)) continue;
      const wt = historyDecay ** j++;
      for (let p = next.indptr[a]!; p < next.indptr[a + 1]!; p++) {
        const b = next.indices[p]!;
        out[b] = out[b]! + wt * next.data[p]!;
      }
    }
    return out;
  }

  /** Scores of every item after each history (rows of nItems), for evaluateSequential. */
  scoreSequences(histories: readonly ArrayLike<number>[]): Float32Array {
    const n = this.fittedTables.popularity.length;
    const out = new Float32Array(histories.length * n);
    histories.forEach((h, r) => this.scoreHistory(h, out.subarray(r * n, (r + 1) * n)));
    return out;
  }

  /** @internal Scores for known users from their last training items. */
  _scoreUsers(users: Int32Array): Float32Array {
    const { recent } = this.fittedTables;
    const L = this.p.historyLength;
    const nU = recent.length / L;
    return this.scoreSequences(Array.from(users, (u) => (u >= 0 && u < nU ? recent.subarray(u * L, (u + 1) * L) : [])));
  }

  override scoreUsersDense(users: Int32Array): Float32Array {
    void this.nativeModel;
    return this._scoreUsers(users);
  }

  override predictDense(users: Int32Array, items: Int32Array): Float32Array {
    if (users.length !== items.length) throw argError('users and items must have the same length');
    const n = this.nativeModel.nItems;
    const out = new Float32Array(users.length);
    for (let p = 0; p < users.length; p++) {
      const i = items[p]!;
      out[p] = i >= 0 && i < n ? this._scoreUsers(Int32Array.of(users[p]!))[i]! : NaN;
    }
    return out;
  }

  // ---- state ------------------------------------------------------------------------------------------------

  override exportState(): ModelState {
    const h = this.nativeModel;
    return { kind: this.name, users: h.nUsers, items: h.nItems, tensors: tablesState(this.fittedTables, this.p.historyLength) };
  }

  protected override importState(state: ModelState): void {
    if (state.kind !== this.name) throw argError(`a ${state.kind} state cannot be loaded into ${this.name}`);
    this.tables = tablesFromState(state.tensors, state.users, state.items, this.p.historyLength);
    this.handle = new TransitionsHandle(this, state.users, state.items);
  }
}

function tablesState(t: Tables, L: number): Record<string, NativeTensor> {
  const n = t.popularity.length;
  return {
    next_indptr: { shape: [n + 1], data: t.next.indptr.slice() },
    next_indices: { shape: [t.next.indices.length], data: t.next.indices.slice() },
    next_values: { shape: [t.next.data.length], data: t.next.data.slice() },
    popularity: { shape: [n], data: t.popularity.slice() },
    recent: { shape: [t.recent.length / L, L], data: t.recent.slice() },
  };
}

function tablesFromState(s: Record<string, NativeTensor>, nUsers: number, n: number, L: number): Tables {
  const bad = (why: string) => argError(`ItemTransitions state: ${why}`);
  const get = <T extends Int32Array | Float32Array>(name: string, type: new (n: number) => T): T => {
    const t = s[name];
    if (!t || !(t.data instanceof type)) throw bad(`no ${type === (Int32Array as unknown) ? 'Int32' : 'Float32'} tensor '${name}'`);
    return t.data.slice() as T;
  };
  const indptr = get('next_indptr', Int32Array);
  const indices = get('next_indices', Int32Array);
  const data = get('next_values', Float32Array);
  const popularity = get('popularity', Float32Array);
  const recent = get('recent', Int32Array);
  if (indptr.length !== n + 1 || indptr[0] !== 0 || indptr[n] !== indices.length || data.length !== indices.length)
    throw bad('next.* do not form an items x items CSR');
  for (let a = 0; a < n; a++) if (indptr[a + 1]! < indptr[a]!) throw bad('next_indptr is not non-decreasing');
  for (const i of indices) if (!(i >= 0 && i < n)) throw bad('next_indices holds an unknown item');
  for (const v of data) if (!(v >= 0 && v <= 1)) throw bad('next_values must be probabilities');
  if (popularity.length !== n) throw bad(`popularity has ${popularity.length} values for ${n} items`);
  for (const v of popularity) if (!(v >= 0 && v <= 1)) throw bad('popularity must be shares in [0, 1]');
  if (recent.length !== nUsers * L) throw bad(`recent has ${recent.length} values, expected ${nUsers} users x historyLength ${L}`);
  for (const i of recent) if (!(i >= -1 && i < n)) throw bad('recent holds an unknown item');
  return { next: { rows: n, cols: n, indptr, indices, data }, popularity, recent };
}

/** The model handle recommend / recommendBatch / evaluate go through, scored in TS. */
class TransitionsHandle extends ScoredHandle {
  readonly kind = 'ItemTransitions';
  constructor(
    private readonly model: ItemTransitions,
    nUsers: number,
    nItems: number,
  ) {
    super(nUsers, nItems);
  }

  /** A new user's history, in the order given (oldest first). */
  recommendNew(items: Int32Array, _values: Float32Array | undefined, k: number, filterSeen: boolean, exclude?: Int32Array, include?: Int32Array): TopKResult {
    const seen = filterSeen ? Int32Array.from(new Set(items)).sort() : undefined;
    return topkOfRow(this.model.scoreHistory(items), this.nItems, k, seen, exclude, include);
  }

  predict(users: Int32Array, items: Int32Array): Float32Array {
    return this.model.predictDense(users, items);
  }

  scoreUsers(users: Int32Array): Float32Array {
    return this.model._scoreUsers(users);
  }

  similarItems(item: number, k: number, exclude?: Int32Array, include?: Int32Array): TopKResult {
    return topkOfRow(this.model.scoreHistory([item]), this.nItems, k, undefined, exclude, include);
  }

  similarUsers(): TopKResult {
    throw new RecsysError('E_UNSUPPORTED', 'ItemTransitions has no user similarity');
  }

  state(): Record<string, NativeTensor> {
    return this.model.exportState().tensors;
  }
}
