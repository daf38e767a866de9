import { deepInfo, info } from '../info.js';
import { parseArgs } from './args.js';

export async function infoCommand(args: string[]): Promise<void> {
  const { opts } = parseArgs(args, { flags: ['json', 'native-only'] });
  const i = info();
  // Finding the deep models' backend loads TensorFlow.js (about half a second); --native-only skips it.
  const deep = opts['native-only'] ? undefined : await deepInfo();
  if (opts.json) {
    console.log(JSON.stringify(deep ? { ...i, deep } : i, null, 2));
    return;
  }
  console.log(
    [
      `recsys ${i.version} (Node ${i.node}, N-API ${i.napiVersion})`,
      `BLAS:     ${i.blas}${i.openblas ? '' : ' (built-in kernels; for OpenBLAS install libopenblas-dev and pkg-config, then npm rebuild recsys, or npm run build:native in a clone)'}`,
      `threads:  ${i.defaultThreads} (threads: 0 in any model uses all of them)`,
      `SIMD:     ${i.simd} (${i.dispatch ? `chosen at run time over the ${i.archFlag} baseline` : i.archFlag || 'default -march'})`,
      `compiler: ${i.compiler}`,
    ].join('\n'),
  );
  if (deep) {
    const tried = deep.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
    console.log(
      `deep:     TensorFlow.js ${deep.tfjsVersion} on ${deep.name} (${deep.package}${deep.simd ? ', SIMD' : ''}${deep.threads ? `, ${deep.threads} thread${deep.threads > 1 ? 's' : ''}` : ''})`,
    );
    if (tried) console.log(`          not used: ${tried}`);
    if (deep.name !== 'tensorflow' && deep.name !== 'tensorflow-gpu') {
      console.log(`          for native TensorFlow: npm install @tensorflow/tfjs-node@${deep.tfjsVersion} (or -gpu; downloads libtensorflow)`);
    }
  }
}
