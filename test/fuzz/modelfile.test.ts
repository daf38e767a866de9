// Fuzz target 'modelfile' (test/fuzz/targets/modelfile.ts) in the test suite; see test/fuzz/suite.ts.
import { fuzzTarget } from './suite.js';

fuzzTarget('modelfile');
