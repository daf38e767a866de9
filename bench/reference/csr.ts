// CSR construction in plain TypeScript, the algorithm of native/core/csr.h build_csr: two stable counting sorts
// (by column, then by row) so each row comes out with its columns ascending and equal pairs in input order, then
// one pass that merges duplicate pairs under the policy 'last' (the later pair wins). O(nnz + rows + cols).
// A test oracle and the plain-TS baseline of the kernel benchmark.

export interface RefCsr {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  data?: Float32Array;
  duplicates: number;
}

export function buildCsrRef(rows: number, cols: number, r: Int32Array, c: Int32Array, values?: Float32Array): RefCsr {
  const n = r.length;
  // The counting sorts index by r[p] and c[p]: refuse pairs outside the matrix rather than drop them silently.
  for (let p = 0; p < n; p++) {
    const u = r[p]!,
      i = c[p];
    if (!(u >= 0 && u < rows && i !== undefined && i >= 0 && i < cols)) throw new RangeError(`pair ${p} (${u}, ${i}) is outside ${rows} x ${cols}`);
  }
  // Pass 1: stable counting sort of the positions by column.
  const colCount = new Int32Array(cols + 1);
  for (let p = 0; p < n; p++) colCount[c[p]! + 1]!++;
  for (let j = 0; j < cols; j++) colCount[j + 1]! += colCount[j]!;
  const byCol = new Int32Array(n);
  for (let p = 0; p < n; p++) byCol[colCount[c[p]!]!++] = p;
  // Pass 2: stable counting sort of those by row: rows ascending, columns ascending within, input order on ties.
  const rowStart = new Int32Array(rows + 1);
  for (let p = 0; p < n; p++) rowStart[r[p]! + 1]!++;
  for (let u = 0; u < rows; u++) rowStart[u + 1]! += rowStart[u]!;
  const next = rowStart.slice(0, rows);
  const order = new Int32Array(n);
  for (let q = 0; q < n; q++) {
    const p = byCol[q]!;
    order[next[r[p]!]!++] = p;
  }
  // Pass 3: merge equal (row, col) neighbours, keeping the last in input order.
  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(n);
  const data = values ? new Float32Array(n) : undefined;
  let out = 0;
  for (let u = 0; u < rows; u++) {
    for (let q = rowStart[u]!; q < rowStart[u + 1]!; q++) {
      const p = order[q]!;
      if (out > indptr[u]! && indices[out - 1] === c[p]) {
        if (data) data[out - 1] = values![p]!;
        continue;
      }
      indices[out] = c[p]!;
      if (data) data[out] = values![p]!;
      out++;
    }
    indptr[u + 1] = out;
  }
  return { rows, cols, indptr, indices: indices.slice(0, out), data: data?.slice(0, out), duplicates: n - out };
}
