// createExperiment: two models behind one service, for A/B tests and shadow traffic. Each arm is a service of its
// own (createRecommender: its own file, hot reload with the atomic swap, micro-batching); this layer only picks
// the arm for a user and keeps the experiment's metrics.
//
// - A/B: a user's requests go to arm B when the user's hash falls below `split`, to arm A otherwise. The hash is
//   FNV-1a (32-bit) over the UTF-8 text of the id (salted), finished with murmur3's fmix32: the same user is in the
//   same arm in every process and after every restart, whatever the model files; a new salt draws new arms.
// - Shadow: arm A answers every request; for the users below `split` arm B scores the same request after the
//   answer is on its way (setImmediate), its latency and top-10 overlap with A's answer are counted, and its
//   result and its errors go nowhere else.
// Requests not made for a user (fold-in, similar items) go to arm A, the control.
import { RecsysError, argError, show } from '../errors.js';
import type { Id } from '../data/idmap.js';
import type { Recommender } from '../models/base.js';
import { ItemAttributes } from './attributes.js';
import { Histogram, escapeLabel } from './metrics.js';
import {
  createRecommender,
  type BatchEntry,
  type CreateRecommenderOptions,
  type ItemScore,
  type RecommenderService,
  type ReloadResult,
  type RequestOptions,
  type ServedModel,
  type ServiceLogger,
  type ServiceStatus,
} from './recommender.js';

export type Arm = 'A' | 'B';

export interface ExperimentOptions {
  /** The second model (arm B): a model file (watched and reloaded like arm A's) or a fitted model. */
  modelB: string | Recommender;
  /**
   * A/B: the fraction of users arm B answers. Shadow: the fraction of users whose requests arm B also scores.
   * In [0, 1]; default 0.5 for A/B, 1 for shadow.
   */
  split?: number;
  /** Shadow mode: arm A answers everything, arm B scores in its shadow. Default false (A/B). */
  shadow?: boolean;
  /** Mixed into the hash: the same salt keeps every user's arm, a new one draws new arms. Default '' (none). */
  salt?: string;
  /** Shadow scorings waiting at most; beyond it they are skipped (and counted), so the shadow cannot pile up. Default 1000. */
  maxShadowPending?: number;
}

/** A service answer with the arm that gave it. */
export interface ArmAnswer {
  user: Id;
  items: ItemScore[];
  arm: Arm;
}

export type ArmBatchEntry = BatchEntry & { arm: Arm };

export interface ExperimentStatus {
  mode: 'ab' | 'shadow';
  split: number;
  salt: string;
  arms: Record<Arm, { model: ServedModel; reloads: ServiceStatus['reloads'] }>;
  /** Shadow scorings by outcome (shadow mode). */
  shadow?: { ok: number; failed: number; skipped: number; pending: number; lastError?: string };
}

export interface ExperimentService extends RecommenderService {
  readonly experiment: { mode: 'ab' | 'shadow'; split: number; salt: string };
  /** The arms' own services (A: the control, which also answers requests not made for a user). */
  readonly arms: Record<Arm, RecommenderService>;
  /** The arm that answers this user's requests (always A in shadow mode). */
  armOf(user: Id): Arm;
  recommend(user: Id, options?: RequestOptions): ArmAnswer;
  recommendAsync(user: Id, options?: RequestOptions): Promise<ArmAnswer>;
  recommendBatch(users: readonly Id[], options?: RequestOptions): { results: ArmBatchEntry[] };
  status(): ServiceStatus & { experiment: ExperimentStatus };
  /** Reloads both arms' files; the result is arm A's, with both in `arms`. */
  reload(): Promise<ReloadResult & { arms: Record<Arm, ReloadResult> }>;
}

const encoder = new TextEncoder();

/**
 * Where a user falls in [0, 1): FNV-1a (32-bit) over the UTF-8 bytes of `salt + "\0" + id` (the id alone when the
 * salt is empty), then murmur3's fmix32 so that ids differing in their last character spread evenly. Numbers hash
 * as their decimal text, so 42 and "42" (the same user to the id rule) share a bucket.
 */
export function userBucket(user: Id, salt = ''): number {
  const bytes = encoder.encode(salt === '' ? String(user) : `${salt}\u0000${String(user)}`);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** The arm of a user for a split (the fraction in arm B). */
export function experimentArm(user: Id, split: number, salt = ''): Arm {
  return userBucket(user, salt) < split ? 'B' : 'A';
}

const OVERLAP_BUCKETS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

/** |first n of a ∩ first n of b| / n with n = min(10, |a|); undefined when a is empty. Ids compare as text. */
export function topOverlap(a: readonly ItemScore[], b: readonly ItemScore[], at = 10): number | undefined {
  const n = Math.min(at, a.length);
  if (n === 0) return undefined;
  const inB = new Set(b.slice(0, n).map((x) => String(x.item)));
  let hit = 0;
  for (let p = 0; p < n; p++) if (inB.has(String(a[p]!.item))) hit++;
  return hit / n;
}

function checkExperiment(e: unknown): Required<ExperimentOptions> {
  if (e === null || typeof e !== 'object') throw argError('experiment must be an object { modelB, split?, shadow?, salt? }');
  const x = e as ExperimentOptions;
  if (typeof x.modelB !== 'string' && (x.modelB === null || typeof x.modelB !== 'object'))
    throw argError('experiment.modelB must be a model file path or a fitted model');
  if (x.shadow !== undefined && typeof x.shadow !== 'boolean') throw argError(`experiment.shadow must be a boolean, got ${show(x.shadow)}`);
  const shadow = x.shadow ?? false;
  const split = x.split ?? (shadow ? 1 : 0.5);
  if (typeof split !== 'number' || !(split >= 0 && split <= 1)) throw argError(`experiment.split must be a number in [0, 1], got ${show(split)}`);
  const salt = x.salt ?? '';
  if (typeof salt !== 'string' || salt.length > 256) throw argError(`experiment.salt must be a string of at most 256 characters, got ${show(salt)}`);
  const pending = x.maxShadowPending ?? 1000;
  if (!Number.isInteger(pending) || pending < 0) throw argError(`experiment.maxShadowPending must be a non-negative integer, got ${show(pending)}`);
  return { modelB: x.modelB, split, shadow, salt, maxShadowPending: pending };
}

const isId = (v: unknown): v is Id => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
const codeOf = (err: unknown): string => (err instanceof RecsysError ? err.code : 'E_INTERNAL');

/** Two models served as one service: see the top of this file and the README's "A/B tests and shadow traffic". */
export function createExperiment(options: CreateRecommenderOptions & { experiment: ExperimentOptions }): ExperimentService {
  if (options === null || typeof options !== 'object') throw argError('createExperiment expects an options object');
  const { experiment, ...base } = options;
  const x = checkExperiment(experiment);
  // One event log feeding one arm would bias the comparison (only that arm's users would see their events).
  if (base.events !== undefined) throw argError('an experiment (two models) cannot keep an event log yet: leave out events (--events-dir) or modelB');
  const mode = x.shadow ? 'shadow' : 'ab';
  const log: ServiceLogger = base.logger ?? console;
  // One copy of the attributes for both arms (a file is read once).
  const attributes =
    base.attributes === undefined
      ? undefined
      : typeof base.attributes === 'string'
        ? ItemAttributes.load(base.attributes, base.attributeFile)
        : ItemAttributes.from(base.attributes);
  const a = createRecommender({ ...base, attributes });
  let b: RecommenderService;
  try {
    b = createRecommender({
      ...base,
      model: x.modelB,
      attributes,
      eventLoopMetrics: false,
      logger: { info: (m) => log.info(`[arm B] ${m}`), warn: (m) => log.warn(`[arm B] ${m}`), error: (m) => log.error(`[arm B] ${m}`) },
    });
  } catch (err) {
    a.close();
    throw err;
  }
  const arms: Record<Arm, RecommenderService> = { A: a, B: b };

  // ---- metrics ----
  const counts = new Map<string, number>();
  const latency = new Histogram();
  const count = (arm: Arm, result: string, n = 1) => {
    const key = `arm="${arm}",result="${escapeLabel(result)}"`;
    counts.set(key, (counts.get(key) ?? 0) + n);
  };
  const timed = (arm: Arm, t0: number) => latency.observe(`arm="${arm}"`, (performance.now() - t0) / 1000);
  const shadowStats = { ok: 0, failed: 0, skipped: 0, pending: 0, lastError: undefined as string | undefined };
  const shadowLatency = new Histogram();
  const shadowOverlap = new Histogram(OVERLAP_BUCKETS);
  let shadowErrorsLogged = 0;

  // Anything but an id goes to arm A, whose checks name the error.
  const armOf = (user: Id): Arm => (x.shadow || !isId(user) ? 'A' : experimentArm(user, x.split, x.salt));
  const shadowed = (user: Id): boolean => x.shadow && isId(user) && userBucket(user, x.salt) < x.split;

  // Runs `score` after the current answer is sent; its result only feeds the metrics, its errors are counted.
  const shadow = (score: () => Promise<ItemScore[][]> | ItemScore[][], primary: ItemScore[][]) => {
    if (shadowStats.pending >= x.maxShadowPending) {
      shadowStats.skipped++;
      return;
    }
    shadowStats.pending++;
    setImmediate(() => {
      const t0 = performance.now();
      let p: Promise<ItemScore[][]>;
      try {
        p = Promise.resolve(score());
      } catch (err) {
        p = Promise.reject(err);
      }
      p.then(
        (lists) => {
          shadowStats.ok++;
          shadowLatency.observe('', (performance.now() - t0) / 1000);
          lists.forEach((l, j) => {
            const o = topOverlap(primary[j] ?? [], l);
            if (o !== undefined) shadowOverlap.observe('', o);
          });
        },
        (err: unknown) => {
          shadowStats.failed++;
          shadowStats.lastError = (err as Error)?.message ?? String(err);
          // The first few, then every 1000th: a broken shadow model must not flood the log.
          if (shadowErrorsLogged++ < 5 || shadowStats.failed % 1000 === 0)
            log.warn(`recsys: shadow scoring failed (${shadowStats.failed} so far): ${shadowStats.lastError}`);
        },
      ).finally(() => {
        shadowStats.pending--;
      });
    });
  };

  function renderExperiment(): string {
    const out: string[] = [];
    out.push('# HELP recsys_experiment_info The experiment served (mode ab or shadow).', '# TYPE recsys_experiment_info gauge');
    out.push(`recsys_experiment_info{mode="${mode}",salt="${escapeLabel(x.salt)}"} 1`);
    out.push('# HELP recsys_experiment_split Fraction of users in arm B (shadow: scored by B).', '# TYPE recsys_experiment_split gauge');
    out.push(`recsys_experiment_split ${x.split}`);
    out.push('# HELP recsys_experiment_model_info The model each arm serves.', '# TYPE recsys_experiment_model_info gauge');
    for (const arm of ['A', 'B'] as const) {
      const s = arms[arm].served;
      out.push(`recsys_experiment_model_info{arm="${arm}",class="${escapeLabel(s.class)}",checksum="${escapeLabel(s.checksum)}"} 1`);
    }
    out.push('# HELP recsys_experiment_model_reloads_total Model reloads per arm by result.', '# TYPE recsys_experiment_model_reloads_total counter');
    for (const arm of ['A', 'B'] as const) {
      const m = arms[arm].metrics;
      out.push(`recsys_experiment_model_reloads_total{arm="${arm}",result="ok"} ${m.reloadsOk}`);
      out.push(`recsys_experiment_model_reloads_total{arm="${arm}",result="error"} ${m.reloadsFailed}`);
    }
    out.push(
      '# HELP recsys_experiment_requests_total Users answered per arm, by result (ok or the error code).',
      '# TYPE recsys_experiment_requests_total counter',
    );
    for (const [labels, n] of counts) out.push(`recsys_experiment_requests_total{${labels}} ${n}`);
    latency.render(out, 'recsys_experiment_duration_seconds', 'Time an arm took to answer (a batch: per arm, its part of the batch).');
    if (x.shadow) {
      out.push('# HELP recsys_shadow_requests_total Shadow scorings by arm B, by result.', '# TYPE recsys_shadow_requests_total counter');
      out.push(`recsys_shadow_requests_total{result="ok"} ${shadowStats.ok}`);
      out.push(`recsys_shadow_requests_total{result="error"} ${shadowStats.failed}`);
      out.push(`recsys_shadow_requests_total{result="skipped"} ${shadowStats.skipped}`);
      shadowLatency.render(out, 'recsys_shadow_duration_seconds', 'Time arm B took to score in the shadow.');
      shadowOverlap.render(out, 'recsys_shadow_overlap_at_10', "Share of arm A's first min(k, 10) items that arm B also ranks there.");
    }
    return out.join('\n') + '\n';
  }

  // ---- the service: what is about arms is here; everything else (limits, metrics of the HTTP routes, fold-in,
  // similar items, and anything a later version adds to the service) is arm A's, through the prototype ----
  const own = {
    experiment: { mode, split: x.split, salt: x.salt },
    arms,
    armOf,
    recommend(user: Id, o?: RequestOptions): ArmAnswer {
      const arm = armOf(user);
      const t0 = performance.now();
      let r: { user: Id; items: ItemScore[] };
      try {
        r = arms[arm].recommend(user, o);
      } catch (err) {
        count(arm, codeOf(err));
        timed(arm, t0);
        throw err;
      }
      count(arm, 'ok');
      timed(arm, t0);
      if (shadowed(user)) shadow(() => [b.recommend(user, o).items], [r.items]);
      return { ...r, arm };
    },
    recommendAsync(user: Id, o?: RequestOptions): Promise<ArmAnswer> {
      const arm = armOf(user);
      const t0 = performance.now();
      return arms[arm].recommendAsync(user, o).then(
        (r) => {
          count(arm, 'ok');
          timed(arm, t0);
          if (shadowed(user)) shadow(() => b.recommendAsync(user, o).then((s) => [s.items]), [r.items]);
          return { ...r, arm };
        },
        (err: unknown) => {
          count(arm, codeOf(err));
          timed(arm, t0);
          throw err;
        },
      );
    },
    recommendBatch(users: readonly Id[], o?: RequestOptions): { results: ArmBatchEntry[] } {
      // Not a list of at most maxBatch ids: arm A's recommendBatch throws the error that names it.
      if (!Array.isArray(users) || users.length > a.limits.maxBatch || !users.every(isId)) return a.recommendBatch(users, o) as { results: ArmBatchEntry[] };
      const results: ArmBatchEntry[] = new Array<ArmBatchEntry>(users.length);
      for (const arm of ['A', 'B'] as const) {
        const where: number[] = [];
        users.forEach((u, p) => {
          if (armOf(u) === arm) where.push(p);
        });
        if (where.length === 0) continue;
        const t0 = performance.now();
        let part: BatchEntry[];
        try {
          part = arms[arm].recommendBatch(
            where.map((p) => users[p]!),
            o,
          ).results;
        } catch (err) {
          count(arm, codeOf(err), where.length);
          timed(arm, t0);
          throw err;
        }
        timed(arm, t0);
        part.forEach((e, j) => {
          count(arm, 'error' in e ? e.error.code : 'ok');
          results[where[j]!] = { ...e, arm };
        });
      }
      // The shadow scores the users arm A answered (the others' errors are the client's already).
      const known: Id[] = [];
      const primary: ItemScore[][] = [];
      results.forEach((e, p) => {
        if ('items' in e && shadowed(users[p]!)) {
          known.push(users[p]!);
          primary.push(e.items);
        }
      });
      if (known.length)
        shadow(
          () =>
            b.recommendBatch(known, o).results.map((e) => {
              if ('error' in e) throw new RecsysError(e.error.code as RecsysError['code'], e.error.message);
              return e.items;
            }),
          primary,
        );
      return { results };
    },
    explain(user: Id, item: Id, o?: { top?: number }) {
      return arms[armOf(user)].explain(user, item, o);
    },
    setAttributes(input: string | ItemAttributes | object, o?: { merge?: boolean }) {
      const r = a.setAttributes(input, o);
      // The same (merged) attributes for arm B.
      b.setAttributes(a.attributes!);
      return r;
    },
    async reload() {
      const [ra, rb] = await Promise.all([a.reload(), b.reload()]);
      return { ...ra, arms: { A: ra, B: rb } };
    },
    status() {
      const sa = a.status();
      const sb = b.status();
      const status: ExperimentStatus = {
        mode,
        split: x.split,
        salt: x.salt,
        arms: { A: { model: sa.model, reloads: sa.reloads }, B: { model: sb.model, reloads: sb.reloads } },
      };
      if (x.shadow) status.shadow = { ...shadowStats };
      return { ...sa, experiment: status };
    },
    renderMetrics() {
      return a.renderMetrics() + renderExperiment();
    },
    close() {
      a.close();
      b.close();
    },
  } satisfies Partial<ExperimentService>;
  return Object.setPrototypeOf(own, a) as ExperimentService;
}

/** createExperiment when `experiment` is given, createRecommender otherwise (the plugin and server use this). */
export function createService(options: CreateRecommenderOptions & { experiment?: ExperimentOptions }): RecommenderService {
  if (options !== null && typeof options === 'object' && options.experiment !== undefined)
    return createExperiment(options as CreateRecommenderOptions & { experiment: ExperimentOptions });
  return createRecommender(options);
}

/** The experiment behind a service, if it is one. */
export function isExperiment(service: RecommenderService): service is ExperimentService {
  return (service as Partial<ExperimentService>).arms !== undefined && typeof (service as Partial<ExperimentService>).armOf === 'function';
}
