// Fuzz target 'foldin' (test/fuzz/targets/foldin.ts) in the test suite; see test/fuzz/suite.ts.
import { fuzzTarget } from './suite.js';

fuzzTarget('foldin');
