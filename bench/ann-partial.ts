// The HNSW index across ImplicitALS.partialFit (issue 15 part 4): what it costs to carry the index over (a copy
// of the old graph, the re-solved items updated, the new items inserted: AnnIndex::extend) against building it
// afresh over the new vectors, and the recall@10 of both against exact top-K.
//
//   npm run bench:ann-partial [-- --items 100000 --new 1000 --changed 2000 --users 20000 --factors 64 --threads 2]
//
// Data: plantedDataset (64 taste groups, 40 interactions per user) over items + new items. The model is fitted
// without the new items and without half the interactions of `changed` known items (every other user's); the
// partialFit then gets the whole data, with those items and the users who lost interactions listed as changed,
// as the live layer's refit does after events.
import { loadavg } from 'node:os';
import { Dataset, FactorModel, IdMap, ImplicitALS, Recommender, plantedDataset } from '../ts/index.js';
import { parseOptions, peakRssMB } from './common.js';

const { opts } = parseOptions();
const nOld = Number(opts.get('items') ?? 100000);
const nNew = Number(opts.get('new') ?? 1000);
const nChanged = Number(opts.get('changed') ?? 2000);
const nUsers = Number(opts.get('users') ?? 20000);
const f = Number(opts.get('factors') ?? 64);
const threads = Number(opts.get('threads') ?? 2);
const nRecall = Number(opts.get('recall') ?? 500);

const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)} load ${loadavg()[0]!.toFixed(1)}] ${s}`);
const total = nOld + nNew;
const full = plantedDataset({ users: nUsers, items: total, groups: 64, perUser: 40, seed: 7 });
const newStep = Math.floor(total / nNew);
const isNew = (i: number) => i % newStep === 1 && i / newStep < nNew;
const changedStep = Math.floor(total / nChanged);
const isChanged = (i: number) => !isNew(i) && i % changedStep === 2;

const oldItems = new IdMap(full.items.ids.filter((_, i) => !isNew(i)));
const allItems = new IdMap([...oldItems.ids, ...full.items.ids.filter((_, i) => isNew(i))]);
const { rows, cols, values } = full.toCoo();
const keep = Array.from(cols, (i, p) => !isNew(i) && !(isChanged(i) && rows[p]! % 2 === 0));
const before = Dataset.fromCoo(
  full.users,
  oldItems,
  rows.filter((_, p) => keep[p]),
  Int32Array.from(
    cols.filter((_, p) => keep[p]),
    (i) => oldItems.index(full.items.id(i)),
  ),
  values!.filter((_, p) => keep[p]),
);
const after = Dataset.fromCoo(
  full.users,
  allItems,
  rows,
  Int32Array.from(cols, (i) => allItems.index(full.items.id(i))),
  values,
);
const changedItems = full.items.ids.filter((_, i) => isChanged(i));
const changedUserSet = new Set<number>();
cols.forEach((i, p) => {
  if (!keep[p]) changedUserSet.add(rows[p]!);
});
const changedUsers = [...changedUserSet].filter((u) => u < nUsers).map((u) => full.users.id(u));
log(
  `${nUsers} users, ${nOld} + ${nNew} new items x ${f} factors; ${before.nnz} interactions, then ${after.nnz}; ` +
    `${changedItems.length} changed items, ${changedUsers.length} changed users; ${threads} threads`,
);

const annOptions = { ann: 'hnsw', annM: 16, annEfConstruction: 100, annEfSearch: 100 } as const;
const iterations = Number(opts.get('iterations') ?? 3);
const params = { factors: f, iterations, threads, seed: 1, ...annOptions };
/** A new recommender over m's native model, as the live layer makes one before a partial refit. */
function successor(m: ImplicitALS, p: ConstructorParameters<typeof ImplicitALS>[0]): ImplicitALS {
  const next = new ImplicitALS(p);
  Recommender.attachState(next, m.nativeModel, m.trainData);
  return next;
}
let t = performance.now();
const bare = new ImplicitALS({ ...params, ann: 'exact' }).fit(before);
log(`fit: ${((performance.now() - t) / 1000).toFixed(1)} s`);
// The same fit (one seed) with the index built over its items.
const base = new ImplicitALS({ ...params, ann: 'exact' }).fit(before);
t = performance.now();
base.nativeModel.buildAnn!({ M: 16, efConstruction: 100, efSearch: 100, seed: 1, threads });
log(`index build over ${nOld} items: ${((performance.now() - t) / 1000).toFixed(1)} s`);

// partialFit of the model without an index (the solve alone) and of the one with it (the solve + AnnIndex::extend),
// alternated so that a change of the machine's load hits both; medians.
const reps = Number(opts.get('reps') ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const solveT: number[] = [],
  carryT: number[] = [];
let plain: ImplicitALS | undefined, carried: ImplicitALS | undefined;
for (let r = 0; r < reps; r++) {
  t = performance.now();
  plain = successor(bare, { ...params, ann: 'exact' }).partialFit(after, { users: changedUsers, items: changedItems });
  solveT.push((performance.now() - t) / 1000);
  t = performance.now();
  carried = successor(base, params).partialFit(after, { users: changedUsers, items: changedItems });
  carryT.push((performance.now() - t) / 1000);
}
const solveS = median(solveT),
  carriedS = median(carryT);
log(`partialFit without an index: ${solveT.map((x) => x.toFixed(2)).join(' / ')} s`);
log(`partialFit carrying the index: ${carryT.map((x) => x.toFixed(2)).join(' / ')} s; the index update ~${(carriedS - solveS).toFixed(2)} s (medians)`);
const buildT: number[] = [];
for (let r = 0; r < reps; r++) {
  t = performance.now();
  plain!.nativeModel.buildAnn!({ M: 16, efConstruction: 100, efSearch: 100, seed: 1, threads });
  buildT.push((performance.now() - t) / 1000);
}
log(`fresh index build over ${total} items: ${buildT.map((x) => x.toFixed(2)).join(' / ')} s`);
if (carried!.annIndex?.items !== total) throw new Error('the index was not carried over');
function recallOf(m: ImplicitALS, exact: FactorModel, ef: number): number {
  m.nativeModel.setAnnSearch!(ef);
  let rec = 0;
  for (let u = 0; u < nRecall; u++) {
    const id = after.users.id(Math.floor((u * nUsers) / nRecall));
    const want = new Set(exact.recommend(id, { k: 10 }).map((r) => r.item));
    rec += m.recommend(id, { k: 10 }).filter((r) => want.has(r.item)).length / 10;
  }
  return rec / nRecall;
}
// How close the approximate top 10 is in score: its scores' sum over the exact top 10's (1 = as good a list). Where
// thousands of items score nearly alike (planted taste groups), recall can be low while this stays near 1.
function scoreRatioOf(m: ImplicitALS, exact: FactorModel, ef: number): number {
  m.nativeModel.setAnnSearch!(ef);
  let ratio = 0;
  for (let u = 0; u < nRecall; u++) {
    const id = after.users.id(Math.floor((u * nUsers) / nRecall));
    const sum = (rs: { score: number }[]) => rs.reduce((a, r) => a + r.score, 0);
    ratio += sum(m.recommend(id, { k: 10 })) / sum(exact.recommend(id, { k: 10 }));
  }
  return ratio / nRecall;
}
const exactOf = (m: ImplicitALS) =>
  FactorModel.fromFactors({
    users: m.trainData.users,
    items: m.trainData.items,
    factors: f,
    userFactors: m.userFactors!,
    itemFactors: m.itemFactors!,
    seen: m.trainData,
    annOptions: { ann: 'exact' },
  });
const exact = exactOf(carried!);
for (const [name, m] of [
  ['carried', carried!],
  ['fresh', plain!],
] as const)
  for (const ef of [100, 200])
    log(
      `${name} index: recall@10 ${recallOf(m, exact, ef).toFixed(4)}, top-10 score sum ${scoreRatioOf(m, exact, ef).toFixed(4)} of exact's, over ${nRecall} users (efSearch ${ef})`,
    );

// --rounds R: the same events as R successive partial fits (each a batch of the new and changed items), the index
// carried through all of them, against one fresh build over the final vectors: does the carried graph drift?
const rounds = Number(opts.get('rounds') ?? 0);
if (rounds > 1) {
  const newOrder = full.items.ids.map((_, i) => i).filter(isNew);
  const changedOrder = full.items.ids.map((_, i) => i).filter(isChanged);
  const batch = new Map<number, number>();
  newOrder.forEach((i, j) => batch.set(i, Math.floor((j * rounds) / newOrder.length)));
  changedOrder.forEach((i, j) => batch.set(i, Math.floor((j * rounds) / changedOrder.length)));
  let m = base;
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const items = new IdMap([...oldItems.ids, ...newOrder.filter((i) => batch.get(i)! <= r).map((i) => full.items.id(i))]);
    const held = (i: number, u: number) => (isNew(i) && batch.get(i)! > r) || (isChanged(i) && batch.get(i)! > r && u % 2 === 0);
    const keepR = Array.from(cols, (i, p) => !held(i, rows[p]!));
    const data = Dataset.fromCoo(
      full.users,
      items,
      rows.filter((_, p) => keepR[p]),
      Int32Array.from(
        cols.filter((_, p) => keepR[p]),
        (i) => items.index(full.items.id(i)),
      ),
      values!.filter((_, p) => keepR[p]),
    );
    const users = new Set<number>();
    cols.forEach((i, p) => {
      if (batch.get(i) === r && (isNew(i) || rows[p]! % 2 === 0)) users.add(rows[p]!);
    });
    t = performance.now();
    m = successor(m, params).partialFit(data, {
      users: [...users].map((u) => full.users.id(u)),
      items: changedOrder.filter((i) => batch.get(i) === r).map((i) => full.items.id(i)),
    });
    times.push((performance.now() - t) / 1000);
  }
  if (m.annIndex?.items !== total) throw new Error('the index was not carried through the rounds');
  log(`${rounds} partial fits carrying the index: ${times.map((x) => x.toFixed(2)).join(' / ')} s`);
  const ex = exactOf(m);
  const carriedR = [100, 200].map((ef) => recallOf(m, ex, ef));
  t = performance.now();
  m.nativeModel.buildAnn!({ M: 16, efConstruction: 100, efSearch: 100, seed: 1, threads });
  log(`fresh build over the final vectors: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const freshR = [100, 200].map((ef) => recallOf(m, ex, ef));
  log(
    `after ${rounds} rounds, recall@10 at efSearch 100 / 200: carried ${carriedR.map((x) => x.toFixed(4)).join(' / ')}, ` +
      `fresh ${freshR.map((x) => x.toFixed(4)).join(' / ')}`,
  );
}
console.log(
  `peak RSS ${peakRssMB().toFixed(0)} MB, threads ${threads}, load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
