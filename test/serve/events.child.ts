// Child of events.test.ts: appends events to the log in argv[2] as fast as it can (several appends in flight, so
// group commit batches them) and prints "ack <offset> <count>" for each acknowledged append. The parent SIGKILLs
// it mid-stream and checks that every acknowledged event is in the log.
import { EventLog } from '../../ts/serve/eventlog.js';

const log = EventLog.open({ dir: process.argv[2]!, durability: (process.argv[3] as 'group' | 'strict' | undefined) ?? 'group' });
let n = 0;
const one = async (): Promise<void> => {
  for (;;) {
    const u = n++;
    const batch = [
      { user: `u${u}`, item: u % 97, value: 1 },
      { user: `u${u}`, item: (u * 7) % 97, value: 2, timestamp: u },
    ];
    const r = await log.append(batch);
    process.stdout.write(`ack ${r.offset} ${r.count}\n`);
  }
};
for (let w = 0; w < 8; w++) void one();
