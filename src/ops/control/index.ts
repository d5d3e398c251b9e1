/** Control flow and non-tensor values: If, Loop, Scan, sequences, optionals. */
export {};
