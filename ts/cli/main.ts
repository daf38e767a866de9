#!/usr/bin/env node
// The recsys command line. Each command lives in its own module; this file only dispatches.
import { RecsysError } from '../errors.js';

interface Command {
  summary: string;
  usage: string;
  run(args: string[]): Promise<void>;
}

const commands: Record<string, Command> = {
  info: {
    summary: 'version, BLAS in use, threads, SIMD level and compiler of the native addon',
    usage: 'recsys info [--json]',
    async run(args) {
      const { infoCommand } = await import('./info.js');
      infoCommand(args);
    },
  },
  demo: {
    summary: 'load MovieLens 100K (or a built-in dataset), split, fit every model, print an evaluation table and top-10 titles',
    usage: 'recsys demo [path] [--generated] [--json] [--threads N] [--user ID] [--seed N]\n  path: a MovieLens folder (default: $RECSYS_DATA_DIR/ml-100k, then ../shared/datasets/ml-100k)\n  --generated: use the built-in dataset with planted taste groups',
    async run(args) {
      const { demoCommand } = await import('./demo.js');
      await demoCommand(args);
    },
  },
};

function help(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'usage: recsys <command> [options]',
    '',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'recsys <command> --help shows a command\'s options.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`recsys: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`usage: ${cmd.usage}\n\n${cmd.summary}`);
    return 0;
  }
  await cmd.run(rest);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as Error;
    console.error(err instanceof RecsysError ? `recsys: ${e.message} (${err.code})` : `recsys: ${e?.stack ?? String(err)}`);
    process.exitCode = 1;
  },
);
