#!/usr/bin/env node
// The recsys command line. Each command lives in its own module; this file only dispatches.
import { RecsysError } from '../errors.js';

interface Command {
  summary: string;
  /** The --help text, or a loader of it (commands that keep it in their own module). */
  usage: string | (() => Promise<string>);
  run(args: string[]): Promise<void>;
}

const commands: Record<string, Command> = {
  info: {
    summary: 'version, BLAS in use, threads, SIMD level and compiler of the native addon',
    usage: 'recsys info [--json] [--native-only]   (the build, and the TensorFlow.js backend of the deep models unless --native-only)',
    async run(args) {
      const { infoCommand } = await import('./info.js');
      await infoCommand(args);
    },
  },
  demo: {
    summary: 'load MovieLens 100K (or a built-in dataset), split, fit every model, print an evaluation table and top-10 titles',
    usage:
      'recsys demo [path] [--generated] [--json] [--threads N] [--user ID] [--seed N]\n  path: a MovieLens folder (default: $RECSYS_DATA_DIR/ml-100k, then ../shared/datasets/ml-100k)\n  --generated: use the built-in dataset with planted taste groups',
    async run(args) {
      const { demoCommand } = await import('./demo.js');
      await demoCommand(args);
    },
  },
  train: {
    summary: 'fit a model on an interaction file and save it (e.g. --model als --set factors=64 --out als.rsm)',
    usage: async () => (await import('./train.js')).trainUsage,
    async run(args) {
      const { trainCommand } = await import('./train.js');
      await trainCommand(args);
    },
  },
  evaluate: {
    summary: 'fit on a split and evaluate (rating and ranking metrics), or evaluate a saved model on a test file',
    usage: async () => (await import('./evaluate.js')).evaluateUsage,
    async run(args) {
      const { evaluateCommand } = await import('./evaluate.js');
      await evaluateCommand(args);
    },
  },
  recommend: {
    summary: 'top-k items from a saved model for users (or for a new user from their items)',
    usage: async () => (await import('./recommend.js')).recommendUsage,
    async run(args) {
      const { recommendCommand } = await import('./recommend.js');
      await recommendCommand(args);
    },
  },
  similar: {
    summary: 'items most similar to an item, from a saved model',
    usage: async () => (await import('./recommend.js')).similarUsage,
    async run(args) {
      const { similarCommand } = await import('./recommend.js');
      await similarCommand(args);
    },
  },
  serve: {
    summary: 'HTTP recommendation server over a model file (hot reload, metrics, OpenAPI)',
    usage: async () => (await import('./serve.js')).serveUsage,
    async run(args) {
      const { serveCommand } = await import('./serve.js');
      await serveCommand(args);
    },
  },
  report: {
    summary: 'render benchmark result files (bench/results/*.json) into one self-contained HTML page with charts',
    usage: async () => (await import('./report.js')).reportUsage,
    async run(args) {
      const { reportCommand } = await import('./report.js');
      await reportCommand(args);
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
    "recsys <command> --help shows a command's options.",
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
    const usage = typeof cmd.usage === 'string' ? cmd.usage : await cmd.usage();
    console.log(`usage: ${usage}\n\n${cmd.summary}`);
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
    // One line for people; the stack only when asked for (RECSYS_DEBUG=1).
    const line = err instanceof RecsysError ? `recsys: ${e.message} (${err.code})` : `recsys: ${e?.message ?? String(err)}`;
    console.error(process.env.RECSYS_DEBUG ? `${line}\n${e?.stack ?? ''}` : line.split('\n')[0]);
    process.exitCode = 1;
  },
);
