// Spark for real: spark/train_als.py trains MLlib ALS in local[2] on generated data exported with exportParquet,
// recsys loads the saved model, and its top-10 for sampled users must equal Spark's recommendForUserSubset (same
// items, scores within 1e-4), also after Spark loads a model that recsys exported. Fold-in of a training user
// from their training interactions must reproduce Spark's answer too (Spark's last half-sweep solves the users).
// Needs Java and pyspark: run through `npm run test:spark` (scripts/ci-spark.sh installs pyspark). Skips, saying
// why, when they are missing, unless RECSYS_REQUIRE_SPARK=1 (as in CI), where that is a failure.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Dataset,
  exportParquet,
  exportSparkALS,
  FactorModel,
  loadSparkALS,
  models,
  perUserSplit,
  readSparkALSInfo,
  type Id,
  type Recommender,
} from '../../ts/index.js';
import { mulberry32 } from '../helpers/random.js';
import { TempDir } from '../helpers/tmpdir.js';

const run = promisify(execFile);
const requireSpark = process.env.RECSYS_REQUIRE_SPARK === '1';

function findPython(): { python?: string; why?: string } {
  const candidates = [process.env.RECSYS_PYTHON, join(homedir(), '.cache', 'recsys-spark-venv', 'bin', 'python'), 'python3'].filter(
    (p): p is string => !!p && (p === 'python3' || existsSync(p)),
  );
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0) return { why: 'Java is not installed (java -version failed)' };
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import pyspark, numpy; print(pyspark.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python: py };
  }
  return { why: `pyspark is not importable from ${candidates.join(', ')} (scripts/ci-spark.sh installs it)` };
}

const found = findPython();
if (!found.python) {
  const msg = `Spark test skipped: ${found.why}`;
  if (requireSpark) throw new Error(`${msg}, and RECSYS_REQUIRE_SPARK=1`);
  console.warn(msg);
}

const tmp = new TempDir();
afterAll(() => tmp.remove());

async function python(script: string, args: string[]): Promise<string> {
  const env = { ...process.env, PYSPARK_PYTHON: found.python!, PYSPARK_DRIVER_PYTHON: found.python!, SPARK_LOCAL_IP: '127.0.0.1' };
  try {
    const r = await run(found.python!, [join(process.cwd(), 'spark', script), ...args], { env, maxBuffer: 64 << 20, timeout: 600_000 });
    return r.stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(
      `${script} failed: ${e.message}\n${(e.stderr ?? '')
        .split('\n')
        .filter((l) => !/WARN|^\s*$/.test(l))
        .slice(-40)
        .join('\n')}`,
    );
  }
}

type Recs = Record<string, [Id, number][]>;

const worst: Record<string, number> = {};

/** Same items in the same order (a pair of near-equal scores may swap) and scores within tol. */
function expectSameTop(ours: { item: Id; score: number }[], spark: [Id, number][], tol: number, who: string): void {
  const kind = who.split(',')[0]!;
  expect(ours.length, who).toBe(spark.length);
  expect(new Set(ours.map((r) => String(r.item))), who).toEqual(new Set(spark.map(([i]) => String(i))));
  const sparkScore = new Map(spark.map(([i, s]) => [String(i), s]));
  ours.forEach((r, j) => {
    const d = Math.abs(r.score - sparkScore.get(String(r.item))!);
    worst[kind] = Math.max(worst[kind] ?? 0, d / Math.max(1, Math.abs(r.score)));
    expect(d, `${who} item ${String(r.item)}`).toBeLessThan(tol);
    if (String(r.item) !== String(spark[j]![0])) expect(Math.abs(r.score - spark[j]![1]), `${who} position ${j}`).toBeLessThan(1e-5);
  });
}

describe.skipIf(!found.python)('Spark MLlib ALS <-> recsys', () => {
  it("serves a Spark-trained model with Spark's top-10, and Spark serves a recsys-exported model with recsys's", async () => {
    // Generated implicit data: power-law users and items, counts 1..4, string user ids and numeric item ids.
    const rnd = mulberry32(2024);
    const users: Id[] = [];
    const items: Id[] = [];
    const counts: number[] = [];
    for (let p = 0; p < 6000; p++) {
      users.push(`u${Math.floor(rnd() ** 1.5 * 300)}`);
      items.push(10 * Math.floor(rnd() ** 2 * 150));
      counts.push(1 + Math.floor(rnd() * 4));
    }
    const ds = Dataset.fromArrays({ users, items, ratings: counts }, { duplicates: 'sum' });
    const split = perUserSplit(ds, { testFraction: 0.2, seed: 1, minTrain: 2 });
    const data = join(tmp.dir, 'data');
    await exportParquet(split, data, { partitions: 2 });

    const sparkModel = join(tmp.dir, 'spark-model');
    const out = await python('train_als.py', [
      '--input',
      join(data, 'train'),
      '--test',
      join(data, 'test'),
      '--format',
      'parquet',
      '--rating-col',
      'rating',
      '--implicit',
      '--rank',
      '8',
      '--max-iter',
      '6',
      '--reg-param',
      '0.05',
      '--alpha',
      '2',
      '--num-blocks',
      '2',
      '--seed',
      '3',
      '--k',
      '10',
      '--master',
      'local[2]',
      '--output',
      sparkModel,
    ]);
    const report = JSON.parse(out.trim().split('\n').pop()!) as { metrics: Record<string, number>; users: number };
    expect(report.metrics['precision@10']).toBeGreaterThan(0);
    expect(report.metrics['precision@10']).toBeLessThanOrEqual(1);
    expect(report.metrics['ndcg@10']).toBeGreaterThan(0);
    expect(readSparkALSInfo(sparkModel).params).toMatchObject({ implicitPrefs: true, alpha: 2, regParam: 0.05, rank: 8 });

    const fromSpark = await loadSparkALS(sparkModel);
    expect(fromSpark.trainData.nUsers).toBe(split.train.users.ids.filter((_, u) => split.train.userItems(u).length > 0).length);

    // Our own ALS (ImplicitALS when this build has it; otherwise the Spark factors reshuffled) exported for Spark.
    const entry = models.find((m) => m.name === 'ImplicitALS');
    let ours: Recommender & { userFactors?: Float32Array };
    if (entry) {
      ours = entry.create({ factors: 8, iterations: 4, alpha: 2, reg: 0.05, seed: 5, threads: 1 }).fit(split.train);
    } else {
      const rev = (m: Float32Array, n: number) => {
        const r = new Float32Array(m.length);
        for (let k = 0; k < n; k++) r.set(m.subarray((n - 1 - k) * 8, (n - k) * 8), k * 8);
        return r;
      };
      const u = fromSpark.trainData.users;
      const i = fromSpark.trainData.items;
      ours = FactorModel.fromFactors({
        users: u,
        items: i,
        factors: 8,
        userFactors: rev(fromSpark.userFactors!, u.size),
        itemFactors: rev(fromSpark.itemFactors!, i.size),
      });
    }
    const exported = join(tmp.dir, 'recsys-model');
    await exportSparkALS(ours as never, exported);

    // Sample users that both models know (trained users).
    const known = fromSpark.trainData.users.ids.filter((id) => ours.trainData.users.has(id) && split.train.userItems(split.train.users.index(id)).length > 0);
    const sample = known.filter((_, k) => k % Math.ceil(known.length / 25) === 0);
    expect(sample.length).toBeGreaterThanOrEqual(20);
    const usersFile = join(tmp.dir, 'users.json');
    writeFileSync(usersFile, JSON.stringify(sample));
    const r1 = join(tmp.dir, 'spark-recs.json');
    const r2 = join(tmp.dir, 'export-recs.json');
    await python('recommend_als.py', [
      '--master',
      'local[2]',
      '--users-file',
      usersFile,
      '--k',
      '10',
      '--model',
      sparkModel,
      '--out',
      r1,
      '--model',
      exported,
      '--out',
      r2,
    ]);
    const sparkRecs = JSON.parse(readFileSync(r1, 'utf8')) as Recs;
    const exportRecs = JSON.parse(readFileSync(r2, 'utf8')) as Recs;

    for (const u of sample) {
      // Spark's recommendForUserSubset does not leave seen items out.
      expectSameTop(fromSpark.recommend(u, { k: 10, filterSeen: false }), sparkRecs[String(u)]!, 1e-4, `spark model, user ${String(u)}`);
      expectSameTop(ours.recommend(u, { k: 10, filterSeen: false }), exportRecs[String(u)]!, 1e-4, `exported model, user ${String(u)}`);
      // Fold-in from the user's training interactions solves the same least squares as Spark's last user sweep.
      const t = split.train;
      const ix = t.users.index(u);
      const foldIn = fromSpark.recommendForNewUser(
        { items: Array.from(t.userItems(ix), (i) => t.items.id(i)), ratings: Array.from(t.userValues(ix)!) },
        { k: 10, filterSeen: false },
      );
      expectSameTop(foldIn, sparkRecs[String(u)]!, 1e-4, `fold-in, user ${String(u)}`);
    }
    console.log(`largest score differences to Spark over ${sample.length} users: ${JSON.stringify(worst)}`);
  }, 600_000);
});
