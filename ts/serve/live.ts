// What a live recommender has learnt from events since its model was fitted: each user's new interactions, kept
// by user, turned into the history a fold-in solves from (the user's training items plus the new ones). The
// service asks `history` per request; the answer is cached per user and model until that user's next event or a
// model swap. Events for items the model does not know are kept (and counted) until a refit brings the items in.
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Dataset } from '../data/dataset.js';
import { syncDir } from '../io/format.js';
import { IdMap, type Id } from '../data/idmap.js';
import type { Recommender } from '../models/base.js';
import { compactionHooks, type LoggedEvent } from './eventlog.js';

/** How a new event's value combines with what the user already has for the item. */
export type EventMerge = 'sum' | 'last' | 'max';

export interface LiveHistory {
  /** Dense item indices (known items only) and their values, for the model's fold-in. */
  items: Int32Array;
  values: Float32Array;
  /** Events of this user whose item the model does not know. */
  unknown: number;
  /** Answers already computed for this history, by request options. */
  answers: Map<string, { item: Id; score: number }[]>;
}

interface UserEvents {
  /** The id as first given. */
  user: Id;
  items: Id[];
  values: number[];
  derived?: { model: Recommender; history: LiveHistory };
}

// A user's key: the id as text, so 196 and "196" (JSON number or URL text) are one user, as IdMap.index has it.
const keyOf = (id: Id): string => String(id);

export class LiveEvents {
  private users = new Map<string, UserEvents>();
  /** Every event applied since the model's data, in log order (for a refit), from offset `base`. */
  private log: LoggedEvent[] = [];
  private base = 0;

  constructor(readonly merge: EventMerge = 'sum') {}

  /** Offset of the first event the model does not contain. */
  get foldedUpTo(): number {
    return this.base;
  }
  /** Offset after the last event applied. */
  get appliedUpTo(): number {
    return this.base + this.log.length;
  }
  /** Users with events not in the model. */
  get userCount(): number {
    return this.users.size;
  }

  /** Adds events that are durable in the log (offset = the first one's). Out-of-order or repeated offsets are ignored. */
  apply(offset: number, events: readonly LoggedEvent[]): void {
    const end = this.appliedUpTo;
    const skip = Math.max(0, end - offset);
    for (let p = skip; p < events.length; p++) {
      const e = events[p]!;
      this.log.push(e);
      const key = keyOf(e.user);
      let u = this.users.get(key);
      if (!u) this.users.set(key, (u = { user: e.user, items: [], values: [] }));
      u.items.push(e.item);
      u.values.push(e.value);
      u.derived = undefined;
    }
  }

  has(user: Id): boolean {
    return this.users.has(keyOf(user));
  }

  /**
   * The user's fold-in input under `model`: training items (when the model knows the user) merged with the new
   * ones. Undefined when the user has no events since the model's data.
   */
  history(model: Recommender, user: Id): LiveHistory | undefined {
    const u = this.users.get(keyOf(user));
    if (!u) return undefined;
    if (u.derived?.model === model) return u.derived.history;
    const train = model.trainData;
    const h = model.nativeModel;
    const merged = new Map<number, number>();
    const ux = train.users.index(u.user);
    if (ux >= 0 && ux < h.nUsers) {
      const its = train.userItems(ux);
      const vals = train.userValues(ux);
      for (let j = 0; j < its.length; j++) merged.set(its[j]!, vals ? vals[j]! : 1);
    }
    let unknown = 0;
    for (let p = 0; p < u.items.length; p++) {
      const i = train.items.index(u.items[p]!);
      if (i < 0 || i >= h.nItems) {
        unknown++;
        continue;
      }
      const v = u.values[p]!;
      const prev = merged.get(i);
      merged.set(i, prev === undefined ? v : this.merge === 'sum' ? prev + v : this.merge === 'max' ? Math.max(prev, v) : v);
    }
    // Training items first (in CSR order), then new ones as they came: a request's fold-in input is the same list
    // every time, so its float sums are too (before and after a restart).
    const order = [...merged.keys()];
    const history: LiveHistory = {
      items: Int32Array.from(order),
      values: Float32Array.from(order, (i) => merged.get(i)!),
      unknown,
      answers: new Map(),
    };
    u.derived = { model, history };
    return history;
  }

  /** Events of the applied log whose item `model` does not know. */
  unknownItemEvents(model: Recommender): number {
    const items = model.trainData.items;
    const n = model.nativeModel.nItems;
    let c = 0;
    for (const e of this.log) {
      const i = items.index(e.item);
      if (i < 0 || i >= n) c++;
    }
    return c;
  }

  /**
   * The model's training data plus the events before `upTo` (new users and items appended to the id maps, repeated
   * pairs merged by the merge rule), for a refit. Also returns which known users and items changed.
   */
  trainingData(model: Recommender, upTo: number): { data: Dataset; changedUsers: Id[]; changedItems: Id[] } {
    const train = model.trainData;
    const events = this.log.slice(0, Math.max(0, upTo - this.base));
    const userIds = [...train.users.ids];
    const itemIds = [...train.items.ids];
    const extra = (map: IdMap, ids: Id[], added: Map<string, number>, id: Id): number => {
      const i = map.index(id);
      if (i >= 0) return i;
      const k = keyOf(id);
      let j = added.get(k);
      if (j === undefined) {
        j = ids.length;
        ids.push(id);
        added.set(k, j);
      }
      return j;
    };
    const newUsers = new Map<string, number>();
    const newItems = new Map<string, number>();
    const { rows, cols, values } = train.toCoo();
    const n0 = rows.length;
    const r = new Int32Array(n0 + events.length);
    const c = new Int32Array(n0 + events.length);
    const v = new Float32Array(n0 + events.length);
    r.set(rows);
    c.set(cols);
    if (values) v.set(values);
    else v.fill(1, 0, n0);
    const changedU = new Set<number>();
    const changedI = new Set<number>();
    events.forEach((e, p) => {
      const u = extra(train.users, userIds, newUsers, e.user);
      const i = extra(train.items, itemIds, newItems, e.item);
      if (u < train.nUsers) changedU.add(u);
      if (i < train.nItems) changedI.add(i);
      r[n0 + p] = u;
      c[n0 + p] = i;
      v[n0 + p] = e.value;
    });
    // Dataset.fromCoo keeps the last of repeated pairs or sums them; the merge rule decides which.
    const data = Dataset.fromCoo(new IdMap(userIds), new IdMap(itemIds), r, c, v, undefined, { duplicates: this.merge });
    return {
      data,
      changedUsers: [...changedU].map((u) => train.users.id(u)),
      changedItems: [...changedI].map((i) => train.items.id(i)),
    };
  }

  /** Forgets the events before `upTo` (a refit folded them into the model): users keep only later events. */
  fold(upTo: number): void {
    const rest = this.log.slice(Math.max(0, upTo - this.base));
    const from = Math.max(upTo, this.base);
    this.users.clear();
    this.log = [];
    this.base = from;
    this.apply(from, rest);
  }
}

// ---- the refit snapshot: a refitted model kept beside the log, so a restart resumes from it ----
// <dir>/refit-<offset>.rsm is the model with the log's events before <offset> folded in; <dir>/refit.json names it
// and the base model file (by checksum) it was refitted from. Written model first (fsynced, renamed, directory
// fsynced), then the JSON (atomically): the JSON is the checkpoint, so a crash before it leaves the previous pair
// valid, and only after it may the log segments the model holds be compacted.
export interface RefitSnapshot {
  file: string;
  foldedUpTo: number;
  base: string;
}

const SNAPSHOT = 'refit.json';

/** The snapshot for base model `base` (a checksum), or undefined (none, another base, or unreadable). */
export function readRefitSnapshot(dir: string, base: string): RefitSnapshot | undefined {
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(join(dir, SNAPSHOT), 'utf8'));
  } catch {
    return undefined;
  }
  const r = j as Partial<RefitSnapshot>;
  if (!r || typeof r.file !== 'string' || !/^refit-\d+\.rsm$/.test(r.file) || !Number.isSafeInteger(r.foldedUpTo) || r.base !== base) return undefined;
  return { file: join(dir, r.file), foldedUpTo: r.foldedUpTo!, base };
}

export function writeRefitSnapshot(dir: string, model: Recommender, foldedUpTo: number, base: string): string {
  const name = `refit-${foldedUpTo}.rsm`;
  compactionHooks.step?.('model');
  model.save(join(dir, name));
  syncDir(dir);
  compactionHooks.step?.('checkpoint');
  const tmp = join(dir, `${SNAPSHOT}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify({ file: name, foldedUpTo, base }));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, SNAPSHOT));
  syncDir(dir);
  for (const f of readdirSync(dir)) if (/^refit-\d+\.rsm$/.test(f) && f !== name) rmSync(join(dir, f), { force: true });
  return join(dir, name);
}

/** Forgets the snapshot (the base model changed: the snapshot was refitted from another one). */
export function dropRefitSnapshot(dir: string): void {
  rmSync(join(dir, SNAPSHOT), { force: true });
  syncDir(dir);
}
