// Item attributes for request-time rules: any keys (category, tags, price, in_stock ...) per item, loaded from a
// JSON or CSV file or handed over as an object, and matched to a model's item ids. A filter is compiled here to
// the set of eligible item indices, which the rules pass to the native top-K as `include` (so a filter never
// shortens a list the way filtering a fetched top-K does).
import { readFileSync, statSync } from 'node:fs';
import { RecsysError, argError, show } from '../errors.js';
import type { Id, IdMap } from '../data/idmap.js';
import { splitCsv } from '../data/iteminfo.js';

/** One attribute value: a scalar, or a list (tags). null / absent = the item lacks the attribute. */
export type AttributeValue = string | number | boolean | null | readonly (string | number | boolean)[];
export type ItemAttributeRecord = Readonly<Record<string, AttributeValue>>;

/** Numeric range and set conditions on one attribute. */
export interface AttributeCondition {
  lt?: number;
  lte?: number;
  gt?: number;
  gte?: number;
  /** Equal to (a list attribute: contains). */
  eq?: string | number | boolean;
  /** Not equal to (a list attribute: does not contain); an item without the attribute passes. */
  ne?: string | number | boolean;
  /** One of (a list attribute: shares one). */
  in?: readonly (string | number | boolean)[];
  /** None of (a list attribute: shares none); an item without the attribute passes. */
  notIn?: readonly (string | number | boolean)[];
}

/**
 * A request-time filter: every key must hold (AND). A scalar means equality (for a list attribute such as tags:
 * contains), an array means one of (a list attribute: shares one), an object gives conditions
 * (`{ lt, lte, gt, gte }` on numbers, `eq`, `ne`, `in`, `notIn`). An item without the attribute fails every
 * condition except `ne` and `notIn`. Example: `{ category: ['books'], in_stock: true, price: { lt: 20 } }`.
 */
export type ItemFilter = Readonly<Record<string, string | number | boolean | readonly (string | number | boolean)[] | AttributeCondition>>;

/** CSV options: the id column (default `item`, else `id`) and the separator of list cells (default `|`). */
export interface AttributeFileOptions {
  idColumn?: string;
  listSeparator?: string;
}

const CANONICAL_INT = /^-?(0|[1-9][0-9]*)$/;
const MAX_FILE_BYTES = 1 << 30;
const CONDITION_KEYS = new Set(['lt', 'lte', 'gt', 'gte', 'eq', 'ne', 'in', 'notIn']);

function checkValue(v: unknown, where: string): AttributeValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw argError(`${where} must be finite, got ${show(v)}`);
    return v;
  }
  if (Array.isArray(v)) {
    v.forEach((x: unknown, p) => {
      if (!(typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x))))
        throw argError(`${where}[${p}] must be a string, a finite number or a boolean, got ${show(x)}`);
    });
    return v as AttributeValue;
  }
  throw argError(`${where} must be a string, a number, a boolean, null or an array of those, got ${show(v)}`);
}

/** A CSV cell: '' = absent, true/false, a number, or a list when it holds the separator. */
function parseCell(s: string, sep: string): AttributeValue {
  const t = s.trim();
  if (t === '') return null;
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (sep && t.includes(sep))
    return t
      .split(sep)
      .map((x) => x.trim())
      .filter((x) => x.length > 0);
  const n = Number(t);
  return Number.isFinite(n) && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t) ? n : t;
}

/**
 * Attributes of items by external id. Immutable; `with()` returns a copy with records added or replaced.
 * Bound to a model's item ids on first use (and again for a reloaded model with other ids).
 */
export class ItemAttributes {
  private readonly records: Map<string, ItemAttributeRecord>;
  private readonly bound = new WeakMap<IdMap, BoundAttributes>();

  private constructor(records: Map<string, ItemAttributeRecord>) {
    this.records = records;
  }

  /** How many items have attributes. */
  get size(): number {
    return this.records.size;
  }

  /**
   * From an object `{ [itemId]: { key: value } }` or an array of records each with an `item` (or `id`) key.
   * Throws E_ARG naming the bad entry.
   */
  static from(input: unknown): ItemAttributes {
    if (input instanceof ItemAttributes) return input;
    const out = new Map<string, ItemAttributeRecord>();
    const add = (id: unknown, rec: unknown, where: string) => {
      if (!(typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))))
        throw argError(`${where}: the item id must be a string or a number, got ${show(id)}`);
      if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) throw argError(`${where} must be an object of attributes, got ${show(rec)}`);
      const r: Record<string, AttributeValue> = {};
      for (const [key, v] of Object.entries(rec)) if (key !== 'item' || !Array.isArray(input)) r[key] = checkValue(v, `${where}.${key}`);
      out.set(String(id), Object.freeze(r));
    };
    if (Array.isArray(input)) {
      input.forEach((rec: unknown, p) => {
        const o = rec as Record<string, unknown> | null;
        const id = o && typeof o === 'object' ? (o.item ?? o.id) : undefined;
        add(id, rec, `attributes[${p}]`);
      });
    } else if (input !== null && typeof input === 'object') {
      for (const [id, rec] of Object.entries(input)) add(id, rec, `attributes[${JSON.stringify(id)}]`);
    } else {
      throw argError(`item attributes must be an object { itemId: { ... } } or an array of records, got ${show(input)}`);
    }
    return new ItemAttributes(out);
  }

  /** From CSV text: a header row, an id column (`item`, else `id`), one row per item. */
  static fromCsv(text: string, options: AttributeFileOptions = {}): ItemAttributes {
    const sep = options.listSeparator ?? '|';
    const lines = text.split(/\r?\n/);
    const header = splitCsv(lines[0] ?? '');
    if (!header || header.length === 0 || (header.length === 1 && header[0] === '')) throw argError('attribute CSV: the first line must be a header');
    const idCol = options.idColumn ?? (header.includes('item') ? 'item' : 'id');
    const at = header.indexOf(idCol);
    if (at < 0) throw argError(`attribute CSV: no "${idCol}" column in the header (${header.join(', ')})`);
    const records: Record<string, AttributeValue>[] = [];
    for (let l = 1; l < lines.length; l++) {
      if (lines[l]!.trim() === '') continue;
      const cells = splitCsv(lines[l]!);
      if (!cells || cells.length !== header.length) throw argError(`attribute CSV line ${l + 1}: expected ${header.length} fields`);
      const rec: Record<string, AttributeValue> = {};
      header.forEach((h, c) => {
        if (c === at) return;
        const v = parseCell(cells[c]!, sep);
        if (v !== null) rec[h] = v;
      });
      rec.item = cells[at]!.trim();
      records.push(rec);
    }
    return ItemAttributes.from(records);
  }

  /** From a .json file (either shape of from()) or a .csv file. E_IO when it cannot be read. */
  static load(path: string, options: AttributeFileOptions = {}): ItemAttributes {
    let text: string;
    try {
      const size = statSync(path).size;
      if (size > MAX_FILE_BYTES) throw argError(`${path}: ${size} bytes; attribute files are limited to ${MAX_FILE_BYTES}`);
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if (err instanceof RecsysError) throw err;
      throw new RecsysError('E_IO', `cannot read item attributes ${path}: ${(err as Error).message}`);
    }
    if (/\.csv$/i.test(path)) return ItemAttributes.fromCsv(text, options);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw argError(`${path}: not valid JSON (${(err as Error).message})`);
    }
    return ItemAttributes.from(parsed);
  }

  /** A copy with these records added (an item given again has its record replaced). */
  with(input: unknown): ItemAttributes {
    const add = ItemAttributes.from(input);
    const m = new Map(this.records);
    for (const [k, v] of add.records) m.set(k, v);
    return new ItemAttributes(m);
  }

  /** The record of an item, if it has one. */
  get(item: Id): ItemAttributeRecord | undefined {
    return this.records.get(String(item));
  }

  /** The records by dense index of `items` (a model's item id map). */
  bind(items: IdMap): BoundAttributes {
    let b = this.bound.get(items);
    if (!b) {
      const rows = new Array<ItemAttributeRecord | undefined>(items.size);
      for (const [token, rec] of this.records) {
        let ix = -1;
        if (CANONICAL_INT.test(token) && Number.isSafeInteger(Number(token))) ix = items.index(Number(token));
        if (ix < 0) ix = items.index(token);
        if (ix >= 0) rows[ix] = rec;
      }
      b = new BoundAttributes(rows);
      this.bound.set(items, b);
    }
    return b;
  }
}

type Test = (v: AttributeValue | undefined) => boolean;

const scalar = (x: unknown) => typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x));

function has(v: AttributeValue | undefined, x: string | number | boolean): boolean {
  if (v === undefined || v === null) return false;
  return Array.isArray(v) ? v.includes(x) : v === x;
}

function compileKey(key: string, cond: unknown, where: string): Test {
  if (scalar(cond)) return (v) => has(v, cond as string | number | boolean);
  if (Array.isArray(cond)) {
    cond.forEach((x: unknown, p) => {
      if (!scalar(x)) throw argError(`${where}[${p}] must be a string, a finite number or a boolean, got ${show(x)}`);
    });
    const set = cond as (string | number | boolean)[];
    return (v) => set.some((x) => has(v, x));
  }
  if (cond === null || typeof cond !== 'object') throw argError(`${where} must be a value, a list of values or a condition object, got ${show(cond)}`);
  const tests: Test[] = [];
  for (const [op, arg] of Object.entries(cond)) {
    if (!CONDITION_KEYS.has(op)) throw argError(`${where}.${op} is not a condition (use lt, lte, gt, gte, eq, ne, in, notIn)`);
    if (op === 'lt' || op === 'lte' || op === 'gt' || op === 'gte') {
      if (typeof arg !== 'number' || !Number.isFinite(arg)) throw argError(`${where}.${op} must be a finite number, got ${show(arg)}`);
      const num = (v: AttributeValue | undefined) => (typeof v === 'number' ? v : NaN);
      if (op === 'lt') tests.push((v) => num(v) < arg);
      else if (op === 'lte') tests.push((v) => num(v) <= arg);
      else if (op === 'gt') tests.push((v) => num(v) > arg);
      else tests.push((v) => num(v) >= arg);
    } else if (op === 'eq' || op === 'ne') {
      if (!scalar(arg)) throw argError(`${where}.${op} must be a string, a finite number or a boolean, got ${show(arg)}`);
      const x = arg as string | number | boolean;
      tests.push(op === 'eq' ? (v) => has(v, x) : (v) => !has(v, x));
    } else {
      if (!Array.isArray(arg)) throw argError(`${where}.${op} must be an array of values, got ${show(arg)}`);
      const t = compileKey(key, arg, `${where}.${op}`);
      tests.push(op === 'in' ? t : (v) => !t(v));
    }
  }
  if (tests.length === 0) throw argError(`${where} is an empty condition`);
  return (v) => tests.every((t) => t(v));
}

/** A test of one attribute record, from a filter. Throws E_ARG naming the bad part (`${name}.price.lt`). */
export function compileFilter(filter: unknown, name = 'filter'): (rec: ItemAttributeRecord | undefined) => boolean {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter))
    throw argError(`${name} must be an object of attribute conditions, got ${show(filter)}`);
  const keys = Object.entries(filter).map(([key, cond]) => ({ key, test: compileKey(key, cond, `${name}.${key}`) }));
  return (rec) => keys.every(({ key, test }) => test(rec?.[key]));
}

/** Attributes by a model's dense item index, with a small cache of compiled filters. */
export class BoundAttributes {
  private readonly cache = new Map<string, Int32Array>();
  constructor(readonly rows: readonly (ItemAttributeRecord | undefined)[]) {}

  /** Item indices (ascending) whose attributes pass `filter`. */
  eligible(filter: unknown, name = 'filter'): Int32Array {
    const key = JSON.stringify(filter) ?? '';
    const hit = this.cache.get(key);
    if (hit) return hit;
    const test = compileFilter(filter, name);
    const out: number[] = [];
    for (let i = 0; i < this.rows.length; i++) if (test(this.rows[i])) out.push(i);
    const r = Int32Array.from(out);
    if (this.cache.size >= 256) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, r);
    return r;
  }

  /** The attribute's values of an item as a list (a scalar as one value; absent: none). */
  values(i: number, key: string): readonly (string | number | boolean)[] {
    const v = this.rows[i]?.[key];
    if (v === undefined || v === null) return [];
    return typeof v === 'object' ? v : [v];
  }
}
