// Event log compaction after a refit (crash-safe at every step) and the background step that brings new items in.
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Dataset, ImplicitALS, createRecommender, loadModel, type Id } from '../../ts/index.js';
import { EventLog, compactionHooks, type LoggedEvent } from '../../ts/serve/eventlog.js';
import { tempDir } from '../io/helpers.js';
import { liveAls, quiet, segmentsIn } from './fixtures.js';

const tmp = tempDir('recsys-compact-');
afterAll(() => tmp.remove());
afterEach(() => {
  compactionHooks.step = undefined;
});
let dirs = 0;
const freshDir = () => tmp.path(`log${dirs++}`);
function replayAll(log: EventLog, from = 0): LoggedEvent[] {
  const out: LoggedEvent[] = [];
  log.replay(from, (_o, e) => out.push(...e));
  return out;
}
const ev = (u: number, i: number): LoggedEvent => ({ user: `u${u}`, item: i, value: 1 });

describe('EventLog.compact', () => {
  it('moves the segments before the offset (never the newest) to archive/; open and replay still see every event', async () => {
    const dir = freshDir();
    const log = EventLog.open({ dir, segmentBytes: 1024 });
    const all: LoggedEvent[] = [];
    for (let p = 0; p < 90; p++) {
      const batch = [ev(p, p), ev(p, p + 1)];
      all.push(...batch);
      await log.append(batch);
    }
    const live = segmentsIn(dir);
    expect(live.length).toBeGreaterThan(3);
    // Nothing is entirely before offset 1.
    expect(log.compact(1)).toEqual({ segments: 0, events: 0 });
    const c = log.compact(70);
    expect(c.segments).toBeGreaterThan(0);
    expect(c.events).toBeLessThanOrEqual(70);
    expect(log.compaction).toMatchObject({ liveFrom: c.events, segments: c.segments, events: c.events });
    expect(segmentsIn(join(dir, 'archive'))).toEqual(live.slice(0, c.segments));
    expect(segmentsIn(dir)).toEqual(live.slice(c.segments));
    // Past the end: everything but the newest segment.
    log.compact(1e9);
    expect(segmentsIn(dir)).toEqual(live.slice(-1));
    expect(replayAll(log)).toEqual(all);
    await log.append([ev(99, 1)]);
    await log.close();
    const again = EventLog.open({ dir, segmentBytes: 1024 });
    expect(again.nextOffset).toBe(181);
    expect(again.compaction.liveFrom).toBeGreaterThan(70);
    expect(replayAll(again, 160)).toEqual([...all.slice(160), ev(99, 1)]);
    expect(replayAll(again)).toEqual([...all, ev(99, 1)]);
    await again.close();
    // An archive that lost a segment: replay from before the live log refuses rather than skip events.
    const [first] = segmentsIn(join(dir, 'archive'));
    renameSync(join(dir, 'archive', first!), join(tmp.dir, `lost-${dirs}`));
    const broken = EventLog.open({ dir, segmentBytes: 1024 });
    expect(() => replayAll(broken)).toThrow(expect.objectContaining({ code: 'E_FORMAT' }));
    expect(replayAll(broken, 160)).toEqual([...all.slice(160), ev(99, 1)]);
    await broken.close();
  });

  it('a crash between two moves leaves every event in exactly one place', async () => {
    const dir = freshDir();
    const log = EventLog.open({ dir, segmentBytes: 1024 });
    const all: LoggedEvent[] = [];
    for (let p = 0; p < 60; p++) {
      all.push(ev(p, p));
      await log.append([ev(p, p)]);
    }
    const live = segmentsIn(dir);
    let moves = 0;
    compactionHooks.step = (s) => {
      if (s === 'move' && ++moves === 2) throw new Error('crash');
    };
    expect(() => log.compact(1e9)).toThrow('crash');
    compactionHooks.step = undefined;
    expect(segmentsIn(join(dir, 'archive'))).toEqual(live.slice(0, 1));
    expect(segmentsIn(dir)).toEqual(live.slice(1));
    await log.close();
    const again = EventLog.open({ dir, segmentBytes: 1024 });
    expect(again.nextOffset).toBe(60);
    expect(replayAll(again)).toEqual(all);
    expect(again.compact(1e9).segments).toBe(live.length - 2);
    expect(replayAll(again)).toEqual(all);
    await again.close();
  });
});

describe('a live recommender compacts its log after a refit', async () => {
  const model = liveAls();
  const file = tmp.path('als.rsm');
  model.save(file);
  // merge 'sum' (the default) with values 1 to 3 and repeated pairs: the refit's training data has weights above
  // 1, which its saved file keeps (train.data), so after a restart from it a live user's fold-in starts from the
  // same weights and answers as before the restart (the no-crash case compares them, scores included).
  const open = (dir: string, extra: object = {}) =>
    createRecommender({
      model: file,
      watch: false,
      eventLoopMetrics: false,
      logger: quiet,
      events: { dir, segmentBytes: 1024, ...extra },
    });
  const users = ['u0', 'u1', 'u3', 'u8', 'walk-in'];
  // Events over several segments, a new item among them; then a refit, then a tail.
  const batches: { user: Id; item: Id; value: number }[][] = [];
  for (let b = 0; b < 30; b++) {
    const batch = [];
    for (let u = b % 2; u < 60; u += 12)
      batch.push({ user: `u${(u + (b >> 1) * 2) % 60}`, item: b % 3 === 0 ? 'fresh' : (b * 7) % 40, value: 1 + ((b + u) % 3) });
    batches.push(batch);
  }
  batches.push([{ user: 'walk-in', item: 3, value: 1 }]);
  const tail = [
    { user: 'u1', item: 'fresh', value: 1 },
    { user: 'u8', item: 5, value: 1 },
  ];
  const total = batches.flat().length + tail.length;
  const answers = (s: ReturnType<typeof open>) => users.map((u) => s.recommend(u, { k: 10 }).items);

  // Runs the scenario, with `crashAt` throwing at that step of the refit's save + compaction; returns the dir.
  async function run(crashAt?: { step: string; nth?: number }, refit = true): Promise<string> {
    const dir = freshDir();
    const s = open(dir);
    for (const b of batches) await s.ingest(b);
    if (refit) {
      let seen = 0;
      compactionHooks.step = (step) => {
        if (crashAt && step === crashAt.step && ++seen === (crashAt.nth ?? 1)) throw new Error(`crash at ${step}`);
      };
      expect(await s.refit()).toMatchObject({ refitted: true, events: total - tail.length });
      compactionHooks.step = undefined;
    }
    for (const e of tail) await s.ingest([e]);
    s.close();
    await new Promise((r) => setTimeout(r, 20));
    return dir;
  }

  it('no crash: segments the saved refit holds are archived, /v1/status says so, a restart serves the same', async () => {
    const dir = freshDir();
    const s = open(dir);
    for (const b of batches) await s.ingest(b);
    const before = segmentsIn(dir);
    expect(before.length).toBeGreaterThan(2);
    await s.refit();
    const st = s.status().events!;
    expect(st.compacted.segments).toBeGreaterThan(0);
    expect(st.compacted.liveFrom).toBe(st.compacted.events);
    expect(st.compacted.liveFrom).toBeLessThanOrEqual(st.folded);
    expect(segmentsIn(join(dir, 'archive'))).toEqual(before.slice(0, st.compacted.segments));
    for (const e of tail) await s.ingest([e]);
    const served = answers(s);
    s.close();
    await new Promise((r) => setTimeout(r, 20));
    const t = open(dir);
    expect(t.status().events).toMatchObject({ logged: total, folded: total - tail.length, liveUsers: 2 });
    expect(answers(t)).toEqual(served);
    t.close();
  });

  it('a crash at each step of save, checkpoint and compaction: the restart loses nothing and answers as the state on disk says', async () => {
    const restart = (dir: string) => {
      const t = open(dir);
      const out = { answers: answers(t), status: t.status().events! };
      t.close();
      return out;
    };
    // References: a log that was never refitted, and a refit that completed.
    const none = restart(await run(undefined, false));
    const doneDir = await run();
    const archived = segmentsIn(join(doneDir, 'archive'));
    expect(archived.length).toBeGreaterThan(1);
    const done = restart(doneDir);
    expect(none.status.folded).toBe(0);
    expect(done.status.folded).toBe(total - tail.length);
    expect(done.answers).not.toEqual(none.answers);
    const cases: [{ step: string; nth?: number }, typeof none][] = [
      [{ step: 'model' }, none], // before the refitted model is written
      [{ step: 'checkpoint' }, none], // model on disk, refit.json not yet
      [{ step: 'compact' }, done], // checkpoint written, no segment moved
      [{ step: 'move', nth: 1 }, done], // ditto, at the first rename
      [{ step: 'move', nth: 2 }, done], // one segment moved, the others not
    ];
    for (const [crashAt, expected] of cases) {
      const dir = await run(crashAt);
      const got = restart(dir);
      expect(got.answers, crashAt.step).toEqual(expected.answers);
      expect(got.status).toMatchObject({ logged: total, folded: expected.status.folded });
      // Every event is still in the log (live or archived), in order.
      const log = EventLog.open({ dir, segmentBytes: 1024 });
      expect(replayAll(log).length).toBe(total);
      await log.close();
      // After the checkpoint the restart finishes the compaction.
      if (expected === done) expect(segmentsIn(join(dir, 'archive'))).toEqual(archived);
      else expect(segmentsIn(join(dir, 'archive'))).toEqual([]);
    }
  });
});

describe('new items enter in a background step', async () => {
  const model = liveAls();
  const file = tmp.path('als-new.rsm');
  model.save(file);

  it('partialFitAsync gives the same vectors as partialFit', async () => {
    const { rows, cols } = model.trainData.toCoo();
    const users: Id[] = Array.from(rows, (u) => model.trainData.users.id(u));
    const items: Id[] = Array.from(cols, (i) => model.trainData.items.id(i));
    for (let u = 1; u < 60; u += 2) {
      users.push(`u${u}`);
      items.push('brand-new');
    }
    const data = Dataset.fromArrays({ users, items });
    const a = loadModel<ImplicitALS>(file).partialFit(data, { users: ['u1', 'u3'] });
    const b = await loadModel<ImplicitALS>(file).partialFitAsync(data, { users: ['u1', 'u3'] });
    expect(b.itemFactors).toEqual(a.itemFactors);
    expect(b.userFactors).toEqual(a.userFactors);
    expect(b.recommend('u3', { k: 10 })).toEqual(a.recommend('u3', { k: 10 }));
  });

  it("newItems: 'partialFit' makes an unknown item recommendable after ingest, with no failed or mixed answers during the swap", async () => {
    const s = createRecommender({
      model: file,
      watch: false,
      eventLoopMetrics: false,
      logger: quiet,
      events: { dir: freshDir(), newItems: 'partialFit', newItemsDelayMs: 30 },
    });
    const watched = ['u2', 'u4', 'u6', 'u7'];
    const listOf = (u: string) => JSON.stringify(s.recommend(u, { k: 10 }).items.map((x) => x.item));
    const old = watched.map(listOf);
    const events = [];
    for (let u = 1; u < 60; u += 4) events.push({ user: `u${u}`, item: 'brand-new', value: 3 });
    expect((await s.ingest(events)).unknownItems).toBe(events.length);
    expect(s.status().events!.newItems).toMatchObject({ mode: 'partialFit', scheduled: true, runs: 0 });
    expect(() => s.similarItems('brand-new')).toThrow(expect.objectContaining({ code: 'E_UNKNOWN_ITEM' }));
    // Requests keep coming while the step runs: each must succeed with the old model's answer or the new one's.
    const seen: string[][] = [];
    let failures = 0;
    const deadline = Date.now() + 10_000;
    while (s.status().events!.newItems.runs === 0 && Date.now() < deadline) {
      // (Items only: the micro-batched path's scores differ from recommend()'s by float rounding.)
      const got = await Promise.all(
        watched.map((u) =>
          s.recommendAsync(u, { k: 10 }).then(
            (r) => JSON.stringify(r.items.map((x) => x.item)),
            () => (failures++, ''),
          ),
        ),
      );
      seen.push(got);
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(s.status().events!.newItems).toMatchObject({ runs: 1, scheduled: false });
    expect(failures).toBe(0);
    const now = watched.map(listOf);
    expect(now).not.toEqual(old);
    for (const round of seen) expect(round.every((a, j) => a === old[j]) || round.every((a, j) => a === now[j])).toBe(true);
    // The item is in the model now: similar items, and users of its group who have not seen it can get it.
    expect(s.served.items).toBe(model.trainData.nItems + 1);
    expect(s.similarItems('brand-new', { k: 3 }).items).toHaveLength(3);
    const reached = [];
    for (let u = 3; u < 60; u += 4) if (s.recommend(`u${u}`, { k: 10 }).items.some((x) => x.item === 'brand-new')) reached.push(u);
    expect(reached.length).toBeGreaterThan(0);
    expect(s.status().events).toMatchObject({ folded: events.length, liveUsers: 0 });
    s.close();
  });

  it("'ignore' (default) schedules nothing; a bad newItems is E_ARG", async () => {
    const s = createRecommender({ model: file, watch: false, eventLoopMetrics: false, logger: quiet, events: { dir: freshDir() } });
    await s.ingest([{ user: 'u1', item: 'brand-new' }]);
    expect(s.status().events!.newItems).toMatchObject({ mode: 'ignore', scheduled: false, runs: 0 });
    s.close();
    expect(() =>
      createRecommender({ model: file, watch: false, eventLoopMetrics: false, logger: quiet, events: { dir: freshDir(), newItems: 'x' as 'ignore' } }),
    ).toThrow(expect.objectContaining({ code: 'E_ARG' }));
  });
});
