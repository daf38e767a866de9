// Every registered model's options: random option objects (known names with in-range, edge and hostile values;
// hostile names like __proto__ and constructor; typos). construct -> fitAsync on tiny data -> recommend -> save ->
// loadModel must either refuse at construction with E_ARG or round-trip (issue 12, items 4, 9, 10, 11). A fit may
// refuse with E_MEMORY or E_STATE (divergence, said so), or E_CANCELLED when it outlives its deadline — and then
// the cancellation must take effect promptly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecsysError, loadModel, models, type Dataset, type Recommender } from '../../../ts/index.js';
import { synthetic } from '../../helpers/synthetic.js';
import { EDGE_NUMBERS, Gen, HOSTILE, showValue } from '../gen.js';
import { checkRecs, coercion, wrong, type Target } from '../target.js';

const DEEP = ['NeuMF', 'GMF', 'MLP', 'MultVAE', 'AutoRec', 'RecVAE', 'SASRec'];
const COMMON = ['threads', 'seed'];
const DEEP_COMMON = ['epochs', 'batchSize', 'lr', 'validation', 'patience', 'optimizer'];
// Used only for models whose unknown-option error does not list the known names (see known()).
const FALLBACK: Record<string, string[]> = {
  Random: [],
  Popularity: [],
  BaselineOnly: ['method', 'epochs', 'regUser', 'regItem', 'reg', 'lr', 'ratingMin', 'ratingMax'],
  AutoRec: [...DEEP_COMMON, 'hidden', 'l2'],
  MultVAE: [...DEEP_COMMON, 'hidden', 'latent', 'dropout', 'beta', 'annealSteps', 'l2'],
  RecVAE: [...DEEP_COMMON, 'hidden', 'latent', 'layers', 'dropout', 'gamma', 'encoderPasses'],
  SASRec: [...DEEP_COMMON, 'maxLength', 'hidden', 'blocks', 'dropout', 'loss', 'negatives', 'windows', 'gbceT', 'l2', 'timeLimit'],
  ItemTransitions: ['historyLength', 'historyDecay', 'window', 'windowDecay', 'popularityWeight'],
  GMF: [...DEEP_COMMON, 'factors', 'negatives', 'l2'],
  MLP: [...DEEP_COMMON, 'factors', 'layers', 'negatives', 'l2'],
  NeuMF: [...DEEP_COMMON, 'factors', 'layers', 'negatives', 'l2', 'pretrain', 'pretrainEpochs', 'alpha'],
};
const HOSTILE_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '', ' ', 'then'];
const STRINGS = [
  'als',
  'sgd',
  'adam',
  'cosine',
  'pearson',
  'msd',
  'pearson_baseline',
  'tfidf',
  'bm25',
  'cg',
  'cholesky',
  'block',
  'auto',
  'none',
  'user',
  'item',
  'ALS',
];

/** The option names a model knows: from its unknown-option error ("known: a, b"), else the list above. */
function known(model: string): string[] {
  try {
    models.find((m) => m.name === model)!.create({ __fuzz_probe__: 1 });
  } catch (e) {
    const m = e instanceof RecsysError ? /known: ([^)]*)\)/.exec(e.message) : null;
    if (m)
      return m[1]!
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
  }
  return [...(FALLBACK[model] ?? []), ...COMMON];
}

/** A plausible value for an option, by its name (most in range, some at the edges). */
function plausible(g: Gen, key: string): unknown {
  if (/^(threads)$/.test(key)) return g.pick([0, 1, 2]);
  if (/seed/.test(key)) return g.int(0, 1e6);
  if (/^(hidden|layers)$/.test(key)) return g.pick([[4], [8, 4], [2], 4, 8, []]);
  if (/epoch|iteration|steps|patience|negatives|batch|factors|latent|hidden|neighbors|^k$|minSupport|cgSteps/i.test(key)) return g.pick([1, 2, 3, 4, 8, 16]);
  if (/rating(Min|Max)/.test(key)) return g.pick([0.5, 1, 5, 10, -1]);
  if (/^(binary|biased|pretrain|computeLoss|scaleReg|implicit|normalize)$/.test(key)) return g.bool();
  if (/method|solver|similarity|optimizer|loss|baseline/i.test(key)) return g.pick(STRINGS);
  return g.pick([0, 0.001, 0.01, 0.05, 0.1, 0.5, 1, 2, 10]);
}

/** maxMemoryBytes of every case (see gen). */
const MEMORY_CAP = 1.5e9;

interface Case {
  model: string;
  options: Record<string, unknown>;
  /** Keys the model does not know. */
  unknown: string[];
  /** Known keys given a value no option takes. */
  neverValid: string[];
  deadlineMs: number;
}

const NEVER_VALID = new Set([
  'null',
  "''",
  "' '",
  "'5'",
  "'abc'",
  '{}',
  '{valueOf:5}',
  '{toString:{}}',
  'Object.create(null)',
  'NaN',
  'Infinity',
  '-Infinity',
  '5n',
  'Symbol()',
  'new Number(5)',
  'new Date(0)',
  '() => 5',
  'new Float32Array(2)',
]);

interface Ctx {
  dir: string;
  ratings: Dataset;
  knownKeys: Map<string, string[]>;
  n: number;
}

export const target: Target<Case, Ctx> = {
  name: 'options',
  setup() {
    const dir = mkdtempSync(join(tmpdir(), 'recsys-fuzz-options-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    const knownKeys = new Map(models.map((m) => [m.name, known(m.name)] as const));
    return { dir, ratings: synthetic({ users: 12, items: 15, minPerUser: 2, maxPerUser: 7, seed: 9 }), knownKeys, n: 0 };
  },
  gen(g, ctx) {
    const deep = g.bool(0.2);
    const model = g.pick(models.filter((m) => DEEP.includes(m.name) === deep)).name;
    const keys = ctx.knownKeys.get(model)!;
    const options: Record<string, unknown> = {};
    const unknown: string[] = [];
    const neverValid: string[] = [];
    // Small fits by default, so the random options decide the cost.
    if (deep) options.epochs = 1;
    for (let m = g.int(0, 4); m > 0; m--) {
      const key = g.weighted<string>([
        [12, () => (keys.length ? g.pick(keys) : g.pick(COMMON))],
        [1.5, () => g.pick(HOSTILE_KEYS)],
        [
          1.5,
          () => {
            const k = keys.length ? g.pick(keys) : 'seed';
            const j = g.int(0, k.length - 1);
            return g.pick([
              k.slice(0, j) + k.slice(j + 1),
              k.toLowerCase() === k ? k.toUpperCase() : k.toLowerCase(),
              k + 's',
              k.slice(0, j) + 'x' + k.slice(j + 1),
            ]);
          },
        ],
      ]);
      let label = '';
      const value = g.weighted<unknown>([
        [6, () => plausible(g, key)],
        [2, () => g.pick(EDGE_NUMBERS) * (g.bool(0.2) ? -1 : 1)],
        [
          2,
          () => {
            const [l, f] = g.pick(HOSTILE);
            label = l;
            return f();
          },
        ],
      ]);
      Object.defineProperty(options, key, { value, enumerable: true, writable: true, configurable: true });
      const isKnown = keys.includes(key);
      if (!isKnown && !unknown.includes(key)) unknown.push(key);
      else if (isKnown) {
        // The last value given to a key is the one the model sees: drop what earlier values of it said (a key
        // can be drawn several times; keeping an earlier never-valid entry reported a valid final value).
        for (let i = neverValid.length - 1; i >= 0; i--) if (neverValid[i]!.startsWith(`${key} = `)) neverValid.splice(i, 1);
        if (NEVER_VALID.has(label)) neverValid.push(`${key} = ${label}`);
      }
    }
    // The worker is stopped above FUZZ_MAX_RSS_MB (3000 MB), while a model's default memory limit is half the
    // machine: cap it, so that a fit the estimate allows stays within the worker and one it refuses is E_MEMORY.
    const mem = options.maxMemoryBytes;
    if (!Object.hasOwn(options, 'maxMemoryBytes') || (typeof mem === 'number' && mem > MEMORY_CAP)) options.maxMemoryBytes = MEMORY_CAP;
    return { model, options, unknown, neverValid, deadlineMs: deep ? 8000 : 3000 };
  },
  show: (c) => `new ${c.model}(${showValue(c.options)}) -> fitAsync(12x15 ratings) -> recommend -> save -> loadModel`,
  async run(c, ctx) {
    const entry = models.find((m) => m.name === c.model)!;
    let m: Recommender;
    try {
      m = entry.create(c.options);
    } catch (e) {
      if (e instanceof RecsysError && e.code !== 'E_ARG') wrong(`construction refused with ${e.code}, not E_ARG: ${e.message}`);
      throw e;
    }
    if (c.unknown.length) coercion(`unknown option${c.unknown.length > 1 ? 's' : ''} ${c.unknown.map((k) => `'${k}'`).join(', ')} accepted silently`);
    if (c.neverValid.length) coercion(`accepted ${c.neverValid.join(', ')}`);
    const ac = new AbortController();
    let abortedAt = 0;
    const timer = setTimeout(() => {
      abortedAt = Date.now();
      ac.abort();
    }, c.deadlineMs);
    try {
      await m.fitAsync(ctx.ratings, { signal: ac.signal });
    } catch (e) {
      if (e instanceof RecsysError) {
        if (e.code === 'E_CANCELLED' && abortedAt && Date.now() - abortedAt > 2000) wrong(`fit took ${Date.now() - abortedAt} ms to stop after abort`);
        // E_ARG: options that conflict with the data (ratingMax below the ratings); E_STATE: a divergence, said so.
        if (!['E_ARG', 'E_MEMORY', 'E_STATE', 'E_CANCELLED'].includes(e.code)) wrong(`fit of accepted options failed: ${e.code} ${e.message}`);
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
    const has = (id: unknown) => ctx.ratings.items.has(id as never);
    const before = checkRecs(m.recommend('u0', { k: 5 }), { k: 5, has, what: 'recommend' });
    const path = join(ctx.dir, `m${ctx.n++}.rsm`);
    try {
      m.save(path);
    } catch (e) {
      if (e instanceof RecsysError) wrong(`a fitted model does not save: ${e.code} ${e.message}`);
      throw e;
    }
    let back: Recommender;
    try {
      back = loadModel(path);
    } catch (e) {
      if (e instanceof RecsysError) wrong(`a saved model does not load: ${e.code} ${e.message}`);
      throw e;
    } finally {
      rmSync(path, { force: true });
    }
    if (back.name !== m.name) wrong(`loaded as ${back.name}`);
    const after = checkRecs(back.recommend('u0', { k: 5 }), { k: 5, has, what: 'recommend after load' });
    if (
      after.length !== before.length ||
      after.some((r, j) => r.item !== before[j]!.item && Math.abs(r.score - before[j]!.score) > 1e-5 * Math.max(1, Math.abs(r.score)))
    )
      wrong(`recommendations differ after load: ${JSON.stringify(before)} vs ${JSON.stringify(after)}`);
  },
};
