// What two models at once cost, in process: a factor model of 20k users x 20k items x 64 factors (random vectors,
// 50 seen items per user) served alone, as an A/B pair (split 0.5) and with arm B in the shadow of arm A (every
// user). CLIENTS concurrent callers loop over recommendAsync (top-10, random users) for SECONDS per setting, the
// settings interleaved over ROUNDS; printed: answers/s and latency percentiles per setting and round, and for the
// shadow the scorings done / skipped and the mean top-10 overlap. Load average printed before and after.
// Usage: npx tsx bench/experiment.ts [seconds=8] [clients=16] [rounds=2]
import { loadavg } from 'node:os';
import { Dataset, FactorModel, IdMap, createExperiment, createRecommender, type RecommenderService } from '../ts/index.js';

const seconds = Number(process.argv[2] ?? 8);
const clients = Number(process.argv[3] ?? 16);
const rounds = Number(process.argv[4] ?? 2);
const nUsers = 20_000,
  nItems = 20_000,
  f = 64,
  seenPerUser = 50;

let s = 12345;
const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
const su = new Int32Array(nUsers * seenPerUser),
  si = new Int32Array(nUsers * seenPerUser);
for (let p = 0; p < su.length; p++) {
  su[p] = Math.floor(p / seenPerUser);
  si[p] = Math.floor(rnd() ** 2 * nItems);
}
const seen = Dataset.fromCoo(
  new IdMap(Array.from({ length: nUsers }, (_, u) => u)),
  new IdMap(Array.from({ length: nItems }, (_, i) => i)),
  su,
  si,
  undefined,
  undefined,
  { duplicates: 'max' },
);
const model = () =>
  FactorModel.fromFactors({
    users: seen.users,
    items: seen.items,
    factors: f,
    userFactors: new Float32Array(nUsers * f).map(() => rnd() * 0.2 - 0.1),
    itemFactors: new Float32Array(nItems * f).map(() => rnd() * 0.2 - 0.1),
    seen,
  });
const A = model();
const B = model();
const quiet = { info() {}, warn() {}, error() {} };
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

async function drive(svc: RecommenderService): Promise<{ rps: number; p50: number; p99: number }> {
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await svc.recommendAsync(Math.floor(rnd() * nUsers), { k: 10 });
        lat.push(performance.now() - t);
      }
    }),
  );
  lat.sort((x, y) => x - y);
  return { rps: lat.length / seconds, p50: lat[Math.floor(lat.length * 0.5)]!, p99: lat[Math.floor(lat.length * 0.99)]! };
}

console.log(`${nUsers} users x ${nItems} items x ${f} factors; ${clients} callers, ${seconds} s per setting, ${rounds} rounds; load ${load()}`);
for (let r = 1; r <= rounds; r++) {
  for (const name of ['single', 'ab 0.5', 'shadow 1'] as const) {
    const svc =
      name === 'single'
        ? createRecommender({ model: A, eventLoopMetrics: false, logger: quiet })
        : createExperiment({ model: A, experiment: { modelB: B, shadow: name === 'shadow 1' }, eventLoopMetrics: false, logger: quiet });
    const x = await drive(svc);
    let extra = '';
    if (name === 'shadow 1') {
      await new Promise((res) => setTimeout(res, 200)); // let the last shadow scorings finish
      const sh = (svc as ReturnType<typeof createExperiment>).status().experiment.shadow!;
      const text = svc.renderMetrics();
      const num = (m: string) => Number(/^.* (\S+)$/.exec(text.split('\n').find((l) => l.startsWith(m + ' ')) ?? ' NaN')![1]);
      extra = `; shadow ok ${sh.ok}, skipped ${sh.skipped}, failed ${sh.failed}, mean top-10 overlap ${(num('recsys_shadow_overlap_at_10_sum') / num('recsys_shadow_overlap_at_10_count')).toFixed(3)}, mean shadow ms ${((1000 * num('recsys_shadow_duration_seconds_sum')) / num('recsys_shadow_duration_seconds_count')).toFixed(2)}`;
    }
    console.log(`round ${r} ${name.padEnd(8)}: ${x.rps.toFixed(0)} answers/s, p50 ${x.p50.toFixed(2)} ms, p99 ${x.p99.toFixed(2)} ms${extra}; load ${load()}`);
    svc.close();
  }
}
