// One fuzz worker process: runs cases [start, end) of one target and reports each on fd 3 (one line per event,
// written synchronously so the case in progress is known if the process dies). Run by the driver (driver.ts);
// run by hand to see one case with its stack trace:
//   npx tsx test/fuzz/worker.ts <target> <seed> <case> [<end>]
import { writeSync } from 'node:fs';
import { caseSeed, Gen } from './gen.js';
import { classify, Finding, type Target } from './target.js';
import { loadTarget } from './targets/index.js';

const [name, seedText, startText, endText] = process.argv.slice(2);
const seed = Number(seedText);
const start = Number(startText ?? 0);
const end = Number(endText ?? start + 1);
const proto = process.env.FUZZ_PROTOCOL_FD === '3';
const emit = (line: string) => {
  if (proto) writeSync(3, line + '\n');
  else process.stdout.write(line + '\n');
};
const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ').slice(0, 4000);

// A Ctrl-C in the terminal reaches the whole process group: the driver decides when a worker stops (it kills
// it), and a worker whose driver is gone stops by itself.
if (proto) {
  process.on('SIGINT', () => {});
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(1);
  }, 1000).unref();
}

let current = -1;
process.on('unhandledRejection', (e) => {
  const c = classify(e);
  emit(`F ${current} exception ${oneLine('unhandled rejection: ' + ('exception' in c ? c.exception : c.refused))}`);
});

const target: Target = await loadTarget(name!);
const ctx = await target.setup();
emit('READY');
for (let i = start; i < end; i++) {
  current = i;
  const g = new Gen(caseSeed(seed, target.name, i));
  let c: unknown;
  let desc: string;
  try {
    c = target.gen(g, ctx, i);
    desc = target.show(c);
  } catch (e) {
    emit(`S ${i} (the generator failed)`);
    emit(`F ${i} exception ${oneLine(`generator failed: ${(e as Error).stack ?? String(e)}`)}`);
    continue;
  }
  emit(`S ${i} ${oneLine(desc)}`);
  try {
    const label = await target.run(c, ctx);
    emit(`R ${i} ${label ? label.replace(/\s+/g, '_') : 'ok'}`);
  } catch (e) {
    if (e instanceof Finding) emit(`F ${i} ${e.kind} ${oneLine(e.message)}`);
    else {
      const r = classify(e);
      if ('refused' in r) emit(`R ${i} ${r.refused}`);
      else emit(`F ${i} exception ${oneLine(r.exception)}`);
      if (!proto) console.error(e instanceof Error && 'refused' in r ? `  (${e.message})` : e);
    }
  }
}
emit('END');
// Deep-model backends and servers may hold the event loop open.
process.exit(0);
