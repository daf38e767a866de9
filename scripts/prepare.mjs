#!/usr/bin/env node
// npm's prepare step: compile the TypeScript into dist/. `npx recsys` inside a clone of this repository makes npm
// install the clone into npx's cache as a link to itself and run its prepare and install scripts once more
// (npm_command=exec); dist/ is already built then, so that run does nothing (scripts/install.mjs keeps the addon).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
if (process.env.npm_command === 'exec' && existsSync(join(root, 'dist', 'cli', 'main.js')) && existsSync(join(root, 'dist', 'cjs', 'index.js')))
  process.exit(0);
// Both builds (ES modules for the CLI, CommonJS for require) are compiled by scripts/build-ts.mjs.
const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-ts.mjs')], { stdio: 'inherit' });
process.exit(r.status ?? 1);
