/** Control flow and non-tensor values: If, Loop, Scan, sequences, optionals. */
import './if.js';
import './loop.js';
import './scan.js';
import './sequence.js';
import './optional.js';
