// createRecommender: the serving core without any HTTP framework. It holds the current model, resolves external
// ids given as text or JSON values, checks request bounds, reloads the model file when it changes (keeping the old
// model when the new file is bad) and keeps the metrics. The Fastify plugin (plugin.ts) is a thin layer over it;
// other frameworks can call it directly.
import { watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { RecsysError, argError, show } from '../errors.js';
import { unknownIdError, type Id } from '../data/idmap.js';
import { Recommender, type Recommendation } from '../models/base.js';
import { modelEntry } from '../models/registry.js';
import { loadModelWithInfo, loadModelWithInfoAsync, readModelInfo, type ModelFileInfo } from '../io/load.js';
import { resolveId, resolveIds } from './ids.js';
import { ServiceMetrics } from './metrics.js';
import { packageVersion } from '../info.js';
import {
  EventLog,
  compactionHooks,
  type ArchiveRetention,
  type EventLogCompaction,
  type EventLogOptions,
  type EventLogPruning,
  type PruneResult,
  type EventLogRecovery,
  type EventLogStats,
  type LoggedEvent,
} from './eventlog.js';
import { LiveEvents, dropRefitSnapshot, readRefitSnapshot, writeRefitSnapshot, type EventMerge } from './live.js';
import { ItemAttributes, type AttributeFileOptions } from './attributes.js';
import { hasRules, rankWithRules, type RuleOptions } from './rules.js';
import { explain as explainPair, type Explanation } from '../models/explain.js';

/** Where messages about reloads go (console and pino-style loggers both fit). */
export interface ServiceLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface CreateRecommenderOptions {
  /** A model file (served with hot reload) or a fitted model. */
  model: string | Recommender;
  /** Reload the file when it changes (and on reload()). Default true when `model` is a path. */
  watch?: boolean;
  /** Quiet period after a file change before reloading, in ms (writers that are not atomic emit several events). Default 200. */
  watchDebounceMs?: number;
  /** Largest k a request may ask for. Default 1000. */
  maxK?: number;
  /** k when a request gives none. Default 10. */
  defaultK?: number;
  /** Most users in one batch request. Default 1000. */
  maxBatch?: number;
  /** Most items in one fold-in request (and in one exclude list). Default 10000. */
  maxItems?: number;
  /** Default: console. */
  logger?: ServiceLogger;
  /** Track event-loop delay for /metrics. Default true. */
  eventLoopMetrics?: boolean;
  /**
   * Item attributes for filters, boosts and caps (see ts/serve/attributes.ts): a .json or .csv file, an
   * ItemAttributes, or an object { itemId: { key: value } } / an array of records with an `item` key.
   */
  attributes?: string | ItemAttributes | object;
  /** How an attribute CSV is read (id column, list separator). */
  attributeFile?: AttributeFileOptions;
  /**
   * An event log that makes the service learn while it serves: ingest() (POST /v1/events) appends events durably
   * and the users' next recommendations fold them in. On start the log is replayed. Default: none (ingest fails).
   */
  events?: EventLogOptions & {
    /** How an event's value combines with the value the user already has for the item. Default 'sum' (counts). */
    merge?: EventMerge;
    /**
     * What an ingested event naming an item the model does not know starts, after `newItemsDelayMs` without
     * another such event: 'partialFit' a partial refit (ImplicitALS.partialFitAsync on a worker: new items and
     * users solved, changed ones re-solved), 'refit' a refit in the model's default mode, 'ignore' (default)
     * nothing (the items wait for a refit). Either way the swap is atomic, as a reload's.
     */
    newItems?: 'partialFit' | 'refit' | 'ignore';
    /** Debounce of `newItems`, in ms. Default 1000. */
    newItemsDelayMs?: number;
  };
}

/** One interaction for ingest(). */
export interface IngestEvent {
  user: Id;
  item: Id;
  /** Weight (a count, a rating). Default 1. */
  value?: number;
  /** Stored with the event, not interpreted. */
  timestamp?: number;
}

export interface IngestResult {
  /** Events appended (all of them: the answer comes once they are durable). */
  accepted: number;
  /** Log offset of the first one. */
  offset: number;
  /** Of them, events whose item the model does not know yet (kept; recommendable after a refit or the newItems step). */
  unknownItems: number;
}

export interface RefitResult {
  refitted: boolean;
  reason?: string;
  /** 'partial': ImplicitALS.partialFit (new and changed users and items re-solved); 'full': a new fit. */
  mode?: 'partial' | 'full';
  /** Log events folded into the new model. */
  events?: number;
  ms?: number;
  model: ServedModel;
}

/** What the service says about the model it serves. */
export interface ServedModel {
  class: string;
  /** The file it came from (absent for a model handed over in memory). */
  path?: string;
  /** "xxh64:..." of the file, or "memory". */
  checksum: string;
  users: number;
  items: number;
  /** When this model started serving (ms since the epoch). */
  loadedAt: number;
  /** From the file's metadata. */
  created?: string;
  library?: string;
  params: Record<string, unknown>;
}

/** filter, boost, pin, diversity, explain: see ts/serve/rules.ts. */
export interface RequestOptions extends RuleOptions {
  k?: number;
  /** Items never to return (unknown ids are ignored). */
  exclude?: readonly Id[];
  /** Leave out the user's training items (for fold-in: the given items). Default true. */
  filterSeen?: boolean;
}

export interface ItemScore {
  item: Id;
  score: number;
  /** Set on items placed by a pin rule. */
  pinned?: true;
  /** With `explain: true`. */
  explanation?: Explanation;
}

export interface ReloadResult {
  /** The model now serving came from this reload. */
  reloaded: boolean;
  /** Why the reload was skipped or failed (the previous model keeps serving). */
  reason?: string;
  model: ServedModel;
}

export interface ServiceStatus {
  status: 'ok';
  /** The recsys version serving. */
  version: string;
  model: ServedModel;
  reloads: { ok: number; failed: number; lastError?: string };
  events?: {
    dir: string;
    durability: 'group' | 'strict';
    /** Events in the log / already in the model (refits) / users with events not in the model. */
    logged: number;
    folded: number;
    liveUsers: number;
    stats: EventLogStats;
    recovered: EventLogRecovery;
    /** The background step for new items (events.newItems): runs done, and whether one is scheduled. */
    newItems: { mode: 'partialFit' | 'refit' | 'ignore'; runs: number; scheduled: boolean; lastError?: string };
    /** Log segments moved to <dir>/archive/ once a saved refit held all their events. */
    compacted: EventLogCompaction;
    /** What archive retention (events.archiveRetention, pruneArchive()) has deleted: events before `before` are gone. */
    pruned: EventLogPruning & { retention?: ArchiveRetention };
  };
}

export type BatchEntry = { user: Id; items: ItemScore[] } | { user: Id; error: { code: string; message: string } };

export interface RecommenderService {
  /** The model serving now (replaced by reloads: read it per request, do not keep it). */
  readonly model: Recommender;
  readonly served: ServedModel;
  readonly metrics: ServiceMetrics;
  readonly limits: { maxK: number; defaultK: number; maxBatch: number; maxItems: number };
  /** Top-k for a training user. Throws RecsysError E_UNKNOWN_USER (404 over HTTP) or E_ARG. */
  recommend(user: Id, options?: RequestOptions): { user: Id; items: ItemScore[] };
  /**
   * recommend() through a micro-batch: requests that arrive in the same event-loop turn with the same k and
   * filterSeen (and no exclude list) are scored together with one matrix product, which reads the item factors
   * once for the whole batch. The HTTP route uses this; the items equal recommend()'s, the scores up to float
   * rounding (a matrix product instead of a matrix-vector one).
   */
  recommendAsync(user: Id, options?: RequestOptions): Promise<{ user: Id; items: ItemScore[] }>;
  /**
   * Top-k for a new or anonymous user from the items they interacted with (fold-in); unknown ids are ignored.
   * None known: E_UNKNOWN_ITEM, or with `fallback: 'popularity'` the most popular items and `fallback` set in
   * the answer.
   */
  recommendForItems(
    input: { items: readonly Id[]; ratings?: readonly number[] },
    options?: RequestOptions & { fallback?: 'error' | 'popularity' },
  ): { items: ItemScore[]; fallback?: 'popularity' };
  /** Top-k for many users; an unknown user gets an error entry instead of failing the batch. */
  recommendBatch(users: readonly Id[], options?: RequestOptions): { results: BatchEntry[] };
  /** Why `item` scores as it does for `user` (see ts/models/explain.ts). E_UNKNOWN_USER/ITEM, E_UNSUPPORTED. */
  explain(user: Id, item: Id, options?: { top?: number }): Explanation;
  /** The item attributes rules use (undefined: none loaded). */
  readonly attributes: ItemAttributes | undefined;
  /** Replaces the item attributes (a file path, an object or records), or with `merge` adds/replaces records. */
  setAttributes(input: string | ItemAttributes | object, options?: { merge?: boolean }): { items: number };
  /** Items most like an item. Throws E_UNKNOWN_ITEM or E_UNSUPPORTED. */
  similarItems(item: Id, options?: { k?: number }): { item: Id; items: ItemScore[] };
  /** Reloads the model file now (the watcher and SIGHUP call this). Never throws: a bad file leaves the old model. */
  reload(): Promise<ReloadResult>;
  /** Liveness only, safe to expose without a token (GET /healthz). */
  health(): { status: 'ok' };
  /** Details for operators (GET /v1/status, behind the token): the model served, its file, params, reloads. */
  status(): ServiceStatus;
  /** Prometheus text format. */
  renderMetrics(): string;
  /**
   * Appends events to the event log; resolves once they are durable, and from then on the users' recommendations
   * reflect them (fold-in of training items plus new items, which are also left out as seen). E_UNSUPPORTED
   * without `events` in the options; E_ARG for a bad event.
   */
  ingest(events: readonly IngestEvent[]): Promise<IngestResult>;
  /**
   * Folds the logged events into a new model and swaps it in atomically (as a reload does): ImplicitALS by
   * partialFitAsync on the addon's worker thread (mode 'partial', its default), other models by a full fitAsync on
   * a worker thread over the model's training data plus the events (mode 'full'). New items become recommendable.
   * Once the refitted model is saved beside the log, the log segments it holds move to <dir>/archive/.
   */
  refit(options?: { mode?: 'partial' | 'full' }): Promise<RefitResult>;
  /**
   * Deletes archived log segments by `retention` (default: events.archiveRetention), oldest first, and only those
   * whose events the refit saved beside the log holds (none without one). Once gone, a replay that needs them (a
   * new base model on reload, an unreadable refit at startup) fails with E_PRUNED instead of serving without them.
   */
  pruneArchive(retention?: ArchiveRetention): PruneResult;
  /** Stops watching the file (and closes the event log once its appends in flight are durable). */
  close(): void;
}

function served(model: Recommender, info: ModelFileInfo | undefined): ServedModel {
  return {
    class: model.name,
    path: info?.path,
    checksum: info?.checksum ?? 'memory',
    users: model.trainData.nUsers,
    items: model.trainData.nItems,
    loadedAt: Date.now(),
    created: info?.meta.created,
    library: info?.meta.library,
    params: { ...model.params },
  };
}

// Id -> index maps are built on first lookup; doing it at load keeps that cost off the first requests.
function warm(model: Recommender): void {
  model.trainData.users.index('');
  model.trainData.items.index('');
}

function toScores(list: Recommendation[]): ItemScore[] {
  return list;
}

export function createRecommender(options: CreateRecommenderOptions): RecommenderService {
  if (options === null || typeof options !== 'object') throw argError('createRecommender expects an options object');
  const log: ServiceLogger = options.logger ?? console;
  const int = (v: unknown, name: string, dflt: number, min: number, max: number): number => {
    if (v === undefined) return dflt;
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw argError(`${name} must be an integer in [${min}, ${max}], got ${show(v)}`);
    return v as number;
  };
  const maxK = int(options.maxK, 'maxK', 1000, 1, 1_000_000);
  const limits = {
    maxK,
    defaultK: int(options.defaultK, 'defaultK', Math.min(10, maxK), 1, maxK),
    maxBatch: int(options.maxBatch, 'maxBatch', 1000, 1, 1_000_000),
    maxItems: int(options.maxItems, 'maxItems', 10_000, 1, 10_000_000),
  };
  const metrics = new ServiceMetrics(options.eventLoopMetrics ?? true);
  const readAttributes = (input: unknown): ItemAttributes =>
    typeof input === 'string' ? ItemAttributes.load(input, options.attributeFile) : ItemAttributes.from(input);
  let attributes: ItemAttributes | undefined = options.attributes === undefined ? undefined : readAttributes(options.attributes);

  let path: string | undefined;
  // The checksum of the model file as last loaded: a refit serves another model, but the file is what reloads watch.
  let baseChecksum = 'memory';
  let current: { model: Recommender; served: ServedModel };
  if (typeof options.model === 'string') {
    path = resolve(options.model);
    const { model, info } = loadModelWithInfo(path);
    warm(model);
    current = { model, served: served(model, info) };
    baseChecksum = info.checksum;
  } else if (options.model && typeof options.model === 'object' && typeof options.model.recommend === 'function') {
    current = { model: options.model, served: served(options.model, undefined) };
    warm(options.model);
  } else {
    throw argError('model must be a model file path or a fitted model');
  }

  // ---- the event log and what it taught the model since ----
  let eventLog: EventLog | undefined;
  let live: LiveEvents | undefined;
  // Log events the refit saved beside the log holds (its refit.json, for the current base file): archive retention
  // may delete only those. 0 without one (a model not from a file, none yet, or a new base model since).
  let checkpoint = 0;
  const newItems: { mode: 'partialFit' | 'refit' | 'ignore'; delayMs: number; runs: number; timer?: NodeJS.Timeout; lastError?: string } = {
    mode: 'ignore',
    delayMs: 1000,
    runs: 0,
  };
  if (options.events !== undefined) {
    const ev = options.events;
    if (ev === null || typeof ev !== 'object') throw argError('events must be an object ({ dir, durability?, ... })');
    const merge = ev.merge ?? 'sum';
    if (merge !== 'sum' && merge !== 'last' && merge !== 'max') throw argError(`events.merge must be 'sum', 'last' or 'max', got ${show(merge)}`);
    const ni = ev.newItems ?? 'ignore';
    if (ni !== 'partialFit' && ni !== 'refit' && ni !== 'ignore') throw argError(`events.newItems must be 'partialFit', 'refit' or 'ignore', got ${show(ni)}`);
    newItems.mode = ni;
    newItems.delayMs = int(ev.newItemsDelayMs, 'events.newItemsDelayMs', 1000, 0, 3_600_000);
    eventLog = EventLog.open(ev);
    const t = eventLog.recovered.truncated;
    if (t) log.warn(`recsys: event log ${t.file} ended in a torn record (${t.reason}); dropped ${t.droppedBytes} bytes after byte ${t.at}`);
    // A model refitted from this base file and the log resumes from its snapshot; only the log's tail is replayed.
    const snap = path ? readRefitSnapshot(eventLog.dir, baseChecksum) : undefined;
    let from = 0;
    let whyAll = snap ? `the refit ${snap.file} is past the log's end` : `no refit beside the log was made from ${path ?? 'this model'}`;
    if (snap && snap.foldedUpTo <= eventLog.nextOffset) {
      try {
        const { model, info } = loadModelWithInfo(snap.file);
        warm(model);
        current = { model, served: served(model, info) };
        from = snap.foldedUpTo;
        checkpoint = from;
        log.info(`recsys: resuming from the refit ${snap.file} (events before offset ${from} folded in)`);
        // Finishes a compaction a crash interrupted (the snapshot is the checkpoint that allows it).
        compactLog(eventLog, from);
      } catch (err) {
        whyAll = `the refit ${snap.file} cannot be loaded (${(err as Error).message})`;
        log.warn(`recsys: cannot load the refit snapshot ${snap.file} (${(err as Error).message}); replaying the whole log on ${path}`);
      }
    }
    try {
      live = replayLog(eventLog, merge, from);
    } catch (err) {
      // Serving the model without the pruned events would be silently wrong: refuse to start, saying why.
      if (err instanceof RecsysError && err.code === 'E_PRUNED')
        throw new RecsysError(
          'E_PRUNED',
          `cannot start on ${path ?? 'the model'} with the event log ${eventLog.dir}: ${whyAll}, so the whole log must be replayed, but ${err.message}`,
        );
      throw err;
    }
    pruneLog(eventLog);
  }
  function compactLog(l: EventLog, upTo: number): void {
    try {
      compactionHooks.step?.('compact');
      const c = l.compact(upTo);
      if (c.segments > 0) log.info(`recsys: compacted ${c.segments} event log segments (${c.events} events held by the refit) into ${l.compaction.archive}`);
    } catch (err) {
      log.warn(`recsys: event log compaction stopped (${(err as Error).message}); the segments left stay live and are retried after the next refit`);
    }
  }
  // Archive retention after a compaction (and at startup): only what the saved refit holds.
  function pruneLog(l: EventLog): void {
    if (!l.retention) return;
    try {
      const r = l.pruneArchive(l.retention, checkpoint);
      if (r.segments > 0) log.info(`recsys: pruned ${r.segments} archived event log segments (${r.bytes} bytes); the archive now starts at offset ${r.before}`);
    } catch (err) {
      log.warn(`recsys: event log archive pruning stopped (${(err as Error).message}); retried after the next refit`);
    }
  }
  function replayLog(l: EventLog, merge: EventMerge, from: number): LiveEvents {
    const fresh = new LiveEvents(merge);
    fresh.fold(from);
    l.replay(from, (offset, events) => fresh.apply(offset, events));
    if (l.nextOffset > from) log.info(`recsys: replayed ${l.nextOffset - from} events from ${l.dir} (${fresh.userCount} users)`);
    return fresh;
  }
  const checkEventId = (v: unknown, name: string): Id => {
    if (typeof v === 'string') {
      if (v.length === 0 || v.length > 512) throw argError(`${name} must be 1 to 512 characters`);
      return v;
    }
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    throw argError(`${name} must be a string or a finite number, got ${show(v)}`);
  };
  const checkEvents = (events: unknown): LoggedEvent[] => {
    if (!Array.isArray(events)) throw argError('events must be an array of { user, item, value?, timestamp? }');
    if (events.length === 0) throw argError('events must not be empty');
    if (events.length > limits.maxItems) throw argError(`events has ${events.length} entries; at most ${limits.maxItems}`);
    return events.map((e: unknown, p) => {
      if (e === null || typeof e !== 'object' || Array.isArray(e)) throw argError(`events[${p}] must be an object { user, item, value?, timestamp? }`);
      const x = e as Record<string, unknown>;
      const user = checkEventId(x.user, `events[${p}].user`);
      const item = checkEventId(x.item, `events[${p}].item`);
      const value = x.value ?? 1;
      if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > 3.4e38)
        throw argError(`events[${p}].value must be a finite number, got ${show(value)}`);
      if (x.timestamp !== undefined && (typeof x.timestamp !== 'number' || !Number.isFinite(x.timestamp)))
        throw argError(`events[${p}].timestamp must be a finite number, got ${show(x.timestamp)}`);
      return x.timestamp === undefined ? { user, item, value } : { user, item, value, timestamp: x.timestamp };
    });
  };
  // A user with events not in the model: fold-in over training items plus new ones, cached per user, options and
  // model (no cache with an exclude list). Undefined for users without such events.
  const liveAnswer = (m: Recommender, user: Id, req: RequestOptions | undefined): ItemScore[] | undefined => {
    const h = live?.history(m, user);
    if (!h) return undefined;
    // Rules (filter, boost, pin, diversity, explain) run on the same fold-in history.
    if (hasRules(req) && h.items.length > 0) return ruled(m, { history: { items: h.items, values: h.values } }, req);
    const o = opts(req);
    const key = o.exclude === undefined ? `${o.k}/${o.filterSeen}` : undefined;
    const hit = key === undefined ? undefined : h.answers.get(key);
    if (hit) return hit;
    const ids = Array.from(h.items, (i) => m.trainData.items.id(i));
    let out: ItemScore[];
    try {
      // No known item yet (a new user whose items are all new): the most popular items, as fold-in's fallback.
      out = toScores(
        m.recommendForNewUser({ items: ids, ratings: Array.from(h.values) }, { k: o.k, filterSeen: o.filterSeen, exclude: o.exclude, fallback: 'popularity' }),
      );
    } catch (err) {
      // A model without fold-in still leaves a known user's new items out as seen; a new user it cannot serve.
      const u = resolveId(m.trainData.users, user);
      if (!(err instanceof RecsysError) || err.code !== 'E_UNSUPPORTED' || u === undefined) throw err;
      out = toScores(m.recommend(u, { k: o.k, filterSeen: o.filterSeen, exclude: o.filterSeen ? [...(o.exclude ?? []), ...ids] : o.exclude }));
    }
    if (key !== undefined) h.answers.set(key, out);
    return out;
  };

  const checkK = (k: unknown): number => {
    if (k === undefined) return limits.defaultK;
    if (!Number.isInteger(k) || (k as number) < 1 || (k as number) > limits.maxK) throw argError(`k must be an integer in [1, ${limits.maxK}], got ${show(k)}`);
    return k as number;
  };
  const checkList = (v: unknown, name: string, max: number): readonly Id[] => {
    if (!Array.isArray(v)) throw argError(`${name} must be an array of ids`);
    if (v.length > max) throw argError(`${name} has ${v.length} entries; at most ${max}`);
    for (let p = 0; p < v.length; p++) {
      const x: unknown = v[p];
      if (typeof x !== 'string' && !(typeof x === 'number' && Number.isFinite(x))) throw argError(`${name}[${p}] must be a string or a number`);
    }
    return v as Id[];
  };
  const opts = (o: RequestOptions | undefined) => {
    const m = current.model;
    if (o !== undefined && (o === null || typeof o !== 'object')) throw argError('request options must be an object');
    return {
      k: checkK(o?.k),
      filterSeen: o?.filterSeen ?? true,
      exclude: o?.exclude === undefined ? undefined : resolveIds(m.trainData.items, checkList(o.exclude, 'exclude', limits.maxItems)),
    };
  };

  // Requests with rules run through rankWithRules (exclude as dense indices, include none).
  const ruled = (m: Recommender, target: Parameters<typeof rankWithRules>[1], o: RequestOptions | undefined): ItemScore[] => {
    const { k, filterSeen } = opts(o);
    const exclude =
      o?.exclude === undefined
        ? undefined
        : m.trainData.items.indicesOf(resolveIds(m.trainData.items, checkList(o.exclude, 'exclude', limits.maxItems))).filter((v) => v >= 0);
    return rankWithRules(m, target, { ...o, k, filterSeen, exclude, include: undefined }, attributes);
  };

  // ---- micro-batching of single-user requests (recommendAsync) ----
  interface Pending {
    user: Id;
    k: number;
    filterSeen: boolean;
    // The model current when the request came in: a reload in between does not mix models within an answer.
    at: { model: Recommender; served: ServedModel };
    resolve: (r: { user: Id; items: ItemScore[] }) => void;
    reject: (e: unknown) => void;
  }
  let queue: Pending[] = [];
  const flush = () => {
    const batch = queue;
    queue = [];
    const groups = new Map<unknown, Map<string, { ids: Id[]; entries: Pending[] }>>();
    for (const e of batch) {
      const m = e.at.model;
      if (live?.has(e.user)) {
        try {
          e.resolve({ user: e.user, items: liveAnswer(m, e.user, { k: e.k, filterSeen: e.filterSeen })! });
        } catch (err) {
          e.reject(err);
        }
        continue;
      }
      const id = resolveId(m.trainData.users, e.user);
      if (id === undefined) {
        e.reject(unknownIdError(m.trainData.users, e.user, 'user'));
        continue;
      }
      let byOptions = groups.get(e.at);
      if (!byOptions) groups.set(e.at, (byOptions = new Map<string, { ids: Id[]; entries: Pending[] }>()));
      const key = `${e.k}/${e.filterSeen}`;
      let g = byOptions.get(key);
      if (!g) byOptions.set(key, (g = { ids: [], entries: [] }));
      g.ids.push(id);
      g.entries.push(e);
    }
    for (const byOptions of groups.values()) {
      for (const g of byOptions.values()) {
        const { k, filterSeen, at } = g.entries[0]!;
        try {
          if (g.ids.length === 1) g.entries[0]!.resolve({ user: g.entries[0]!.user, items: toScores(at.model.recommend(g.ids[0]!, { k, filterSeen })) });
          else
            at.model.recommendBatch(g.ids, { k, filterSeen }).forEach((list, j) => g.entries[j]!.resolve({ user: g.entries[j]!.user, items: toScores(list) }));
        } catch (err) {
          for (const e of g.entries) e.reject(err);
        }
      }
    }
  };

  // ---- reloads: one at a time; a change during a reload queues one more ----
  let reloading: Promise<ReloadResult> | undefined;
  let again = false;
  async function reloadOnce(): Promise<ReloadResult> {
    if (!path) return { reloaded: false, reason: 'the model was not loaded from a file', model: current.served };
    try {
      // The header alone says whether the contents changed (touch, or a watcher event for another reason).
      if (readModelInfo(path).checksum === baseChecksum) return { reloaded: false, reason: 'the file has not changed', model: current.served };
      const { model, info } = await loadModelWithInfoAsync(path);
      warm(model);
      // A new base model: a refit of the old one no longer applies, and the whole log goes on top of the new one.
      // Read before the swap (synchronously, so no event lands in between): a log whose archive was pruned cannot
      // give it, and the reload fails (E_PRUNED) with the current model still served and its refit kept.
      let fresh: LiveEvents | undefined;
      if (eventLog && live && live.foldedUpTo > 0) {
        try {
          fresh = replayLog(eventLog, live.merge, 0);
        } catch (err) {
          if (err instanceof RecsysError && err.code === 'E_PRUNED')
            throw new RecsysError('E_PRUNED', `the new model in ${path} needs the whole event log replayed on it, but ${err.message}`);
          throw err;
        }
      }
      // One assignment: requests already running finish on the model they started with, later ones get this one.
      current = { model, served: served(model, info) };
      baseChecksum = info.checksum;
      if (eventLog && fresh) {
        dropRefitSnapshot(eventLog.dir);
        checkpoint = 0;
        live = fresh;
      }
      metrics.reloadsOk++;
      log.info(`recsys: now serving ${info.meta.class} ${info.checksum} from ${path} (${current.served.users} users, ${current.served.items} items)`);
      return { reloaded: true, model: current.served };
    } catch (err) {
      const reason = (err as Error).message;
      metrics.reloadsFailed++;
      metrics.lastReloadError = reason;
      log.warn(`recsys: model reload failed, still serving ${current.served.checksum}: ${reason}`);
      return { reloaded: false, reason, model: current.served };
    }
  }
  function reload(): Promise<ReloadResult> {
    if (reloading) {
      again = true;
      return reloading;
    }
    reloading = (async () => {
      let r = await reloadOnce();
      while (again) {
        again = false;
        r = await reloadOnce();
      }
      return r;
    })().finally(() => {
      reloading = undefined;
    });
    return reloading;
  }

  // ---- refit: the model's data plus the logged events, then the same atomic swap as a reload ----
  let refitting: Promise<RefitResult> | undefined;
  async function refitOnce(mode: 'partial' | 'full' | undefined): Promise<RefitResult> {
    const at = current;
    const l = live!;
    const upTo = l.appliedUpTo;
    const before = l.foldedUpTo;
    if (upTo === before) return { refitted: false, reason: 'no events since the model was fitted', model: at.served };
    const t0 = performance.now();
    const m = at.model;
    const canPartial = typeof (m as { partialFitAsync?: unknown }).partialFitAsync === 'function';
    const how = mode ?? (canPartial ? 'partial' : 'full');
    if (how === 'partial' && !canPartial) throw new RecsysError('E_UNSUPPORTED', `${m.name} has no partialFit; use refit({ mode: 'full' })`);
    let next: Recommender;
    try {
      next = modelEntry(m.name).create({ ...m.params });
    } catch {
      throw new RecsysError('E_UNSUPPORTED', `cannot make a new ${m.name} to refit (not a model family of the registry)`);
    }
    const { data, changedUsers, changedItems } = l.trainingData(m, upTo);
    if (how === 'partial') {
      // A copy over the served model's vectors; partialFit makes a new native model and leaves the served one alone.
      Recommender.attachState(next, m.nativeModel, m.trainData);
      // New users and items are solved, and so are the known ones with new interactions (items, then users).
      // On the addon's worker thread: the event loop keeps serving the current model meanwhile.
      await (next as unknown as { partialFitAsync(d: typeof data, o: { users: Id[]; items: Id[] }): Promise<unknown> }).partialFitAsync(data, {
        users: changedUsers,
        items: changedItems,
      });
    } else {
      await next.fitAsync(data);
    }
    warm(next);
    if (current !== at) return { refitted: false, reason: 'the model was reloaded during the refit', model: current.served };
    current = { model: next, served: { ...served(next, undefined), checksum: `refit:${upTo}` } };
    l.fold(upTo);
    // Kept beside the log (for a model served from a file), so that a restart resumes from it.
    if (path && eventLog) {
      try {
        const file = writeRefitSnapshot(eventLog.dir, next, upTo, baseChecksum);
        current.served.path = file;
        checkpoint = upTo;
        compactLog(eventLog, upTo);
        pruneLog(eventLog);
      } catch (err) {
        log.warn(`recsys: the refitted model could not be saved beside the log (${(err as Error).message}); a restart replays the whole log`);
      }
    }
    const ms = performance.now() - t0;
    log.info(
      `recsys: refit (${how}) folded ${upTo - before} events in ${ms.toFixed(0)} ms; now serving ${current.served.users} users, ${current.served.items} items`,
    );
    return { refitted: true, mode: how, events: upTo - before, ms, model: current.served };
  }
  function refit(o?: { mode?: 'partial' | 'full' }): Promise<RefitResult> {
    if (!live) return Promise.reject(new RecsysError('E_UNSUPPORTED', 'this service has no event log: pass events: { dir } to createRecommender'));
    const mode = o?.mode;
    if (mode !== undefined && mode !== 'partial' && mode !== 'full') return Promise.reject(argError(`mode must be 'partial' or 'full', got ${show(mode)}`));
    refitting ??= refitOnce(mode).finally(() => {
      refitting = undefined;
    });
    return refitting;
  }

  // ---- new items: a debounced background refit once events name items the model does not know ----
  const scheduleNewItems = () => {
    if (newItems.mode === 'ignore' || closed) return;
    if (newItems.timer) clearTimeout(newItems.timer);
    newItems.timer = setTimeout(() => {
      newItems.timer = undefined;
      const m = current.model;
      const partial = newItems.mode === 'partialFit' && typeof (m as { partialFitAsync?: unknown }).partialFitAsync === 'function';
      refit({ mode: partial ? 'partial' : undefined }).then(
        (r) => {
          newItems.runs++;
          newItems.lastError = undefined;
          // Events that came in during the step may name more new items: another step for them.
          if (r.refitted && live && live.unknownItemEvents(current.model) > 0) scheduleNewItems();
        },
        (err: unknown) => {
          newItems.lastError = (err as Error).message;
          log.warn(`recsys: the background step for new items failed: ${(err as Error).message}`);
        },
      );
    }, newItems.delayMs);
    newItems.timer.unref();
  };
  let closed = false;

  // ---- watching the file: its directory, since an atomic save replaces the file (a new inode) ----
  let watcher: FSWatcher | undefined;
  let polling = false;
  let timer: NodeJS.Timeout | undefined;
  const debounce = int(options.watchDebounceMs, 'watchDebounceMs', 200, 0, 60_000);
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void reload();
    }, debounce);
    timer.unref();
  };
  if (path && (options.watch ?? true)) {
    const name = basename(path);
    try {
      watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
        if (file === null || file === name) schedule();
      });
      watcher.on('error', (err) => log.warn(`recsys: watching ${path} failed (${err.message}); reload with SIGHUP`));
    } catch (err) {
      log.warn(`recsys: cannot watch ${dirname(path)} (${(err as Error).message}); polling ${path} every second`);
      polling = true;
      watchFile(path, { interval: 1000, persistent: false }, schedule);
    }
  }

  return {
    get model() {
      return current.model;
    },
    get served() {
      return current.served;
    },
    metrics,
    limits,
    recommend(user, o) {
      const m = current.model;
      const fresh = live?.has(user) ? liveAnswer(m, user, o) : undefined;
      if (fresh) return { user, items: fresh };
      const id = resolveId(m.trainData.users, user);
      if (id === undefined) throw unknownIdError(m.trainData.users, user, 'user');
      if (hasRules(o)) return { user, items: ruled(m, { user: m.trainData.users.index(id) }, o) };
      return { user, items: toScores(m.recommend(id, opts(o))) };
    },
    recommendAsync(user, o) {
      if (o?.exclude !== undefined || hasRules(o)) {
        try {
          return Promise.resolve(this.recommend(user, o));
        } catch (err) {
          return Promise.reject(err);
        }
      }
      let k: number;
      try {
        k = checkK(o?.k);
      } catch (err) {
        return Promise.reject(err);
      }
      return new Promise((resolve, reject) => {
        if (queue.length === 0) setImmediate(flush);
        queue.push({ user, k, filterSeen: o?.filterSeen ?? true, at: current, resolve, reject });
      });
    },
    recommendForItems(input, o) {
      const m = current.model;
      if (input === null || typeof input !== 'object') throw argError('expected { items, ratings? }');
      const raw = checkList(input.items, 'items', limits.maxItems);
      if (input.ratings !== undefined) {
        if (!Array.isArray(input.ratings) || input.ratings.length !== raw.length) throw argError('ratings must have one number per item');
        for (let p = 0; p < input.ratings.length; p++) if (!Number.isFinite(input.ratings[p])) throw argError(`ratings[${p}] must be a finite number`);
      }
      const ids: Id[] = [];
      const ratings: number[] = [];
      raw.forEach((r, p) => {
        const id = resolveId(m.trainData.items, r);
        if (id !== undefined) {
          ids.push(id);
          if (input.ratings) ratings.push(input.ratings[p]!);
        }
      });
      const fallback = o?.fallback;
      if (hasRules(o) && ids.length > 0) {
        const idx = m.trainData.items.indicesOf(ids);
        const history = { items: idx, values: input.ratings ? Float32Array.from(ratings) : undefined };
        return { items: ruled(m, { history }, o) };
      }
      // The popularity fallback honours a filter (no history: nothing else applies).
      const include =
        ids.length === 0 && o?.filter !== undefined && attributes
          ? Array.from(attributes.bind(m.trainData.items).eligible(o.filter), (v) => m.trainData.items.id(v))
          : undefined;
      const items = toScores(m.recommendForNewUser({ items: ids, ratings: input.ratings ? ratings : undefined }, { ...opts(o), fallback, include }));
      // recommendForNewUser falls back exactly when no given item is known (and throws unless asked to).
      return ids.length === 0 ? { items, fallback: 'popularity' } : { items };
    },
    recommendBatch(users, o) {
      const m = current.model;
      const list = checkList(users, 'users', limits.maxBatch);
      const o2 = opts(o);
      const known: Id[] = [];
      const where: number[] = [];
      const results: BatchEntry[] = list.map((u, p) => {
        const fresh = live?.has(u) ? liveAnswer(m, u, o) : undefined;
        if (fresh) return { user: u, items: fresh };
        const id = resolveId(m.trainData.users, u);
        if (id === undefined) return { user: u, error: { code: 'E_UNKNOWN_USER', message: unknownIdError(m.trainData.users, u, 'user').message } };
        known.push(id);
        where.push(p);
        return { user: u, items: [] };
      });
      const lists = !known.length ? [] : hasRules(o) ? known.map((id) => ruled(m, { user: m.trainData.users.index(id) }, o)) : m.recommendBatch(known, o2);
      lists.forEach((l, j) => {
        (results[where[j]!] as { items: ItemScore[] }).items = toScores(l);
      });
      return { results };
    },
    similarItems(item, o) {
      const m = current.model;
      const id = resolveId(m.trainData.items, item);
      if (id === undefined) throw unknownIdError(m.trainData.items, item, 'item');
      return { item, items: toScores(m.similarItems(id, checkK(o?.k))) };
    },
    explain(user, item, o) {
      const m = current.model;
      const u = resolveId(m.trainData.users, user);
      if (u === undefined) throw unknownIdError(m.trainData.users, user, 'user');
      const i = resolveId(m.trainData.items, item);
      if (i === undefined) throw unknownIdError(m.trainData.items, item, 'item');
      if (o?.top !== undefined) int(o.top, 'top', 10, 0, limits.maxItems);
      return explainPair(m, u, i, o);
    },
    get attributes() {
      return attributes;
    },
    setAttributes(input, o) {
      const next = readAttributes(input);
      attributes = o?.merge && attributes ? attributes.with(next) : next;
      return { items: attributes.size };
    },
    reload,
    health() {
      return { status: 'ok' };
    },
    status() {
      return {
        status: 'ok',
        version: packageVersion(),
        model: current.served,
        reloads: { ok: metrics.reloadsOk, failed: metrics.reloadsFailed, lastError: metrics.lastReloadError },
        events:
          eventLog && live
            ? {
                dir: eventLog.dir,
                durability: eventLog.durability,
                logged: eventLog.nextOffset,
                folded: live.foldedUpTo,
                liveUsers: live.userCount,
                stats: { ...eventLog.stats },
                recovered: eventLog.recovered,
                newItems: { mode: newItems.mode, runs: newItems.runs, scheduled: newItems.timer !== undefined, lastError: newItems.lastError },
                compacted: { ...eventLog.compaction },
                pruned: { ...eventLog.pruning, ...(eventLog.retention && { retention: { ...eventLog.retention } }) },
              }
            : undefined,
      };
    },
    async ingest(events) {
      if (!eventLog || !live)
        throw new RecsysError('E_UNSUPPORTED', 'this service has no event log: pass events: { dir } to createRecommender (--events-dir to recsys serve)');
      const list = checkEvents(events);
      // Applied to the live state current when they are durable (a reload may have rebuilt it meanwhile).
      const { offset } = await eventLog.append(list, (at) => live?.apply(at, list));
      const m = current.model;
      let unknownItems = 0;
      for (const e of list) {
        const i = m.trainData.items.index(e.item);
        if (i < 0 || i >= m.nativeModel.nItems) unknownItems++;
      }
      if (unknownItems > 0) scheduleNewItems();
      return { accepted: list.length, offset, unknownItems };
    },
    refit,
    pruneArchive(retention) {
      if (!eventLog) throw new RecsysError('E_UNSUPPORTED', 'this service has no event log: pass events: { dir } to createRecommender');
      const r = retention ?? eventLog.retention;
      if (r === undefined) throw argError('pruneArchive needs a retention ({ maxAgeDays?, maxBytes? }) or events.archiveRetention');
      const out = eventLog.pruneArchive(r, checkpoint);
      if (out.segments > 0)
        log.info(`recsys: pruned ${out.segments} archived event log segments (${out.bytes} bytes); the archive now starts at offset ${out.before}`);
      return out;
    },
    renderMetrics() {
      return metrics.render(current.served);
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (newItems.timer) clearTimeout(newItems.timer);
      watcher?.close();
      if (polling && path) unwatchFile(path);
      metrics.close();
      if (eventLog) void eventLog.close();
    },
  };
}
