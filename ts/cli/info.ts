import { info } from '../info.js';
import { parseArgs } from './args.js';

export function infoCommand(args: string[]): void {
  const { opts } = parseArgs(args, { flags: ['json'] });
  const i = info();
  if (opts.json) {
    console.log(JSON.stringify(i, null, 2));
    return;
  }
  console.log(
    [
      `recsys ${i.version} (Node ${i.node}, N-API ${i.napiVersion})`,
      `BLAS:     ${i.blas}${i.openblas ? '' : ' (built-in kernels; install libopenblas-dev and pkg-config, then npm run build:native, for OpenBLAS)'}`,
      `threads:  ${i.defaultThreads} (threads: 0 in any model uses all of them)`,
      `SIMD:     ${i.simd} (${i.archFlag})`,
      `compiler: ${i.compiler}`,
    ].join('\n'),
  );
}
