// Fuzz target 'csr' (test/fuzz/targets/csr.ts) in the test suite; see test/fuzz/suite.ts.
import { fuzzTarget } from './suite.js';

fuzzTarget('csr');
