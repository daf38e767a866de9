import { spawn } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Dataset, ImplicitALS, createRecommender, loadModel, type Id } from '../../ts/index.js';
import { EventLog, encodeRecord, type LoggedEvent } from '../../ts/serve/eventlog.js';
import { factorModel, tempDir } from '../io/helpers.js';
import { mulberry32 } from '../helpers/random.js';
import { liveAls, quiet, server } from './fixtures.js';

const root = join(import.meta.dirname, '..', '..');
const tmp = tempDir('recsys-events-');
afterAll(() => tmp.remove());
let dirs = 0;
const freshDir = () => tmp.path(`log${dirs++}`);

const ev = (u: number, i: number, value = 1): LoggedEvent => ({ user: `u${u}`, item: i, value });
function replayAll(log: EventLog, from = 0): LoggedEvent[] {
  const out: LoggedEvent[] = [];
  log.replay(from, (_o, e) => out.push(...e));
  return out;
}
const segmentsOf = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => join(dir, f));

describe('EventLog', () => {
  it('appends durably, replays from any offset and continues after reopening', async () => {
    const dir = freshDir();
    const log = EventLog.open({ dir });
    const a = await log.append([ev(1, 10), ev(1, 11, 3)]);
    const b = await log.append([ev(2, 12)]);
    expect(a).toEqual({ offset: 0, count: 2 });
    expect(b).toEqual({ offset: 2, count: 1 });
    expect(replayAll(log)).toEqual([ev(1, 10), ev(1, 11, 3), ev(2, 12)]);
    expect(replayAll(log, 1)).toEqual([ev(1, 11, 3), ev(2, 12)]);
    await log.close();
    const again = EventLog.open({ dir });
    expect(again.recovered).toMatchObject({ records: 2, events: 3 });
    expect(again.recovered.truncated).toBeUndefined();
    expect((await again.append([{ user: 7, item: 'x', value: 1, timestamp: 1.5e9 }])).offset).toBe(3);
    expect(replayAll(again, 3)).toEqual([{ user: 7, item: 'x', value: 1, timestamp: 1.5e9 }]);
    await again.close();
  });

  it('rolls over to a new segment past segmentBytes; replay crosses segments', async () => {
    const dir = freshDir();
    const log = EventLog.open({ dir, segmentBytes: 1024 });
    const all: LoggedEvent[] = [];
    for (let p = 0; p < 60; p++) {
      const batch = [ev(p, p), ev(p, p + 1)];
      all.push(...batch);
      await log.append(batch);
    }
    await log.close();
    expect(segmentsOf(dir).length).toBeGreaterThan(2);
    const again = EventLog.open({ dir, segmentBytes: 1024 });
    expect(again.nextOffset).toBe(120);
    expect(replayAll(again)).toEqual(all);
    expect(replayAll(again, 77)).toEqual(all.slice(77));
    await again.close();
  });

  it('drops a torn tail record on open, reports it and truncates the file to the last good record', async () => {
    const dir = freshDir();
    const log = EventLog.open({ dir });
    await log.append([ev(1, 1)]);
    await log.append([ev(2, 2), ev(2, 3)]);
    await log.close();
    const [file] = segmentsOf(dir);
    const good = statSync(file!).size;
    // A crash in the middle of the next record's write: its header and half its payload.
    const torn = encodeRecord(3, [ev(3, 3), ev(3, 4)]);
    appendFileSync(file!, torn.subarray(0, torn.length >> 1));
    const again = EventLog.open({ dir });
    expect(again.recovered.truncated).toMatchObject({ file, at: good, droppedBytes: torn.length >> 1 });
    expect(again.recovered.truncated!.reason).toMatch(/cut short/);
    expect(statSync(file!).size).toBe(good);
    expect(replayAll(again)).toEqual([ev(1, 1), ev(2, 2), ev(2, 3)]);
    // Appends continue at the right offset and survive another reopen.
    expect((await again.append([ev(4, 4)])).offset).toBe(3);
    await again.close();
    const third = EventLog.open({ dir });
    expect(third.recovered.truncated).toBeUndefined();
    expect(replayAll(third)).toEqual([ev(1, 1), ev(2, 2), ev(2, 3), ev(4, 4)]);
    await third.close();
  });

  it('drops a tail record whose checksum fails; damage before the newest segment refuses to open', async () => {
    const dir = freshDir();
    const log = EventLog.open({ dir });
    await log.append([ev(1, 1)]);
    await log.append([ev(2, 2)]);
    await log.close();
    const [file] = segmentsOf(dir);
    const bytes = readFileSync(file!);
    const good = bytes.length - encodeRecord(1, [ev(2, 2)]).length;
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x20; // a flipped bit inside the last record's JSON
    writeFileSync(file!, bytes);
    const again = EventLog.open({ dir });
    expect(again.recovered.truncated).toMatchObject({ at: good });
    expect(again.recovered.truncated!.reason).toMatch(/checksum/);
    expect(replayAll(again)).toEqual([ev(1, 1)]);
    await again.close();

    // Corruption in an older segment is not a torn write: refuse rather than skip acknowledged events.
    const dir2 = freshDir();
    const l2 = EventLog.open({ dir: dir2, segmentBytes: 1024 });
    for (let p = 0; p < 40; p++) await l2.append([ev(p, p)]);
    await l2.close();
    const segs = segmentsOf(dir2);
    expect(segs.length).toBeGreaterThan(1);
    const first = readFileSync(segs[0]!);
    first[40] = first[40]! ^ 0x01;
    writeFileSync(segs[0]!, first);
    expect(() => EventLog.open({ dir: dir2 })).toThrow(expect.objectContaining({ code: 'E_FORMAT', message: expect.stringMatching(/not a torn write/) }));
  });

  it('group commit: concurrent appends share fsyncs; strict: one fsync per append', async () => {
    const group = EventLog.open({ dir: freshDir() });
    const order: number[] = [];
    const acks = await Promise.all(Array.from({ length: 50 }, (_, p) => group.append([ev(p, p)], (o) => order.push(o))));
    expect(acks.map((a) => a.offset)).toEqual(Array.from({ length: 50 }, (_, p) => p));
    // onDurable runs in log order.
    expect(order).toEqual(acks.map((a) => a.offset));
    expect(group.stats).toMatchObject({ appends: 50, records: 50, events: 50 });
    // The first append goes alone; the other 49 queue behind its fsync and go together.
    expect(group.stats.fsyncs).toBeLessThanOrEqual(3);
    await group.close();

    const strict = EventLog.open({ dir: freshDir(), durability: 'strict' });
    await Promise.all(Array.from({ length: 20 }, (_, p) => strict.append([ev(p, p)])));
    expect(strict.stats).toMatchObject({ appends: 20, records: 20, fsyncs: 20 });
    await strict.close();

    // A wait window batches even sequential bursts.
    const windowed = EventLog.open({ dir: freshDir(), groupCommitMs: 5 });
    await Promise.all(Array.from({ length: 10 }, (_, p) => windowed.append([ev(p, p)])));
    expect(windowed.stats.fsyncs).toBe(1);
    await windowed.close();
  });

  it('checks its options and its appends', async () => {
    expect(() => EventLog.open({ dir: freshDir(), durability: 'sometimes' as 'group' })).toThrow(/durability/);
    expect(() => EventLog.open({ dir: freshDir(), groupCommitMs: 50 })).toThrow(/groupCommitMs/);
    expect(() => EventLog.open({ dir: '' })).toThrow(/dir/);
    const log = EventLog.open({ dir: freshDir() });
    await expect(log.append([])).rejects.toThrow(/non-empty/);
    await log.close();
    await expect(log.append([ev(1, 1)])).rejects.toThrow(/closed/);
  });

  it.each(['group', 'strict'] as const)(
    'kill -9 after an acknowledgement loses nothing (%s)',
    async (durability) => {
      const dir = freshDir();
      for (let run = 0; run < 3; run++) {
        const before = run === 0 ? 0 : EventLog.open({ dir }).nextOffset;
        const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/serve/events.child.ts'), dir, durability], {
          cwd: root,
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let text = '';
        let acks = 0;
        await new Promise<void>((resolve) => {
          child.stdout.on('data', (d: Buffer) => {
            text += d.toString();
            acks = text.split('\n').filter((l) => l.startsWith('ack ')).length;
            if (acks >= 200 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
          });
          child.on('exit', () => resolve());
        });
        expect(child.signalCode).toBe('SIGKILL');
        // Everything the child printed was acknowledged; all of it must be in the log.
        let maxEnd = before;
        for (const line of text.split('\n')) {
          const m = /^ack (\d+) (\d+)$/.exec(line);
          if (m) maxEnd = Math.max(maxEnd, Number(m[1]) + Number(m[2]));
        }
        const log = EventLog.open({ dir });
        expect(log.nextOffset).toBeGreaterThanOrEqual(maxEnd);
        const events = replayAll(log);
        expect(events.length).toBe(log.nextOffset);
        await log.close();
      }
    },
    60_000,
  );
});

// ---- the live service ----
describe('createRecommender with an event log', async () => {
  const model = liveAls();
  const file = tmp.path('als.rsm');
  model.save(file);
  const open = (dir: string, extra: object = {}) =>
    createRecommender({ model: file, watch: false, eventLoopMetrics: false, logger: quiet, events: { dir, ...extra } });

  it("folds a known user's events into their next recommendations (exact fold-in) and leaves the new items out as seen", async () => {
    const s = open(freshDir());
    const before = s.recommend('u0', { k: 10 }).items;
    const add = before.slice(0, 3).map((x) => x.item);
    const r = await s.ingest(add.map((item) => ({ user: 'u0', item })));
    expect(r).toEqual({ accepted: 3, offset: 0, unknownItems: 0 });
    const after = s.recommend('u0', { k: 10 }).items;
    // The reference: the model's own fold-in over the training items plus the new ones.
    const u = model.trainData.users.index('u0');
    const history = [...model.trainData.userItems(u)].map((i) => model.trainData.items.id(i));
    const expected = model.recommendForNewUser({ items: [...history, ...add], ratings: [...history.map(() => 1), ...add.map(() => 1)] }, { k: 10 });
    expect(after).toEqual(expected);
    for (const item of add) expect(after.map((x) => x.item)).not.toContain(item);
    // The same through the micro-batched and batch paths; other users are unchanged.
    expect((await s.recommendAsync('u0', { k: 10 })).items).toEqual(expected);
    const batch = s.recommendBatch(['u0', 'u1'], { k: 10 }).results;
    expect(batch[0]).toEqual({ user: 'u0', items: expected });
    // (A user without events goes through the batch product: the same items, scores up to float rounding.)
    expect((batch[1] as { items: { item: Id }[] }).items.map((x) => x.item)).toEqual(model.recommend('u1', { k: 10 }).map((x) => x.item));
    // filterSeen: false brings the new items back; an exclude list is honoured.
    expect(s.recommend('u0', { k: 40, filterSeen: false }).items.map((x) => x.item)).toEqual(expect.arrayContaining(add));
    expect(s.recommend('u0', { k: 10, exclude: [expected[0]!.item] }).items.map((x) => x.item)).not.toContain(expected[0]!.item);
    s.close();
  });

  it('serves a new user from their events; unknown items are counted and kept; a refit makes them recommendable', async () => {
    const s = open(freshDir());
    expect(() => s.recommend('newbie')).toThrow(expect.objectContaining({ code: 'E_UNKNOWN_USER' }));
    await s.ingest([
      { user: 'newbie', item: 21 },
      { user: 'newbie', item: 22 },
    ]);
    const fresh = s.recommend('newbie', { k: 5 }).items;
    expect(fresh).toEqual(model.recommendForNewUser({ items: [21, 22], ratings: [1, 1] }, { k: 5 }));
    // A new item, liked by many users of the second group.
    const events = [];
    for (let u = 1; u < 60; u += 2) events.push({ user: `u${u}`, item: 'brand-new', value: 3 });
    const r = await s.ingest(events);
    expect(r.unknownItems).toBe(events.length);
    expect(s.status().events).toMatchObject({ logged: 2 + events.length, folded: 0 });
    expect(s.recommend('u3', { k: 40, filterSeen: false }).items.map((x) => x.item)).not.toContain('brand-new');
    const rf = await s.refit();
    expect(rf).toMatchObject({ refitted: true, mode: 'partial', events: 2 + events.length });
    expect(s.served.items).toBe(model.trainData.nItems + 1);
    expect(s.served.users).toBe(model.trainData.nUsers + 1);
    // The reference: partialFit of the model file on its training data plus the events (changed users and items re-solved).
    {
      const { rows, cols } = model.trainData.toCoo();
      const users: Id[] = Array.from(rows, (u) => model.trainData.users.id(u));
      const items: Id[] = Array.from(cols, (i) => model.trainData.items.id(i));
      const ratings: number[] = users.map(() => 1);
      const all = [{ user: 'newbie', item: 21, value: 1 }, { user: 'newbie', item: 22, value: 1 }, ...events];
      for (const e of all) {
        users.push(e.user);
        items.push(e.item);
        ratings.push(e.value);
      }
      const data = Dataset.fromArrays({ users, items, ratings }, { duplicates: 'sum' });
      const changed = (ids: readonly Id[], known: { has(id: Id): boolean }) => [...new Set(ids)].filter((x) => known.has(x));
      const ref = loadModel<ImplicitALS>(file).partialFit(data, {
        users: changed(
          all.map((e) => e.user),
          model.trainData.users,
        ),
        items: changed(
          all.map((e) => e.item),
          model.trainData.items,
        ),
      });
      for (const u of ['u3', 'u4', 'newbie']) expect(s.recommend(u, { k: 10 }).items).toEqual(ref.recommend(u, { k: 10 }));
    }
    expect(s.status().events).toMatchObject({ folded: 2 + events.length, liveUsers: 0 });
    // Now a known item: similar items work, and a user of the second group who has not seen it gets it.
    expect(s.similarItems('brand-new', { k: 3 }).items).toHaveLength(3);
    await s.ingest([{ user: 'u0', item: 'brand-new' }]);
    expect(s.recommend('u0', { k: 40 }).items.map((x) => x.item)).not.toContain('brand-new');
    expect(await s.refit()).toMatchObject({ refitted: true, events: 1 });
    expect(await s.refit()).toMatchObject({ refitted: false });
    s.close();
  });

  it('restart = load the model + replay the log: the same recommendations as before', async () => {
    const dir = freshDir();
    const s = open(dir);
    const rnd = mulberry32(11);
    for (let b = 0; b < 5; b++) {
      const batch = [];
      for (let e = 0; e < 20; e++) batch.push({ user: `u${Math.floor(rnd() * 70)}`, item: Math.floor(rnd() * 40), value: 1 + Math.floor(rnd() * 3) });
      await s.ingest(batch);
    }
    const users = Array.from({ length: 70 }, (_, u) => `u${u}`);
    const known = (u: string) => {
      try {
        return s.recommend(u, { k: 10 }).items;
      } catch {
        return null;
      }
    };
    const before = users.map(known);
    s.close();
    const t = open(dir);
    expect(t.status().events).toMatchObject({ logged: 100, folded: 0 });
    const after = users.map((u) => {
      try {
        return t.recommend(u, { k: 10 }).items;
      } catch {
        return null;
      }
    });
    expect(after).toEqual(before);
    // Some users beyond the training set came in through events and are served after the restart too.
    expect(after.filter((x, p) => x !== null && !model.trainData.users.has(users[p]!)).length).toBeGreaterThan(0);
    t.close();
  });

  it('a refit is kept beside the log: a restart resumes from it and replays only the tail', async () => {
    const dir = freshDir();
    const s = open(dir);
    const events = [];
    for (let u = 0; u < 60; u += 2) events.push({ user: `u${u}`, item: 'fresh', value: 2 });
    events.push({ user: 'walk-in', item: 3 });
    await s.ingest(events);
    expect(await s.refit()).toMatchObject({ refitted: true, events: events.length });
    // The tail: events after the refit, for a known user and for the new item.
    await s.ingest([
      { user: 'u1', item: 'fresh' },
      { user: 'u5', item: 7 },
    ]);
    // Touching the model file (or SIGHUP) does not undo the refit: the file has not changed.
    expect(await s.reload()).toMatchObject({ reloaded: false });
    expect(s.served.items).toBe(model.trainData.nItems + 1);
    const users = ['u0', 'u1', 'u5', 'walk-in', 'u9'];
    const before = users.map((u) => s.recommend(u, { k: 10 }).items);
    const similar = s.similarItems('fresh', { k: 5 }).items;
    s.close();
    const t = open(dir);
    expect(t.status().events).toMatchObject({ logged: events.length + 2, folded: events.length, liveUsers: 2 });
    expect(t.served.path).toMatch(/refit-\d+\.rsm$/);
    expect(users.map((u) => t.recommend(u, { k: 10 }).items)).toEqual(before);
    expect(t.similarItems('fresh', { k: 5 }).items).toEqual(similar);
    t.close();
  });

  it('a new base model file (hot reload) drops the refit and replays the whole log on top of it', async () => {
    const dir = freshDir();
    const base = tmp.path('base-reload.rsm');
    model.save(base);
    const s = createRecommender({ model: base, watch: false, eventLoopMetrics: false, logger: quiet, events: { dir } });
    await s.ingest([
      { user: 'u0', item: 'brand-new' },
      { user: 'u0', item: 25 },
    ]);
    expect(await s.refit()).toMatchObject({ refitted: true });
    expect(readdirSync(dir)).toContain('refit.json');
    const other = new ImplicitALS({ ...model.params, seed: 99 }).fit(model.trainData);
    other.save(base);
    expect(await s.reload()).toMatchObject({ reloaded: true });
    expect(s.served.items).toBe(model.trainData.nItems);
    expect(s.status().events).toMatchObject({ logged: 2, folded: 0, liveUsers: 1 });
    expect(readdirSync(dir)).not.toContain('refit.json');
    const u = other.trainData.users.index('u0');
    const history = [...other.trainData.userItems(u)].map((i) => other.trainData.items.id(i));
    const expected = other.recommendForNewUser({ items: [...history, 25], ratings: [...history.map(() => 1), 1] }, { k: 10 });
    expect(s.recommend('u0', { k: 10 }).items).toEqual(expected);
    s.close();
    // A restart serves the new base plus the log, not the old refit.
    const t = createRecommender({ model: base, watch: false, eventLoopMetrics: false, logger: quiet, events: { dir } });
    expect(t.served.path).toBe(base);
    expect(t.recommend('u0', { k: 10 }).items).toEqual(expected);
    t.close();
  });

  it("refit({ mode: 'full' }) fits a new model on the training data plus the events (off the event loop)", async () => {
    const s = open(freshDir());
    const events = [
      { user: 'u0', item: 30, value: 2 },
      { user: 'u0', item: 30, value: 1 },
      { user: 'late', item: 'new-item', value: 1 },
      { user: 'late', item: 4, value: 1 },
    ];
    await s.ingest(events);
    expect(await s.refit({ mode: 'full' })).toMatchObject({ refitted: true, mode: 'full', events: 4 });
    // The reference: the same fit on the training interactions followed by the events, repeated pairs summed.
    const { rows, cols } = model.trainData.toCoo();
    const users: Id[] = Array.from(rows, (u) => model.trainData.users.id(u));
    const items: Id[] = Array.from(cols, (i) => model.trainData.items.id(i));
    const ratings: number[] = users.map(() => 1);
    for (const e of events) {
      users.push(e.user);
      items.push(e.item);
      ratings.push(e.value);
    }
    const ref = new ImplicitALS(model.params).fit(Dataset.fromArrays({ users, items, ratings }, { duplicates: 'sum' }));
    for (const u of ['u0', 'u7', 'late']) expect(s.recommend(u, { k: 10 }).items).toEqual(ref.recommend(u, { k: 10 }));
    await expect(s.refit({ mode: 'other' as 'full' })).rejects.toThrow(/mode/);
    s.close();
  });

  it("a model without fold-in still leaves a known user's new items out; new users and refits are E_UNSUPPORTED", async () => {
    const fm = factorModel(20, 30, 4, 1);
    const s = createRecommender({ model: fm, eventLoopMetrics: false, logger: quiet, events: { dir: freshDir() } });
    const top = fm.recommend('user-3', { k: 3 }).map((x) => x.item);
    await s.ingest([
      { user: 'user-3', item: top[0]! },
      { user: 'user-3', item: top[2]! },
      { user: 'stranger', item: top[1]! },
    ]);
    expect(s.recommend('user-3', { k: 5 }).items).toEqual(fm.recommend('user-3', { k: 5, exclude: [top[0]!, top[2]!] }));
    expect(() => s.recommend('stranger')).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED' }));
    await expect(s.refit()).rejects.toMatchObject({ code: 'E_UNSUPPORTED' });
    s.close();
  });

  it("rules (filter, boost) apply to a user's folded-in history", async () => {
    const attributes: Record<string, { cat: string }> = {};
    for (let i = 0; i < 40; i++) attributes[String(i)] = { cat: i % 3 === 0 ? 'a' : 'b' };
    const s = createRecommender({ model: file, watch: false, eventLoopMetrics: false, logger: quiet, attributes, events: { dir: freshDir() } });
    const u = model.trainData.users.index('u0');
    const history = [...model.trainData.userItems(u)].map((i) => model.trainData.items.id(i));
    // Three items new to u0.
    const add = Array.from({ length: 40 }, (_, i) => i)
      .filter((i) => !history.includes(i))
      .slice(0, 3);
    await s.ingest(add.map((item) => ({ user: 'u0', item })));
    const rules = { k: 5, filter: { cat: 'a' }, boost: [{ filter: { cat: 'a' }, multiply: 2 }] };
    const got = s.recommend('u0', rules).items;
    expect(got).toHaveLength(5);
    for (const x of got) {
      expect(Number(x.item) % 3).toBe(0);
      expect(add).not.toContain(x.item);
    }
    expect(got).toEqual(s.recommendForItems({ items: [...history, ...add], ratings: [...history.map(() => 1), 1, 1, 1] }, rules).items);
    s.close();
  });

  it('ingest validates its input and needs an event log', async () => {
    const s = open(freshDir());
    await expect(s.ingest([])).rejects.toThrow(/must not be empty/);
    await expect(s.ingest('x' as never)).rejects.toThrow(/array/);
    await expect(s.ingest([{ user: 'a' } as never])).rejects.toThrow(/events\[0\]\.item/);
    await expect(s.ingest([{ user: 'a', item: 1, value: Number.NaN }])).rejects.toThrow(/value/);
    await expect(s.ingest([{ user: '', item: 1 }])).rejects.toThrow(/user/);
    await expect(s.ingest([{ user: 'a', item: 1, timestamp: 'now' as never }])).rejects.toThrow(/timestamp/);
    s.close();
    const plain = createRecommender({ model: file, watch: false, eventLoopMetrics: false, logger: quiet });
    await expect(plain.ingest([{ user: 'a', item: 1 }])).rejects.toMatchObject({ code: 'E_UNSUPPORTED' });
    await expect(plain.refit()).rejects.toMatchObject({ code: 'E_UNSUPPORTED' });
    plain.close();
  });

  it('POST /v1/events: acknowledged events show in GET recommendations; bad bodies get 400 with our error shape', async () => {
    const srv = await server({ model: file, watch: false, maxItems: 5, events: { dir: freshDir() } });
    const post = async (url: string, payload: unknown) => {
      const r = await srv.app.inject({ method: 'POST', url, payload: payload as string });
      return { status: r.statusCode, body: r.json<Record<string, any>>() };
    };
    const ok = await post('/v1/events', {
      events: [
        { user: 'u0', item: 25 },
        { user: 'u0', item: 26, value: 2, timestamp: 1700000000 },
      ],
    });
    expect(ok).toEqual({ status: 200, body: { accepted: 2, offset: 0, unknownItems: 0 } });
    const rec = await srv.app.inject({ method: 'GET', url: '/v1/users/u0/recommendations?k=10' });
    const items = rec.json<{ items: { item: Id }[] }>().items.map((x) => x.item);
    expect(items).not.toContain(25);
    expect(items).not.toContain(26);
    const u = model.trainData.users.index('u0');
    const history = [...model.trainData.userItems(u)].map((i) => model.trainData.items.id(i));
    expect(rec.json<{ items: unknown }>().items).toEqual(
      model.recommendForNewUser({ items: [...history, 25, 26], ratings: [...history.map(() => 1), 1, 2] }, { k: 10 }),
    );
    for (const bad of [
      {},
      { events: [] },
      { events: 'x' },
      { events: [{ user: 'a' }] },
      { events: [{ user: 'a', item: 1, value: 'high' }] },
      { events: [{ user: 'a', item: true }] },
      { events: Array.from({ length: 6 }, (_, p) => ({ user: 'a', item: p })) },
    ]) {
      const r = await post('/v1/events', bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body.error.code).toBe('E_ARG');
    }
    expect(await post('/v1/refit', { mode: 'sometimes' })).toMatchObject({ status: 400, body: { error: { code: 'E_ARG' } } });
    // No body at all is fine.
    const refit = await srv.app.inject({ method: 'POST', url: '/v1/refit' });
    expect(refit.statusCode).toBe(200);
    expect(refit.json()).toMatchObject({ refitted: true, mode: 'partial', events: 2 });
    expect(await post('/v1/refit', {})).toMatchObject({ status: 200, body: { refitted: false } });
    expect(await post('/v1/refit', { mode: 'full' })).toMatchObject({ status: 200, body: { refitted: false } });
    const docs = (await srv.app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(docs.paths)).toEqual(expect.arrayContaining(['/v1/events', '/v1/refit']));
    await srv.close();

    // Without an event log the routes do not exist.
    const noLog = await server({ model: file, watch: false });
    const r = await noLog.app.inject({ method: 'POST', url: '/v1/events', payload: { events: [{ user: 'a', item: 1 }] } });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ error: { code: 'E_NOT_FOUND' } });
    await noLog.close();
  });
});
