// Fuzz target 'options' (test/fuzz/targets/options.ts) in the test suite; see test/fuzz/suite.ts.
import { fuzzTarget } from './suite.js';

fuzzTarget('options');
