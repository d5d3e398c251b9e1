/** A conformance worker thread: runs the test cases it is sent, one at a time, and posts each result. */
import { parentPort } from 'node:worker_threads';
import { type RunCaseOptions, runCase, type TestCase } from './harness.js';

parentPort!.on('message', (msg: { tc: TestCase; opts: RunCaseOptions }) => {
  parentPort!.postMessage(runCase(msg.tc, msg.opts));
});
parentPort!.postMessage({ ready: true });
