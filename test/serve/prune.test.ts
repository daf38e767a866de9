// Archive retention: archived event log segments are deleted oldest first (by age or by size), crash-safely, and a
// replay that needs deleted events fails with E_PRUNED instead of serving a model without them.
import { copyFileSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RecsysError, createRecommender, type Id } from '../../ts/index.js';
import { serveCommand } from '../../ts/cli/serve.js';
import { EventLog, compactionHooks, type LoggedEvent } from '../../ts/serve/eventlog.js';
import { tempDir } from '../io/helpers.js';
import { liveAls, quiet, segmentsIn, twoGroupData } from './fixtures.js';

const tmp = tempDir('recsys-prune-');
afterAll(() => tmp.remove());
afterEach(() => {
  compactionHooks.step = undefined;
});
let dirs = 0;
const freshDir = () => tmp.path(`log${dirs++}`);
const ev = (u: number, i: number): LoggedEvent => ({ user: `u${u}`, item: i, value: 1 + (u % 3) });
function replayAll(log: EventLog, from = 0): LoggedEvent[] {
  const out: LoggedEvent[] = [];
  log.replay(from, (_o, e) => out.push(...e));
  return out;
}
function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    if (err instanceof RecsysError) return err.code;
    throw err;
  }
  return undefined;
}
// The offset of an archived segment's first event (its header), to check where the archive starts by hand.
const firstOffset = (file: string) => Number(readFileSync(file).readBigUInt64LE(8));

/** A log of 1 KiB segments, everything but the newest archived; returns the log, its events and the archive. */
async function archivedLog(events = 400): Promise<{ dir: string; arch: string; log: EventLog; all: LoggedEvent[]; archived: string[] }> {
  const dir = freshDir();
  const log = EventLog.open({ dir, segmentBytes: 1024 });
  const all: LoggedEvent[] = [];
  for (let p = 0; p < events; p += 4) {
    const batch = [ev(p, p), ev(p + 1, p), ev(p + 2, p + 1), ev(p + 3, p + 2)];
    all.push(...batch);
    await log.append(batch);
  }
  log.compact(1e9);
  const arch = join(dir, 'archive');
  const archived = segmentsIn(arch);
  expect(archived.length).toBeGreaterThan(4);
  return { dir, arch, log, all, archived };
}

describe('EventLog.pruneArchive', () => {
  it('by size: deletes the oldest segments until the archive fits, keeps the newest, records where it starts', async () => {
    const { dir, arch, log, all, archived } = await archivedLog();
    const sizes = archived.map((f) => statSync(join(arch, f)).size);
    // Room for the two newest segments and a byte less than the third.
    const keep = sizes.at(-1)! + sizes.at(-2)!;
    const r = log.pruneArchive({ maxBytes: keep + sizes.at(-3)! - 1 });
    const start = firstOffset(join(arch, archived.at(-2)!));
    expect(r).toEqual({ segments: archived.length - 2, bytes: sizes.slice(0, -2).reduce((a, b) => a + b, 0), events: start, before: start });
    expect(segmentsIn(arch)).toEqual(archived.slice(-2));
    expect(log.pruning).toMatchObject({ before: start, segments: archived.length - 2, bytes: r.bytes, lastAt: expect.any(Number) });
    // What is left replays; what is gone is refused, naming the offsets.
    expect(replayAll(log, start)).toEqual(all.slice(start));
    expect(() => replayAll(log, 0)).toThrow(expect.objectContaining({ code: 'E_PRUNED', message: expect.stringContaining(`events 0 to ${start}`) }));
    expect(codeOf(() => replayAll(log, start - 1))).toBe('E_PRUNED');
    // Nothing more to do at the same limit; the record survives a restart.
    expect(log.pruneArchive({ maxBytes: keep + sizes.at(-3)! - 1 }).segments).toBe(0);
    await log.close();
    const again = EventLog.open({ dir, segmentBytes: 1024 });
    expect(again.pruning).toEqual(log.pruning);
    expect(codeOf(() => replayAll(again, 0))).toBe('E_PRUNED');
    expect(replayAll(again, start)).toEqual(all.slice(start));
    // maxBytes 0: the whole archive goes, and the archive then starts where the live log does.
    const all0 = again.pruneArchive({ maxBytes: 0 });
    expect(all0).toMatchObject({ segments: 2, before: again.compaction.liveFrom });
    expect(segmentsIn(arch)).toEqual([]);
    expect(again.pruning.segments).toBe(archived.length);
    expect(replayAll(again, again.compaction.liveFrom)).toEqual(all.slice(again.compaction.liveFrom));
    expect(codeOf(() => replayAll(again, again.compaction.liveFrom - 1))).toBe('E_PRUNED');
    await again.close();
  });

  it('by age (the last write, mtime): only a run of old segments from the oldest; never past upTo', async () => {
    const { arch, log, all, archived } = await archivedLog();
    const now = Date.now();
    const age = (f: string, days: number) => utimesSync(join(arch, f), new Date(now - days * 86_400_000), new Date(now - days * 86_400_000));
    for (const f of archived) age(f, 0.5);
    // The oldest is recent, the next ones old: nothing goes (the archive stays one run up to the live log).
    age(archived[1]!, 10);
    age(archived[2]!, 10);
    expect(log.pruneArchive({ maxAgeDays: 2 }, undefined, now).segments).toBe(0);
    // Three old ones from the oldest: those three.
    age(archived[0]!, 10);
    const r = log.pruneArchive({ maxAgeDays: 2 }, undefined, now);
    expect(r.segments).toBe(3);
    expect(segmentsIn(arch)).toEqual(archived.slice(3));
    expect(r.before).toBe(firstOffset(join(arch, archived[3]!)));
    expect(replayAll(log, r.before)).toEqual(all.slice(r.before));
    // upTo: only segments whose events all come before it (what a saved refit holds).
    const upTo = firstOffset(join(arch, archived[5]!));
    expect(log.pruneArchive({ maxAgeDays: 0 }, upTo, now)).toMatchObject({ segments: 2, before: upTo });
    expect(segmentsIn(arch)).toEqual(archived.slice(5));
    expect(log.pruneArchive({ maxAgeDays: 0.1 }, undefined, now).segments).toBe(archived.length - 5);
    // Bad retention: E_ARG naming it.
    expect(() => log.pruneArchive({ maxAgeDays: -1 })).toThrow(expect.objectContaining({ code: 'E_ARG', message: expect.stringMatching(/maxAgeDays/) }));
    expect(() => log.pruneArchive({ maxBytes: 1.5 })).toThrow(expect.objectContaining({ code: 'E_ARG', message: expect.stringMatching(/maxBytes/) }));
    expect(() => log.pruneArchive({ maxDays: 3 } as never)).toThrow(expect.objectContaining({ code: 'E_ARG', message: expect.stringMatching(/maxDays/) }));
    expect(() => EventLog.open({ dir: freshDir(), archiveRetention: 5 as never })).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    await log.close();
  });

  it('a crash between two deletions: the record already says where the archive starts; the next prune finishes', async () => {
    const { dir, arch, log, all, archived } = await archivedLog();
    const planned = firstOffset(join(arch, archived[4]!));
    let n = 0;
    compactionHooks.step = (s) => {
      if (s === 'prune' && ++n === 3) throw new Error('crash');
    };
    const sizes = archived.map((f) => statSync(join(arch, f)).size);
    const rest = sizes.slice(4).reduce((a, b) => a + b, 0);
    expect(() => log.pruneArchive({ maxBytes: rest })).toThrow('crash');
    compactionHooks.step = undefined;
    // Two deleted, two left over before the recorded start: a replay from before it is refused even so.
    expect(segmentsIn(arch)).toEqual(archived.slice(2));
    await log.close();
    const again = EventLog.open({ dir, segmentBytes: 1024 });
    expect(again.pruning).toMatchObject({ before: planned, segments: 4 });
    expect(codeOf(() => replayAll(again, firstOffset(join(arch, archived[2]!))))).toBe('E_PRUNED');
    expect(replayAll(again, planned)).toEqual(all.slice(planned));
    // A prune whose retention keeps everything still removes the leftovers, and counts them once.
    const r = again.pruneArchive({ maxBytes: 1e12 });
    expect(r).toMatchObject({ segments: 0, before: planned });
    expect(segmentsIn(arch)).toEqual(archived.slice(4));
    expect(again.pruning).toMatchObject({ before: planned, segments: 4, bytes: sizes.slice(0, 4).reduce((a, b) => a + b, 0) });
    await again.close();
  });

  it('a damaged pruned.json is refused at open (E_FORMAT naming it)', async () => {
    const { dir, arch, log } = await archivedLog();
    log.pruneArchive({ maxBytes: 0 });
    await log.close();
    writeFileSync(join(arch, 'pruned.json'), '{"before": -3}');
    expect(() => EventLog.open({ dir })).toThrow(expect.objectContaining({ code: 'E_FORMAT', message: expect.stringContaining(join(arch, 'pruned.json')) }));
    writeFileSync(join(arch, 'pruned.json'), JSON.stringify({ before: 1e6, segments: 1, bytes: 1 }));
    expect(() => EventLog.open({ dir })).toThrow(expect.objectContaining({ code: 'E_FORMAT', message: expect.stringMatching(/not this log's/) }));
  });
});

describe('a live recommender with archive retention', async () => {
  const fit = (seed: number) => liveAls(twoGroupData(seed));
  const base = tmp.path('base.rsm');
  fit(5).save(base);
  const other = tmp.path('other.rsm');
  fit(6).save(other);
  const users = ['u0', 'u1', 'u3', 'u8', 'walk-in'];
  const batches: { user: Id; item: Id; value: number }[][] = [];
  for (let b = 0; b < 30; b++) {
    const batch = [];
    for (let u = b % 2; u < 60; u += 12) batch.push({ user: `u${(u + (b >> 1) * 2) % 60}`, item: (b * 7) % 40, value: 1 + ((b + u) % 3) });
    batches.push(batch);
  }
  batches.push([{ user: 'walk-in', item: 3, value: 2 }]);
  const tail = [
    { user: 'u1', item: 11, value: 2 },
    { user: 'u8', item: 5, value: 1 },
  ];
  const answers = (s: ReturnType<typeof createRecommender>) => users.map((u) => s.recommend(u, { k: 10 }).items);
  const open = (model: string, dir: string, extra: object = {}, warn?: string[]) =>
    createRecommender({
      model,
      watch: false,
      eventLoopMetrics: false,
      logger: { ...quiet, warn: (m: string) => warn?.push(m) },
      events: { dir, segmentBytes: 1024, ...extra },
    });
  const settle = () => new Promise((r) => setTimeout(r, 20));

  it('prunes after the refit (only what the saved refit holds), says so in status; a restart serves the same', async () => {
    const dir = freshDir();
    const model = tmp.path('m1.rsm');
    copyFileSync(base, model);
    const s = open(model, dir, { archiveRetention: { maxBytes: 0 } });
    for (const b of batches) await s.ingest(b);
    // No refit saved yet: nothing is archived, and an explicit prune deletes nothing.
    expect(s.pruneArchive()).toMatchObject({ segments: 0, before: 0 });
    await s.refit();
    const st = s.status().events!;
    expect(st.compacted.segments).toBeGreaterThan(1);
    expect(st.pruned).toMatchObject({ before: st.compacted.liveFrom, segments: st.compacted.segments, retention: { maxBytes: 0 } });
    expect(st.pruned.before).toBeLessThanOrEqual(st.folded);
    expect(segmentsIn(join(dir, 'archive'))).toEqual([]);
    for (const e of tail) await s.ingest([e]);
    const served = answers(s);
    s.close();
    await settle();
    const t = open(model, dir, { archiveRetention: { maxBytes: 0 } });
    expect(t.status().events).toMatchObject({ folded: st.folded, liveUsers: 2, pruned: { before: st.pruned.before } });
    expect(answers(t)).toEqual(served);
    t.close();
    await settle();
  });

  it('a new base model that needs pruned events: the reload fails with E_PRUNED and the refit keeps serving, also after a restart', async () => {
    const dir = freshDir();
    const model = tmp.path('m2.rsm');
    copyFileSync(base, model);
    const s = open(model, dir);
    for (const b of batches) await s.ingest(b);
    await s.refit();
    // Without a retention in the options, pruneArchive needs one.
    expect(codeOf(() => s.pruneArchive())).toBe('E_ARG');
    const p = s.pruneArchive({ maxAgeDays: 0 });
    expect(p.segments).toBeGreaterThan(0);
    for (const e of tail) await s.ingest([e]);
    const served = answers(s);
    const checksum = s.status().model.checksum;
    copyFileSync(other, model);
    const r = await s.reload();
    expect(r.reloaded).toBe(false);
    expect(r.reason).toMatch(new RegExp(`the new model in .*m2\\.rsm needs the whole event log replayed on it, but events 0 to ${p.before} .*deleted`));
    expect(s.status().model.checksum).toBe(checksum);
    expect(s.status().reloads.lastError).toMatch(/E_PRUNED|deleted from .*archive by its retention/);
    expect(answers(s)).toEqual(served);
    s.close();
    await settle();
    // The refit beside the log was kept: with the old base back, a restart serves what was served.
    copyFileSync(base, model);
    const t = open(model, dir);
    expect(answers(t)).toEqual(served);
    t.close();
    await settle();
    // With the new base (or an unreadable refit) a start would need the pruned events: E_PRUNED, naming why.
    copyFileSync(other, model);
    expect(() => open(model, dir)).toThrow(
      expect.objectContaining({ code: 'E_PRUNED', message: expect.stringMatching(/no refit beside the log was made from .*m2\.rsm.*events 0 to/) }),
    );
    copyFileSync(base, model);
    const refit = readdirSync(dir).find((f) => /^refit-\d+\.rsm$/.test(f))!;
    writeFileSync(join(dir, refit), 'damaged');
    expect(() => open(model, dir)).toThrow(expect.objectContaining({ code: 'E_PRUNED', message: expect.stringMatching(/cannot be loaded/) }));
  });

  it('without pruning, the same reload replays the whole archive onto the new model', async () => {
    const dir = freshDir();
    const model = tmp.path('m3.rsm');
    copyFileSync(base, model);
    const s = open(model, dir);
    for (const b of batches) await s.ingest(b);
    await s.refit();
    copyFileSync(other, model);
    expect(await s.reload()).toMatchObject({ reloaded: true });
    expect(s.status().events).toMatchObject({ folded: 0, logged: batches.flat().length });
    s.close();
    await settle();
  });

  it('recsys serve: --archive-max-age-days / --archive-max-bytes are checked before anything starts', async () => {
    const err = (args: string[]) =>
      serveCommand(['--model', base, ...args]).then(
        () => undefined,
        (e: unknown) => e as RecsysError,
      );
    expect(await err(['--archive-max-bytes', '100'])).toMatchObject({ code: 'E_ARG', message: '--archive-max-bytes needs --events-dir' });
    expect(await err(['--events-dir', freshDir(), '--archive-max-age-days', 'soon'])).toMatchObject({
      code: 'E_ARG',
      message: expect.stringMatching(/--archive-max-age-days must be a number/),
    });
    expect(await err(['--events-dir', freshDir(), '--archive-max-bytes', '-1'])).toMatchObject({
      code: 'E_ARG',
      message: expect.stringMatching(/--archive-max-bytes must be an integer/),
    });
  });
});
