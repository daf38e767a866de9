import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RecsysError, loadModel, readModelInfo } from '../../ts/index.js';
import { STALE_TEMP_MS, removeStaleTempFiles, saveModel, type SaveIo } from '../../ts/io/format.js';
import * as fs from 'node:fs';
import { factorModel, tempDir } from './helpers.js';

const tmp = tempDir('recsys-atomic-');
afterAll(() => tmp.remove());

const realIo: SaveIo = {
  openSync: fs.openSync,
  writeSync: (fd, b, o, l) => fs.writeSync(fd, b, o, l),
  fsyncSync: fs.fsyncSync,
  closeSync: fs.closeSync,
  renameSync: fs.renameSync,
  unlinkSync: fs.unlinkSync,
};

function expectCode(f: () => unknown, code: string, message?: RegExp): void {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(RecsysError);
    expect((err as RecsysError).code).toBe(code);
    if (message) expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected a throw');
}

describe('atomic save', () => {
  const oldModel = factorModel(50, 400, 16, 1);
  const newModel = factorModel(50, 400, 16, 2);

  it('a write that fails midway leaves the previous file intact and no temporary file behind', () => {
    const dir = tmp.path('midway');
    mkdirSync(dir);
    const path = `${dir}/m.rsm`;
    oldModel.save(path);
    const before = readFileSync(path);
    for (const failAt of [0, 1, 2]) {
      let writes = 0;
      const io: SaveIo = {
        ...realIo,
        writeSync: (fd, b, o, l) => {
          if (writes++ === failAt) {
            fs.writeSync(fd, b, o, Math.floor(l / 2)); // half of this chunk reaches the disk, then the "crash"
            throw new Error('ENOSPC: no space left on device (simulated)');
          }
          return fs.writeSync(fd, b, o, l);
        },
      };
      expectCode(() => saveModel(newModel, path, io), 'E_IO', /ENOSPC/);
      expect(Buffer.compare(readFileSync(path), before)).toBe(0);
      expect(readdirSync(dir)).toEqual(['m.rsm']);
    }
    // fsync and rename failures too.
    expectCode(
      () =>
        saveModel(newModel, path, {
          ...realIo,
          fsyncSync: () => {
            throw new Error('EIO (simulated)');
          },
        }),
      'E_IO',
    );
    expectCode(
      () =>
        saveModel(newModel, path, {
          ...realIo,
          renameSync: () => {
            throw new Error('EXDEV (simulated)');
          },
        }),
      'E_IO',
    );
    expect(Buffer.compare(readFileSync(path), before)).toBe(0);
    expect(readdirSync(dir)).toEqual(['m.rsm']);
    expect(loadModel(path).recommend('user-3')).toEqual(oldModel.recommend('user-3'));
    // And a successful save replaces it.
    newModel.save(path);
    expect(loadModel(path).recommend('user-3')).toEqual(newModel.recommend('user-3'));
  });

  it('reports unwritable targets as E_IO', () => {
    expectCode(() => oldModel.save(tmp.path('no/such/dir/m.rsm')), 'E_IO');
    const d = tmp.path('a-directory');
    mkdirSync(d);
    expectCode(() => oldModel.save(d), 'E_IO');
    expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  const child = fileURLToPath(new URL('./fixtures/save-loop.ts', import.meta.url));
  async function runChild(args: string[], signal: string, delayMs: number): Promise<void> {
    const p = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((res, rej) => {
      p.stdout.on('data', (d: Buffer) => d.toString().includes(signal) && res());
      p.on('exit', (code) => rej(new Error(`child exited early (${code})`)));
    });
    await new Promise((r) => setTimeout(r, delayMs));
    const exited = new Promise((r) => p.on('exit', r));
    p.kill('SIGKILL');
    await exited;
  }

  it('a process killed halfway through writing leaves the previous file exactly as it was', async () => {
    const dir = tmp.path('midway-kill');
    mkdirSync(dir);
    const path = `${dir}/m.rsm`;
    oldModel.save(path);
    const before = readFileSync(path);
    await runChild([path, 'midway'], 'midway', 0);
    expect(Buffer.compare(readFileSync(path), before)).toBe(0);
    expect(loadModel(path).recommend('user-3')).toEqual(oldModel.recommend('user-3'));
    // The abandoned temporary file is a hidden sibling, never the model.
    expect(readdirSync(dir).filter((f) => f.startsWith('.m.rsm.') && f.endsWith('.tmp'))).toHaveLength(1);
    // The next save to that directory removes it: its writer is gone.
    newModel.save(path);
    expect(readdirSync(dir)).toEqual(['m.rsm']);
  });

  it('removes only stale temporary files of its own naming', () => {
    const dir = tmp.path('stale');
    mkdirSync(dir);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid; // a pid whose process has exited
    const file = (name: string, ageMs = 0) => {
      writeFileSync(`${dir}/${name}`, 'x');
      if (ageMs) utimesSync(`${dir}/${name}`, new Date(Date.now() - ageMs), new Date(Date.now() - ageMs));
      return name;
    };
    const deadWriter = file(`.m.rsm.${dead}.0123abcd.tmp`);
    const ownLive = file(`.m.rsm.${process.pid}.0123abcd.tmp`); // maybe a worker thread of ours is writing it
    const otherLive = file(`.other.rsm.1.89abcdef.tmp`); // pid 1 is alive
    const otherOld = file(`.old.rsm.1.00000000.tmp`, STALE_TEMP_MS + 60_000); // alive pid, untouched for long: stale
    const notOurs = [
      file(`.m.rsm.${dead}.tmp`),
      file(`m.rsm.${dead}.0123abcd.tmp`),
      file(`.m.rsm.${dead}.0123ABCD.tmp`),
      file('.m.rsm.x.0123abcd.tmp'),
      file('notes.tmp'),
    ];
    mkdirSync(`${dir}/.d.rsm.${dead}.0123abcd.tmp`); // a directory with our naming is left alone
    const removed = removeStaleTempFiles(dir).map((p) => p.slice(dir.length + 1));
    expect(removed.sort()).toEqual([deadWriter, otherOld].sort());
    expect(readdirSync(dir).sort()).toEqual([ownLive, otherLive, ...notOurs, `.d.rsm.${dead}.0123abcd.tmp`].sort());
  });

  it('a process killed at random moments while saving in a loop never leaves a broken model at the path', async () => {
    const dir = tmp.path('killed');
    mkdirSync(dir);
    const path = `${dir}/m.rsm`;
    const seen = new Set<string>();
    for (let round = 0; round < 4; round++) {
      await runChild([path, 'loop'], 'saved', 10 + round * 37);
      // Whatever moment the kill hit, the path holds a complete model: one of the two the child writes.
      const info = readModelInfo(path);
      expect(loadModel(path).trainData.nItems).toBe(20000);
      seen.add(info.checksum);
      for (const f of readdirSync(dir)) if (f.endsWith('.tmp')) fs.unlinkSync(`${dir}/${f}`);
    }
    expect(seen.size).toBeGreaterThanOrEqual(1);
  });
});
