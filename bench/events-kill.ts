// kill -9 during ingest, RUNS times (issue 15's "0 acknowledged events lost over 50 kill -9 runs"): a child process
// appends events to one event log (16 appends in flight, group commit or strict) and prints each acknowledgement;
// after a random number of acknowledgements (50..2000) it is SIGKILLed. The log is then reopened (repairing a torn
// tail) and every acknowledged event must be in it, with the same contents.
// Usage: npx tsx bench/events-kill.ts [runs=50] [group|strict]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventLog, type LoggedEvent } from '../ts/serve/eventlog.js';

const eventFor = (n: number): LoggedEvent[] => [
  { user: `u${n}`, item: n % 1009, value: 1 },
  { user: `u${n}`, item: (n * 7) % 1009, value: 2, timestamp: n },
];

if (process.argv[2] === '--child') {
  const log = EventLog.open({ dir: process.argv[3]!, durability: process.argv[4] as 'group' | 'strict' });
  let n = 0;
  const one = async (): Promise<void> => {
    for (;;) {
      const id = n++;
      const r = await log.append(eventFor(id));
      process.stdout.write(`ack ${id} ${r.offset}\n`);
    }
  };
  for (let w = 0; w < 16; w++) void one();
} else {
  const runs = Number(process.argv[2] ?? 50);
  const durability = process.argv[3] ?? 'group';
  const self = fileURLToPath(import.meta.url);
  let lost = 0;
  let acked = 0;
  let torn = 0;
  const t0 = performance.now();
  for (let run = 0; run < runs; run++) {
    const dir = mkdtempSync(join(tmpdir(), 'recsys-kill-'));
    const target = 50 + Math.floor(Math.random() * 1950);
    const child = spawn(process.execPath, ['--import', 'tsx', self, '--child', dir, durability], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acks = new Map<number, number>();
    let buf = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const m = /^ack (\d+) (\d+)$/.exec(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
          if (m) acks.set(Number(m[1]), Number(m[2]));
        }
        if (acks.size >= target && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
    });
    const log = EventLog.open({ dir });
    if (log.recovered.truncated) torn++;
    const byOffset = new Map<number, LoggedEvent>();
    log.replay(0, (offset, events) => events.forEach((e, j) => byOffset.set(offset + j, e)));
    for (const [id, offset] of acks) {
      const want = eventFor(id);
      const ok = want.every((e, j) => JSON.stringify(byOffset.get(offset + j)) === JSON.stringify(e));
      if (!ok) lost++;
    }
    acked += acks.size;
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `${runs} kill -9 runs (${durability}): ${acked} acknowledged appends, ${lost} lost or changed; ${torn} logs had a torn tail dropped on reopen; ` +
      `${((performance.now() - t0) / 1000).toFixed(0)} s; load ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
  );
  if (lost) process.exitCode = 1;
}
