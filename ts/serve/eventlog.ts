// The event log of a live recommender: interactions (user, item, value, timestamp) appended to files in one
// directory and acknowledged only once they are on disk, so that a crash (kill -9, power loss after fsync) loses
// no acknowledged event. Layout:
//
//   <dir>/events-<segment number, 8 digits>-<YYYYMMDD, UTC>.log   a new segment per UTC day or past segmentBytes
//   segment  = header, records...
//   header   = "RSEVLOG1" (8 bytes), u64 LE offset of the segment's first event            (16 bytes)
//   record   = u32 LE payload length, u32 LE CRC-32 of the payload, payload                  (8 + length bytes)
//   payload  = UTF-8 JSON {"o": offset of its first event, "e": [[user, item, value, timestamp?], ...]}
//
// An event's offset is its position in the whole log (0, 1, 2, ...); one append is one record. Appends are
// written by group commit: while one write + fsync is in flight the next appends queue up and go to disk together
// in one write and one fsync (durability 'group'), or each append gets a write and an fsync of its own
// ('strict'). On open, a record that is cut short or fails its checksum at the end of the newest segment (a write
// torn by a crash) is dropped: the file is truncated to the last good record and the drop is reported. The same
// damage in an older segment is not a torn write, and opening fails (E_FORMAT) rather than skip events.
//
// Compaction (compact(upTo), called once a refitted model holding the events before `upTo` is saved): segments
// whose every event is before `upTo` move, oldest first, by rename into <dir>/archive/. Open reads only the live
// segments, so the first one may start past offset 0; replay from an earlier offset reads the archive. The newest
// segment (the one appended to) never moves, so the next offset always comes from the live files.
//
// Pruning (pruneArchive, by the retention in archiveRetention or given): archived segments are deleted oldest
// first, so what is left always continues itself up to the live log. <dir>/archive/pruned.json records where the
// archive now starts ("before": events before it are gone) and is written, atomically, before the first deletion:
// a crash part way leaves some segments before that offset, which the next prune deletes and replay never needs.
// A replay from before it fails with E_PRUNED naming the offsets, rather than serve a model missing events.
import {
  closeSync,
  existsSync,
  fstatSync,
  readSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  write,
  writeSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import { RecsysError, argError, show } from '../errors.js';
import type { Id } from '../data/idmap.js';
import { syncDir } from '../io/format.js';

export interface LoggedEvent {
  user: Id;
  item: Id;
  /** The interaction's weight (a count, a rating). */
  value: number;
  /** Whatever the producer uses (seconds or ms since the epoch); stored, not interpreted. */
  timestamp?: number;
}

export interface EventLogOptions {
  /** The directory of the segment files (created if missing). */
  dir: string;
  /** 'group' (default): concurrent appends share a write and an fsync. 'strict': one fsync per append. */
  durability?: 'group' | 'strict';
  /**
   * Group commit: how long the first append of a batch waits for others before the write, in ms (0 to 10). With 0
   * (the default) a batch is whatever queued while the previous fsync ran, which batches under load and adds no
   * wait when idle.
   */
  groupCommitMs?: number;
  /** Start a new segment once the current one is this large, in bytes. Default 64 MiB. */
  segmentBytes?: number;
  /** What pruneArchive() keeps of archive/ when called without a retention. Default: none (nothing is deleted). */
  archiveRetention?: ArchiveRetention;
}

/** How much of archive/ to keep: a segment goes when it breaks either limit (oldest first, never one out of order). */
export interface ArchiveRetention {
  /** Delete archived segments whose last event was written (the file's mtime) more than this many days ago. */
  maxAgeDays?: number;
  /** Delete the oldest archived segments until the archive holds at most this many bytes. */
  maxBytes?: number;
}

/** What retention has deleted from archive/ (kept in archive/pruned.json, so across restarts). */
export interface EventLogPruning {
  /** Events before this offset are gone (0: none): a replay from before it fails with E_PRUNED. */
  before: number;
  /** Segments and bytes deleted in all, and when the last deletion was (ms since the epoch). */
  segments: number;
  bytes: number;
  lastAt?: number;
}

/** What one pruneArchive() call deleted, and where the archive now starts. */
export interface PruneResult {
  segments: number;
  bytes: number;
  /** Events deleted (the archive's start moved from before - events to before). */
  events: number;
  before: number;
}

export interface EventLogRecovery {
  segments: number;
  records: number;
  events: number;
  /** Set when the newest segment ended in a torn or corrupt record that was dropped. */
  truncated?: { file: string; at: number; droppedBytes: number; reason: string };
}

export interface EventLogStats {
  appends: number;
  records: number;
  events: number;
  /** fsync calls for records (group commit makes them fewer than appends under load). */
  fsyncs: number;
  bytes: number;
}

/** What compaction has moved out of the live log so far (this process), and where the live log starts. */
export interface EventLogCompaction {
  /** Offset of the first event still in the live segments (events before it are in archive/). */
  liveFrom: number;
  /** Segments moved to archive/ by this process, and when the last move was (ms since the epoch). */
  segments: number;
  events: number;
  lastAt?: number;
  archive: string;
}

/**
 * Test hook: called at each step of compaction ('move' before each segment is renamed) and of pruning ('prune'
 * before each archived segment is deleted) so that tests can throw
 * there and look at what a crash at that point leaves on disk. Not for production use.
 */
export const compactionHooks: { step?: (name: string) => void } = {};

const MAGIC = Buffer.from('RSEVLOG1', 'latin1');
const HEADER = 16;
const RECORD_HEADER = 8;
/** Largest record payload accepted when reading (a length beyond it is damage, not data). */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;
const SEGMENT_NAME = /^events-(\d{8})-(\d{8})\.log$/;
const PRUNED = 'pruned.json';
const DAY_MS = 86_400_000;

/** Checks a retention option (E_ARG naming `name`); undefined stays undefined. */
export function checkRetention(r: unknown, name: string): ArchiveRetention | undefined {
  if (r === undefined) return undefined;
  if (r === null || typeof r !== 'object' || Array.isArray(r)) throw argError(`${name} must be an object { maxAgeDays?, maxBytes? }, got ${show(r)}`);
  const { maxAgeDays, maxBytes, ...rest } = r as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw argError(`${name} has an unknown key '${extra[0]}' (maxAgeDays, maxBytes)`);
  if (maxAgeDays !== undefined && (typeof maxAgeDays !== 'number' || !Number.isFinite(maxAgeDays) || maxAgeDays < 0))
    throw argError(`${name}.maxAgeDays must be a non-negative number, got ${show(maxAgeDays)}`);
  if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || (maxBytes as number) < 0))
    throw argError(`${name}.maxBytes must be a non-negative integer, got ${show(maxBytes)}`);
  return { ...(maxAgeDays !== undefined && { maxAgeDays }), ...(maxBytes !== undefined && { maxBytes: maxBytes as number }) };
}

// archive/pruned.json, checked: a damaged one is refused (E_FORMAT) rather than guessed at.
function readPruning(arch: string): EventLogPruning {
  const file = join(arch, PRUNED);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { before: 0, segments: 0, bytes: 0 };
    throw new RecsysError('E_IO', `cannot read ${file}: ${(err as Error).message}`);
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    j = undefined;
  }
  const r = j as Partial<EventLogPruning> | undefined;
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!r || typeof r !== 'object' || !count(r.before) || !count(r.segments) || !count(r.bytes) || (r.lastAt !== undefined && !count(r.lastAt)))
    throw new RecsysError('E_FORMAT', `${file} is not a pruning record ({ before, segments, bytes, lastAt? } of non-negative integers)`);
  return { before: r.before!, segments: r.segments!, bytes: r.bytes!, ...(r.lastAt !== undefined && { lastAt: r.lastAt }) };
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replace(/-/g, '');
}

/** Encodes one record (exported for tests that craft damage). */
export function encodeRecord(offset: number, events: readonly LoggedEvent[]): Buffer {
  const e = events.map((x) => (x.timestamp === undefined ? [x.user, x.item, x.value] : [x.user, x.item, x.value, x.timestamp]));
  const payload = Buffer.from(JSON.stringify({ o: offset, e }), 'utf8');
  const head = Buffer.alloc(RECORD_HEADER);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([head, payload]);
}

function isId(v: unknown): v is Id {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

// One record's payload back to events; null when it is not what encodeRecord writes.
function decodePayload(payload: Buffer): { o: number; e: LoggedEvent[] } | null {
  let j: unknown;
  try {
    j = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  const r = j as { o?: unknown; e?: unknown };
  if (!r || typeof r !== 'object' || !Number.isSafeInteger(r.o) || (r.o as number) < 0 || !Array.isArray(r.e)) return null;
  const out: LoggedEvent[] = [];
  for (const x of r.e as unknown[]) {
    if (!Array.isArray(x) || x.length < 3 || x.length > 4 || !isId(x[0]) || !isId(x[1]) || typeof x[2] !== 'number' || !Number.isFinite(x[2])) return null;
    if (x.length === 4 && (typeof x[3] !== 'number' || !Number.isFinite(x[3]))) return null;
    out.push(x.length === 4 ? { user: x[0], item: x[1], value: x[2], timestamp: x[3] as number } : { user: x[0], item: x[1], value: x[2] });
  }
  return { o: r.o as number, e: out };
}

interface Segment {
  file: string;
  number: number;
  day: string;
  first: number;
}

// Reads a segment's records from its bytes. Stops at the first record that is cut short, fails its checksum or
// does not continue the offsets; `end` is where the good records end.
function scan(
  buf: Buffer,
  seg: Segment,
  onRecord?: (offset: number, events: LoggedEvent[]) => void,
): { end: number; next: number; records: number; error?: string } {
  if (buf.length < HEADER) return { end: 0, next: seg.first, records: 0, error: `the ${buf.length}-byte header is cut short` };
  if (!buf.subarray(0, 8).equals(MAGIC)) return { end: 0, next: seg.first, records: 0, error: 'it does not start with RSEVLOG1' };
  const first = Number(buf.readBigUInt64LE(8));
  seg.first = first;
  let at = HEADER;
  let next = first;
  let records = 0;
  while (at < buf.length) {
    if (buf.length - at < RECORD_HEADER) return { end: at, next, records, error: `a record header at byte ${at} is cut short` };
    const len = buf.readUInt32LE(at);
    const crc = buf.readUInt32LE(at + 4);
    if (len > MAX_RECORD_BYTES) return { end: at, next, records, error: `the record at byte ${at} claims ${len} bytes` };
    if (buf.length - at - RECORD_HEADER < len) return { end: at, next, records, error: `the record at byte ${at} is cut short (${len} bytes claimed)` };
    const payload = buf.subarray(at + RECORD_HEADER, at + RECORD_HEADER + len);
    if (crc32(payload) !== crc) return { end: at, next, records, error: `the record at byte ${at} fails its checksum` };
    const rec = decodePayload(payload);
    if (!rec) return { end: at, next, records, error: `the record at byte ${at} is not an event record` };
    if (rec.o !== next) return { end: at, next, records, error: `the record at byte ${at} starts at offset ${rec.o}, expected ${next}` };
    onRecord?.(rec.o, rec.e);
    next += rec.e.length;
    records++;
    at += RECORD_HEADER + len;
  }
  return { end: at, next, records };
}

interface Pending {
  buf: Buffer;
  offset: number;
  onDurable?: () => void;
  events: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * An append-only, checksummed event log with group commit. Open it with EventLog.open (synchronous: it reads the
 * segments, repairs a torn tail and reports it in `recovered`).
 */
export class EventLog {
  readonly dir: string;
  readonly durability: 'group' | 'strict';
  readonly recovered: EventLogRecovery;
  readonly stats: EventLogStats = { appends: 0, records: 0, events: 0, fsyncs: 0, bytes: 0 };
  readonly compaction: EventLogCompaction;
  /** What retention has deleted from archive/ (all processes: read from archive/pruned.json). */
  readonly pruning: EventLogPruning;
  /** The retention pruneArchive() applies when called without one. */
  readonly retention: ArchiveRetention | undefined;
  private readonly groupCommitMs: number;
  private readonly segmentBytes: number;
  private segments: Segment[];
  private fd = -1;
  private size = 0;
  /** Offset the next appended event gets. */
  private next: number;
  private queue: Pending[] = [];
  private busy = false;
  private timer: NodeJS.Timeout | undefined;
  private failed: Error | undefined;
  private closed = false;
  private idle: (() => void)[] = [];

  private constructor(
    dir: string,
    durability: 'group' | 'strict',
    groupCommitMs: number,
    segmentBytes: number,
    segments: Segment[],
    next: number,
    recovered: EventLogRecovery,
    pruning: EventLogPruning,
    retention: ArchiveRetention | undefined,
  ) {
    this.dir = dir;
    this.durability = durability;
    this.groupCommitMs = groupCommitMs;
    this.segmentBytes = segmentBytes;
    this.segments = segments;
    this.next = next;
    this.recovered = recovered;
    this.compaction = { liveFrom: segments[0]?.first ?? next, segments: 0, events: 0, archive: join(dir, 'archive') };
    this.pruning = pruning;
    this.retention = retention;
  }

  static open(options: EventLogOptions): EventLog {
    if (options === null || typeof options !== 'object') throw argError('the event log options must be an object');
    if (typeof options.dir !== 'string' || options.dir.length === 0) throw argError(`events.dir must be a directory path, got ${show(options.dir)}`);
    const durability = options.durability ?? 'group';
    if (durability !== 'group' && durability !== 'strict') throw argError(`durability must be 'group' or 'strict', got ${show(durability)}`);
    const gms = options.groupCommitMs ?? 0;
    if (!Number.isInteger(gms) || gms < 0 || gms > 10) throw argError(`groupCommitMs must be an integer in [0, 10], got ${show(gms)}`);
    const segBytes = options.segmentBytes ?? 64 * 1024 * 1024;
    if (!Number.isInteger(segBytes) || segBytes < 1024 || segBytes > 2 ** 40)
      throw argError(`segmentBytes must be an integer in [1024, 2^40], got ${show(segBytes)}`);
    const retention = checkRetention(options.archiveRetention, 'archiveRetention');
    const dir = resolve(options.dir);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new RecsysError('E_IO', `cannot create the event log directory ${dir}: ${(err as Error).message}`);
    }
    const segments: Segment[] = [];
    for (const name of readdirSync(dir)) {
      const m = SEGMENT_NAME.exec(name);
      if (m) segments.push({ file: join(dir, name), number: Number(m[1]), day: m[2]!, first: 0 });
    }
    segments.sort((a, b) => a.number - b.number);
    const recovered: EventLogRecovery = { segments: segments.length, records: 0, events: 0 };
    let next = 0;
    for (let s = 0; s < segments.length; s++) {
      const seg = segments[s]!;
      const buf = readFileSync(seg.file);
      const r = scan(buf, seg);
      const last = s === segments.length - 1;
      // After compaction the first live segment starts where the archived ones ended.
      if (s === 0 && r.end > 0) next = seg.first;
      if (r.error === undefined && seg.first !== next) r.error = `it starts at offset ${seg.first}, expected ${next}`;
      if (r.error !== undefined) {
        if (!last)
          throw new RecsysError(
            'E_FORMAT',
            `event log segment ${seg.file} is damaged before its end (${r.error}); newer segments follow it, so it is not a torn write`,
          );
        // A torn tail: keep the good records (a segment whose header is torn has none and starts over).
        const keep = r.end === 0 ? 0 : r.end;
        const fd = openSync(seg.file, 'r+');
        try {
          ftruncateSync(fd, keep);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        recovered.truncated = { file: seg.file, at: keep, droppedBytes: buf.length - keep, reason: r.error };
        if (keep === 0) seg.first = next;
      }
      recovered.records += r.records;
      next = r.end === 0 ? next : r.next;
    }
    recovered.events = next;
    const pruning = readPruning(join(dir, 'archive'));
    const liveFrom = segments[0]?.first ?? next;
    if (pruning.before > liveFrom)
      throw new RecsysError(
        'E_FORMAT',
        `${join(dir, 'archive', PRUNED)} says events before ${pruning.before} were pruned, but the live log starts at ${liveFrom}: it is not this log's`,
      );
    return new EventLog(dir, durability, gms, segBytes, segments, next, recovered, pruning, retention);
  }

  /** The offset the next event appended gets (= events in the log). */
  get nextOffset(): number {
    return this.next;
  }

  /**
   * Appends events as one record. Resolves with the offset of the first one once they are durable (written and
   * fsynced); rejects (E_IO) when the write fails, after which the log refuses appends. `onDurable` runs when
   * they are, synchronously and in log order (before the promise's continuations).
   */
  append(events: readonly LoggedEvent[], onDurable?: (offset: number) => void): Promise<{ offset: number; count: number }> {
    if (this.closed) return Promise.reject(new RecsysError('E_STATE', 'the event log is closed'));
    if (this.failed) return Promise.reject(new RecsysError('E_IO', `the event log failed earlier and accepts no appends: ${this.failed.message}`));
    if (!Array.isArray(events) || events.length === 0) return Promise.reject(argError('append expects a non-empty array of events'));
    const offset = this.next;
    const buf = encodeRecord(offset, events);
    this.next += events.length;
    this.stats.appends++;
    return new Promise((resolve, reject) => {
      this.queue.push({
        buf,
        offset,
        onDurable: onDurable && (() => onDurable(offset)),
        events: events.length,
        resolve: () => resolve({ offset, count: events.length }),
        reject,
      });
      this.kick();
    });
  }

  private kick(): void {
    if (this.busy || this.timer || this.queue.length === 0) return;
    if (this.durability === 'group' && this.groupCommitMs > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.commit();
      }, this.groupCommitMs);
      return;
    }
    this.commit();
  }

  // One write and one fsync for the queued records (or for the first one, when strict).
  private commit(): void {
    if (this.busy || this.queue.length === 0) return;
    const batch = this.durability === 'strict' ? this.queue.splice(0, 1) : this.queue.splice(0, this.queue.length);
    this.busy = true;
    const fail = (err: Error) => {
      this.failed = err;
      const e = new RecsysError('E_IO', `event log write failed: ${err.message}`);
      for (const p of batch) p.reject(e);
      for (const p of this.queue.splice(0)) p.reject(e);
      this.busy = false;
      this.drained();
    };
    let data: Buffer;
    try {
      this.ensureSegment(batch[0]!.offset);
      data = batch.length === 1 ? batch[0]!.buf : Buffer.concat(batch.map((p) => p.buf));
    } catch (err) {
      fail(err as Error);
      return;
    }
    const fd = this.fd;
    const at = this.size;
    const writeAll = (from: number) => {
      write(fd, data, from, data.length - from, at + from, (err, n) => {
        if (err) return fail(err);
        if (from + n < data.length) return writeAll(from + n);
        fsync(fd, (err2) => {
          if (err2) return fail(err2);
          this.size += data.length;
          this.stats.fsyncs++;
          this.stats.records += batch.length;
          this.stats.bytes += data.length;
          for (const p of batch) {
            this.stats.events += p.events;
            try {
              p.onDurable?.();
            } catch {
              // the event is durable whatever the callback does
            }
            p.resolve();
          }
          this.busy = false;
          if (this.queue.length) this.kick();
          else this.drained();
        });
      });
    };
    writeAll(0);
  }

  private drained(): void {
    if (this.busy || this.queue.length) return;
    for (const f of this.idle.splice(0)) f();
  }

  // The segment to append to: the newest one, unless it is full or from an earlier UTC day (or there is none).
  private ensureSegment(first: number): void {
    const now = utcDay(Date.now());
    const last = this.segments[this.segments.length - 1];
    if (this.fd >= 0 && last && last.day === now && this.size < this.segmentBytes) return;
    if (this.fd < 0 && last) {
      const fd = openSync(last.file, 'r+');
      const size = fstatSync(fd).size;
      if (last.day === now && size < this.segmentBytes && size >= HEADER) {
        this.fd = fd;
        this.size = size;
        return;
      }
      if (size < HEADER) {
        // Its header was torn (or it was emptied by recovery): write a fresh one in place.
        this.fd = fd;
        last.first = first;
        this.writeHeader(first);
        return;
      }
      closeSync(fd);
    }
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    const number = last ? last.number + 1 : 1;
    const seg: Segment = { file: join(this.dir, `events-${String(number).padStart(8, '0')}-${now}.log`), number, day: now, first };
    this.fd = openSync(seg.file, 'wx');
    this.segments.push(seg);
    this.writeHeader(seg.first);
    // The new name must survive a crash too.
    syncDir(this.dir);
  }

  private writeHeader(first: number): void {
    const h = Buffer.alloc(HEADER);
    MAGIC.copy(h, 0);
    h.writeBigUInt64LE(BigInt(first), 8);
    ftruncateSync(this.fd, 0);
    writeSync(this.fd, h, 0, HEADER, 0);
    fsyncSync(this.fd);
    this.size = HEADER;
  }

  /**
   * Calls `onRecord` for every durable record with events at or after `from`, oldest first (events before `from`
   * in a record that straddles it are left out). Synchronous: it reads the segment files.
   */
  replay(from: number, onEvents: (offset: number, events: LoggedEvent[]) => void): number {
    if (!Number.isSafeInteger(from) || from < 0) throw argError(`replay offset must be a non-negative integer, got ${show(from)}`);
    let count = 0;
    const liveFrom = this.segments[0]?.first ?? this.next;
    if (from < liveFrom) count += this.replayArchive(from, liveFrom, onEvents);
    for (let s = 0; s < this.segments.length; s++) {
      const seg = this.segments[s]!;
      const nextFirst = this.segments[s + 1]?.first;
      if (nextFirst !== undefined && nextFirst <= from) continue;
      let buf: Buffer;
      try {
        buf = readFileSync(seg.file);
      } catch (err) {
        throw new RecsysError('E_IO', `cannot read event log segment ${seg.file}: ${(err as Error).message}`);
      }
      // Only what was durable when replay started (an append in flight may have written part of a record).
      const limit = s === this.segments.length - 1 && this.fd >= 0 ? Math.min(buf.length, this.size) : buf.length;
      scan(buf.subarray(0, limit), { ...seg }, (offset, events) => {
        const end = offset + events.length;
        if (end <= from) return;
        const part = offset >= from ? events : events.slice(from - offset);
        count += part.length;
        onEvents(Math.max(offset, from), part);
      });
    }
    return count;
  }

  // Events [from, liveFrom) from the archived segments, which must continue each other up to liveFrom.
  private replayArchive(from: number, liveFrom: number, onEvents: (offset: number, events: LoggedEvent[]) => void): number {
    const arch = this.compaction.archive;
    const p = this.pruning;
    if (from < p.before)
      throw new RecsysError(
        'E_PRUNED',
        `events ${from} to ${p.before} of the event log were deleted from ${arch} by its retention (${p.segments} segments pruned` +
          `${p.lastAt === undefined ? '' : `, the last at ${new Date(p.lastAt).toISOString()}`}): a replay from offset ${from} needs them`,
      );
    const segs: Segment[] = [];
    if (existsSync(arch))
      for (const name of readdirSync(arch)) {
        const m = SEGMENT_NAME.exec(name);
        if (m) segs.push({ file: join(arch, name), number: Number(m[1]), day: m[2]!, first: 0 });
      }
    segs.sort((a, b) => a.number - b.number);
    let next = -1;
    let count = 0;
    for (const seg of segs) {
      let buf: Buffer;
      try {
        buf = readFileSync(seg.file);
      } catch (err) {
        throw new RecsysError('E_IO', `cannot read archived event log segment ${seg.file}: ${(err as Error).message}`);
      }
      const r = scan(buf, seg, (offset, events) => {
        const end = Math.min(offset + events.length, liveFrom);
        if (end <= from) return;
        const lo = Math.max(offset, from);
        count += end - lo;
        onEvents(lo, events.slice(lo - offset, end - offset));
      });
      if (r.error !== undefined) throw new RecsysError('E_FORMAT', `archived event log segment ${seg.file} is damaged (${r.error})`);
      if (next >= 0 && seg.first !== next)
        throw new RecsysError('E_FORMAT', `archived event log segment ${seg.file} starts at offset ${seg.first}, expected ${next}`);
      if (next < 0 && seg.first > from)
        throw new RecsysError('E_FORMAT', `events ${from} to ${seg.first} of the log were compacted and are not in ${arch}: cannot replay them`);
      next = r.next;
    }
    if (next < liveFrom)
      throw new RecsysError('E_FORMAT', `events ${Math.max(from, next)} to ${liveFrom} of the log were compacted and are not in ${arch}: cannot replay them`);
    return count;
  }

  /**
   * Moves to archive/ every segment but the newest whose events all come before `upTo` (a saved model holds
   * them), oldest first, each by one rename, then fsyncs both directories. A crash part way leaves a prefix moved
   * and the rest live: either way every event is in exactly one place, and a restart reads the live ones.
   */
  compact(upTo: number): { segments: number; events: number } {
    if (!Number.isSafeInteger(upTo) || upTo < 0) throw argError(`compact offset must be a non-negative integer, got ${show(upTo)}`);
    const last = this.segments.length - 1;
    let n = 0;
    while (n < last && this.segments[n + 1]!.first <= upTo) n++;
    // The newest segment must have its header on disk: it is what the next offset is read from after a restart.
    if (n === 0 || (this.fd < 0 && statSync(this.segments[last]!.file).size < HEADER)) return { segments: 0, events: 0 };
    const arch = this.compaction.archive;
    mkdirSync(arch, { recursive: true });
    syncDir(this.dir);
    const from = this.segments[0]!.first;
    let moved = 0;
    try {
      for (; moved < n; moved++) {
        compactionHooks.step?.('move');
        const seg = this.segments[moved]!;
        renameSync(seg.file, join(arch, basename(seg.file)));
      }
    } finally {
      syncDir(arch);
      syncDir(this.dir);
      this.segments.splice(0, moved);
      const liveFrom = this.segments[0]!.first;
      this.compaction.liveFrom = liveFrom;
      this.compaction.segments += moved;
      this.compaction.events += liveFrom - from;
      if (moved > 0) this.compaction.lastAt = Date.now();
    }
    return { segments: n, events: this.segments[0]!.first - from };
  }

  /**
   * Deletes archived segments by `retention` (default: the log's archiveRetention; none = nothing), oldest first,
   * and only segments whose events all come before `upTo` (default: the live log's start), then fsyncs archive/.
   * A segment goes when it is older than maxAgeDays or the archive is over maxBytes; the first one that is neither
   * stops it, so the archive stays one run of segments up to the live log. archive/pruned.json (where the archive
   * now starts) is written atomically before the first deletion.
   */
  pruneArchive(retention: ArchiveRetention | undefined = this.retention, upTo = this.compaction.liveFrom, now = Date.now()): PruneResult {
    const r = checkRetention(retention, 'retention');
    if (!Number.isSafeInteger(upTo) || upTo < 0) throw argError(`prune offset must be a non-negative integer, got ${show(upTo)}`);
    const before = this.pruning.before;
    const none: PruneResult = { segments: 0, bytes: 0, events: 0, before };
    const arch = this.compaction.archive;
    if (!existsSync(arch)) return none;
    const segs: (Segment & { size: number; mtimeMs: number })[] = [];
    for (const name of readdirSync(arch)) {
      const m = SEGMENT_NAME.exec(name);
      if (!m) continue;
      const file = join(arch, name);
      const st = statSync(file);
      segs.push({ file, number: Number(m[1]), day: m[2]!, first: readFirst(file), size: st.size, mtimeMs: st.mtimeMs });
    }
    segs.sort((a, b) => a.number - b.number);
    const limit = Math.min(upTo, this.compaction.liveFrom);
    let total = segs.reduce((a, x) => a + x.size, 0);
    let n = 0;
    let end = before;
    // Segments and bytes this call prunes (leftovers were counted by the prune that recorded them).
    let fresh = 0;
    let bytes = 0;
    for (; n < segs.length; n++) {
      const segEnd = segs[n + 1]?.first ?? this.compaction.liveFrom;
      // Left by a prune that crashed after writing pruned.json: gone already as far as replay is concerned.
      const leftover = segEnd <= before;
      const old = r?.maxAgeDays !== undefined && now - segs[n]!.mtimeMs > r.maxAgeDays * DAY_MS;
      const big = r?.maxBytes !== undefined && total > r.maxBytes;
      if (!leftover && (segEnd > limit || (!old && !big))) break;
      total -= segs[n]!.size;
      end = Math.max(end, segEnd);
      if (!leftover) {
        fresh++;
        bytes += segs[n]!.size;
      }
    }
    if (n === 0) return none;
    const next: EventLogPruning = { before: end, segments: this.pruning.segments + fresh, bytes: this.pruning.bytes + bytes, lastAt: now };
    // The record first: from here on a replay from before `end` is refused, whatever is still on disk.
    const tmp = join(arch, `${PRUNED}.tmp`);
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(next));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(arch, PRUNED));
    syncDir(arch);
    Object.assign(this.pruning, next);
    let deleted = 0;
    try {
      for (; deleted < n; deleted++) {
        compactionHooks.step?.('prune');
        unlinkSync(segs[deleted]!.file);
      }
    } finally {
      syncDir(arch);
    }
    return { segments: fresh, bytes, events: end - before, before: end };
  }

  /** Waits for the appends in flight, then closes the file. Later appends reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.commit();
    }
    if (this.busy || this.queue.length) await new Promise<void>((r) => this.idle.push(r));
    this.closed = true;
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

// The offset of a segment's first event, from its header (E_FORMAT when the header is not one).
function readFirst(file: string): number {
  const h = Buffer.alloc(HEADER);
  const fd = openSync(file, 'r');
  try {
    if (readSync(fd, h, 0, HEADER, 0) !== HEADER || !h.subarray(0, 8).equals(MAGIC))
      throw new RecsysError('E_FORMAT', `archived event log segment ${file} does not start with an RSEVLOG1 header`);
  } finally {
    closeSync(fd);
  }
  return Number(h.readBigUInt64LE(8));
}
