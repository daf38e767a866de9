// The file layouts and odd tokens both parser fuzzers use (test/data/fuzz.test.ts with fast-check, the fuzz
// suite's parse target with its own generator): each preset pairs Dataset.fromFile options with the reference
// parser's options for the same layout.
import type { RefOptions } from '../../bench/reference/parse.js';
import type { FromFileOptions } from '../../ts/index.js';

export interface Preset {
  name: string;
  opts: FromFileOptions;
  ref: RefOptions;
  /** fields of a well-formed line */
  fields: number;
  header?: string;
}

const FOUR = { user: 0, item: 1, rating: 2, timestamp: 3 };
export const PARSE_PRESETS: readonly Preset[] = [
  { name: 'ml-100k', opts: { format: 'movielens-100k' }, ref: { delimiter: '\t', quote: false, header: false, fields: 4, columns: FOUR }, fields: 4 },
  { name: 'ml-1m', opts: { format: 'movielens-1m' }, ref: { delimiter: '::', quote: false, header: false, fields: 4, columns: FOUR }, fields: 4 },
  {
    name: 'ml-csv',
    opts: { format: 'movielens-csv' },
    ref: { delimiter: ',', quote: true, header: true, fields: 4, columns: { user: 'userId', item: 'movieId', rating: 'rating', timestamp: 'timestamp' } },
    header: 'userId,movieId,rating,timestamp',
    fields: 4,
  },
  {
    name: 'implicit ;',
    opts: { delimiter: ';', columns: { user: 1, item: 0 } },
    ref: { delimiter: ';', quote: false, header: false, fields: 0, columns: { user: 1, item: 0 } },
    fields: 2,
  },
  {
    name: 'csv with time',
    opts: { columns: { user: 0, item: 2, timestamp: 1 } },
    ref: { delimiter: ',', quote: true, header: false, fields: 0, columns: { user: 0, item: 2, timestamp: 1 } },
    fields: 3,
  },
  {
    name: 'named " | "',
    opts: { delimiter: ' | ', columns: { user: 'u', item: 'i', rating: 'r' } },
    ref: { delimiter: ' | ', quote: false, header: true, fields: 0, columns: { user: 'u', item: 'i', rating: 'r' } },
    header: 'r | u | i',
    fields: 3,
  },
];

/** A tab-separated layout with quotes and a header (used by the fuzz suite's parse target). */
export const TAB_QUOTED_HEADER: Preset = {
  name: 'tab, quoted, header',
  opts: { delimiter: '\t', quote: true, header: true, columns: { user: 'a', item: 'b', rating: 'c', timestamp: 'd' } },
  ref: { delimiter: '\t', quote: true, header: true, fields: 0, columns: { user: 'a', item: 'b', rating: 'c', timestamp: 'd' } },
  header: 'd\ta\tb\tc',
  fields: 4,
};

/** Tokens as binary strings (one char per byte), so invalid UTF-8 can be written. */
export const PARSE_TOKENS: readonly string[] = [
  '0',
  '1',
  '2',
  '3',
  '7',
  '12',
  '-3',
  '007',
  '+5',
  '-0',
  '9007199254740991',
  '9007199254740992',
  '99999999999999999999',
  '4.5',
  '.5',
  '5.',
  '1e3',
  '1E-2',
  '0x10',
  '1e400',
  '-1e400',
  '1e-400',
  '1e39',
  '3.4028234e38',
  'NaN',
  'Infinity',
  '-Infinity',
  '',
  ' ',
  ' 3 ',
  '\t4',
  'abc',
  'a b',
  '"q,x"',
  '"a""b"',
  '"open',
  'x"y',
  '\xC3\xA9t\xC3\xA9',
  '\xE9',
  '\xF0\x9F\x98\x80',
  '\xED\xA0\x80',
  '\x00',
  ':',
  '::',
  '|',
  ' | ',
];
