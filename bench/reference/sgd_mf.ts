// Plain-TypeScript references of the SGD factor models, written for clarity, not speed: they are what the
// native kernels are tested against on tiny data, and the TS baselines of the native-vs-TS benchmark.
// Ratings are visited in CSR order (user by user, items ascending): the native order with shuffle: false and
// one block.

/** Ratings as CSR (users x items). */
export interface RatingsCsr {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  data?: Float32Array;
}

/** State of a biased MF model; every array is updated in place. */
export interface BiasedMfState {
  factors: number;
  /** users x factors, row-major. */
  U: Float64Array | Float32Array;
  /** items x factors, row-major. */
  V: Float64Array | Float32Array;
  /** User and item biases (length 0 when the model is unbiased). */
  bu: Float64Array | Float32Array;
  bi: Float64Array | Float32Array;
  /** Global mean (0 when unbiased). */
  mu: number;
}

export interface SgdSettings {
  lr: number;
  reg: number;
  lrBias?: number;
  regBias?: number;
}

/** One epoch of Funk/Surprise SVD SGD in CSR order. Returns the sum of squared errors seen before each step. */
export function biasedMfEpoch(R: RatingsCsr, s: BiasedMfState, o: SgdSettings): number {
  const k = s.factors;
  const lrb = o.lrBias ?? o.lr;
  const regb = o.regBias ?? o.reg;
  const biased = s.bu.length > 0;
  let sse = 0;
  for (let u = 0; u < R.rows; u++) {
    for (let q = R.indptr[u]!; q < R.indptr[u + 1]!; q++) {
      const i = R.indices[q]!;
      const r = R.data ? R.data[q]! : 1;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += s.U[u * k + f]! * s.V[i * k + f]!;
      const est = biased ? s.mu + s.bu[u]! + s.bi[i]! + dot : dot;
      const err = r - est;
      sse += err * err;
      if (biased) {
        s.bu[u] = s.bu[u]! + lrb * (err - regb * s.bu[u]!);
        s.bi[i] = s.bi[i]! + lrb * (err - regb * s.bi[i]!);
      }
      for (let f = 0; f < k; f++) {
        const pf = s.U[u * k + f]!;
        const qf = s.V[i * k + f]!;
        s.U[u * k + f] = pf + o.lr * (err * qf - o.reg * pf);
        s.V[i * k + f] = qf + o.lr * (err * pf - o.reg * qf);
      }
    }
  }
  return sse;
}

/** State of SVD++: biased MF plus the implicit-feedback item factors Y (items x factors). */
export interface SvdppState extends BiasedMfState {
  Y: Float64Array | Float32Array;
}

/**
 * One epoch of SVD++ exactly as Surprise writes it: at every rating the implicit sum is recomputed and every
 * y_j of the user's items is stepped, O(|N(u)| k) per rating. N(u) = the items u rated.
 */
export function svdppEpoch(R: RatingsCsr, s: SvdppState, o: SgdSettings & { lrY?: number; regY?: number }): number {
  const k = s.factors;
  const lrb = o.lrBias ?? o.lr;
  const regb = o.regBias ?? o.reg;
  const lry = o.lrY ?? o.lr;
  const regy = o.regY ?? o.reg;
  const biased = s.bu.length > 0;
  const z = new Float64Array(k);
  let sse = 0;
  for (let u = 0; u < R.rows; u++) {
    const b = R.indptr[u]!;
    const e = R.indptr[u + 1]!;
    const sqrtN = Math.sqrt(e - b);
    for (let q = b; q < e; q++) {
      const i = R.indices[q]!;
      const r = R.data ? R.data[q]! : 1;
      z.fill(0);
      for (let t = b; t < e; t++) for (let f = 0; f < k; f++) z[f]! += s.Y[R.indices[t]! * k + f]! / sqrtN;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += s.V[i * k + f]! * (s.U[u * k + f]! + z[f]!);
      const est = biased ? s.mu + s.bu[u]! + s.bi[i]! + dot : dot;
      const err = r - est;
      sse += err * err;
      if (biased) {
        s.bu[u] = s.bu[u]! + lrb * (err - regb * s.bu[u]!);
        s.bi[i] = s.bi[i]! + lrb * (err - regb * s.bi[i]!);
      }
      for (let f = 0; f < k; f++) {
        const pf = s.U[u * k + f]!;
        const qf = s.V[i * k + f]!;
        s.U[u * k + f] = pf + o.lr * (err * qf - o.reg * pf);
        s.V[i * k + f] = qf + o.lr * (err * (pf + z[f]!) - o.reg * qf);
        for (let t = b; t < e; t++) {
          const j = R.indices[t]!;
          s.Y[j * k + f] = s.Y[j * k + f]! + lry * ((err * qf) / sqrtN - regy * s.Y[j * k + f]!);
        }
      }
    }
  }
  return sse;
}
