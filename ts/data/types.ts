// The shapes the data layer shares: what a reader (parse.ts, bigdata.ts, iteminfo.ts) hands to dataset.ts, which
// alone builds Datasets. Readers import these, never dataset.ts, so the data modules import one way (no loops).
import type { CsrMatrix } from '../native.js';
import type { IdMap } from './idmap.js';

/** What to do with repeated (user, item) pairs. */
export type DuplicatePolicy = 'last' | 'sum' | 'max' | 'error';

export interface DatasetOptions {
  /** What to do with repeated (user, item) pairs. Default 'last'. */
  duplicates?: DuplicatePolicy;
}

/** Display data for items (titles and anything else a format carries). */
export interface ItemInfo {
  title?: string;
  genres?: string[];
  /** Release year, when the title ends with "(YYYY)". */
  year?: number;
  [field: string]: unknown;
}

/** A reader's result: the id maps and the CSR (users x items) built natively, and how many duplicates it merged. */
export interface DatasetParts {
  users: IdMap;
  items: IdMap;
  csr: CsrMatrix;
  duplicates: number;
}
