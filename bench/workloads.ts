/**
 * The benchmark's workloads. Each has ONNX bytes and feeds (run by Tessera's InferenceSession,
 * onnxruntime-node and onnxruntime-web) and/or hand-written versions for Tessera's eager API and
 * TensorFlow.js where the workload can be expressed there (GEMM, MLP, CNN, training steps).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeTensor } from '../src/importers/onnx/index.js';
import { Generator, InferenceSession, nn, optim, Tensor as T, type Tensor } from '../src/index.js';
import { type CnnSpec, cnnModel, type MlpSpec, matmulModel, mlpModel } from './onnx-build.js';
import type { Feeds, Run, Tf } from './runtimes.js';

export interface Workload {
  name: string;
  group: 'gemm' | 'mlp' | 'cnn' | 'light' | 'models' | 'train' | 'scaling';
  /** Floating-point operations of one run, for GFLOP/s. */
  flops?: number;
  onnx?: () => Promise<{ bytes: Uint8Array; feeds: Feeds }>;
  /** Tessera through its eager API instead of a session (GEMM, training). */
  tessera?: () => Promise<Run> | Run;
  tfjs?: (tf: Tf) => Run;
  /** Threads for this workload instead of the run's --threads (the scaling rows). */
  threads?: number;
  /** Runtimes this workload is limited to. */
  only?: string[];
  /** Workloads with the same key, next to each other in the list, are timed in the same rounds. */
  together?: string;
}

function randomFeed(dims: number[], seed: number): { data: Float32Array; dims: number[] } {
  const g = new Generator(seed);
  const n = dims.reduce((p, d) => p * d, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = g.uniform() * 2 - 1;
  return { data, dims };
}

function gemm(n: number, extra: Partial<Workload> = {}, name = `gemm-${n}`): Workload {
  const A = randomFeed([n, n], 1);
  const B = randomFeed([n, n], 2);
  return {
    name,
    group: 'gemm',
    flops: 2 * n * n * n,
    onnx: async () => ({ bytes: matmulModel(n), feeds: { A, B } }),
    tessera: () => {
      const a = T.fromData(A.data, A.dims, 'float32');
      const b = T.fromData(B.data, B.dims, 'float32');
      return async () => a.matmul(b).dataSync();
    },
    tfjs: (tf) => {
      const a = tf.tensor2d(A.data, [n, n]);
      const b = tf.tensor2d(B.data, [n, n]);
      return async () => {
        const c = tf.matMul(a, b);
        c.dataSync();
        c.dispose();
      };
    },
    ...extra,
  };
}

const MLP: MlpSpec = { inputs: 784, hidden: 512, outputs: 10 };

function mlp(batch: number): Workload {
  const x = randomFeed([batch, MLP.inputs], 3);
  const m = mlpModel(batch, MLP);
  return {
    name: `mlp-b${batch}`,
    group: 'mlp',
    flops: 2 * batch * (MLP.inputs * MLP.hidden + MLP.hidden * MLP.outputs),
    onnx: async () => ({ bytes: m.bytes, feeds: { x } }),
    tfjs: (tf) => {
      const w = m.weights;
      const w1 = tf.tensor2d(w.w1!.dataSync() as Float32Array, w.w1!.shape as [number, number]);
      const b1 = tf.tensor1d(w.b1!.dataSync() as Float32Array);
      const w2 = tf.tensor2d(w.w2!.dataSync() as Float32Array, w.w2!.shape as [number, number]);
      const b2 = tf.tensor1d(w.b2!.dataSync() as Float32Array);
      const xt = tf.tensor2d(x.data, [batch, MLP.inputs]);
      return async () => {
        const y = tf.tidy(() =>
          tf.matMul(tf.relu(tf.matMul(xt, w1, false, true).add(b1)), w2, false, true).add(b2),
        );
        y.dataSync();
        y.dispose();
      };
    },
  };
}

const CNN: CnnSpec = { size: 28, c1: 16, c2: 32, hidden: 128, classes: 10 };

/** OIHW -> HWIO, TensorFlow's filter layout. */
function hwio(tf: Tf, w: Tensor) {
  const [o, i, h, ww] = w.shape as [number, number, number, number];
  return tf.transpose(tf.tensor4d(w.dataSync() as Float32Array, [o, i, h, ww]), [2, 3, 1, 0]);
}

function cnn(batch: number): Workload {
  const s = CNN;
  const x = randomFeed([batch, 1, s.size, s.size], 4);
  const m = cnnModel(batch, s);
  const flat = s.c2 * (s.size / 4) * (s.size / 4);
  const convFlops =
    2 * batch * s.size * s.size * s.c1 * 9 + 2 * batch * (s.size / 2) * (s.size / 2) * s.c2 * s.c1 * 9;
  return {
    name: `cnn-b${batch}`,
    group: 'cnn',
    flops: convFlops + 2 * batch * (flat * s.hidden + s.hidden * s.classes),
    onnx: async () => ({ bytes: m.bytes, feeds: { x } }),
    tfjs: (tf) => {
      const w = m.weights;
      const k1 = hwio(tf, w.k1!);
      const k2 = hwio(tf, w.k2!);
      const c1b = tf.tensor1d(w.c1b!.dataSync() as Float32Array);
      const c2b = tf.tensor1d(w.c2b!.dataSync() as Float32Array);
      const w1 = tf.tensor2d(w.w1!.dataSync() as Float32Array, w.w1!.shape as [number, number]);
      const b1 = tf.tensor1d(w.b1!.dataSync() as Float32Array);
      const w2 = tf.tensor2d(w.w2!.dataSync() as Float32Array, w.w2!.shape as [number, number]);
      const b2 = tf.tensor1d(w.b2!.dataSync() as Float32Array);
      // NCHW input as NHWC (C = 1: same data).
      const xt = tf.tensor4d(x.data, [batch, s.size, s.size, 1]);
      return async () => {
        const y = tf.tidy(() => {
          let h = tf.maxPool(tf.relu(tf.conv2d(xt, k1 as any, 1, 'same').add(c1b)) as any, 2, 2, 'valid');
          h = tf.maxPool(tf.relu(tf.conv2d(h as any, k2 as any, 1, 'same').add(c2b)) as any, 2, 2, 'valid');
          // Flatten in NCHW order, as the ONNX model does.
          const f = tf.transpose(h, [0, 3, 1, 2]).reshape([batch, flat]);
          return tf.matMul(tf.relu(tf.matMul(f, w1, false, true).add(b1)), w2, false, true).add(b2);
        });
        y.dataSync();
        y.dispose();
      };
    },
  };
}

/** Float inputs of a model file at batch 1, from its declared shape (symbolic dims = 1). */
async function modelFeeds(bytes: Uint8Array, seed: number): Promise<Feeds> {
  const s = await InferenceSession.create(bytes);
  const feeds: Feeds = {};
  s.inputMetadata.forEach((m: any, i) => {
    const dims = (m.shape as (number | string)[]).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    feeds[m.name] = randomFeed(dims, seed + i);
  });
  return feeds;
}

function fileWorkload(name: string, group: 'light' | 'models', file: string, dataDir?: string): Workload {
  return {
    name,
    group,
    onnx: async () => {
      const bytes = new Uint8Array(readFileSync(file));
      const feeds = await modelFeeds(bytes, 7);
      if (dataDir && existsSync(dataDir)) {
        // The model's own test inputs, in the order of its graph inputs.
        const order = Object.keys(feeds);
        readdirSync(dataDir)
          .filter((f) => /^input_\d+\.pb$/.test(f))
          .sort()
          .forEach((f, i) => {
            const t = decodeTensor(readFileSync(join(dataDir, f)));
            const key = t.name && t.name in feeds ? t.name : order[i]!;
            feeds[key] = { data: Float32Array.from(t.numbers()), dims: [...t.shape] };
          });
      }
      return { bytes, feeds };
    },
  };
}

const MLP_TRAIN: MlpSpec = { inputs: 784, hidden: 256, outputs: 10 };
const CNN_TRAIN: CnnSpec = { size: 28, c1: 8, c2: 16, hidden: 64, classes: 10 };

function labels(batch: number, classes: number): number[] {
  return Array.from({ length: batch }, (_, i) => (i * 7) % classes);
}

function trainMlp(batch: number): Workload {
  const s = MLP_TRAIN;
  const x = randomFeed([batch, s.inputs], 5);
  const y = labels(batch, s.outputs);
  return {
    name: `train-mlp-b${batch}`,
    group: 'train',
    flops: 3 * 2 * batch * (s.inputs * s.hidden + s.hidden * s.outputs),
    tessera: () => {
      const model = new nn.Sequential(
        new nn.Linear(s.inputs, s.hidden),
        new nn.ReLU(),
        new nn.Linear(s.hidden, s.outputs),
      );
      const opt = new optim.SGD(model.parameters(), { lr: 0.01 });
      const xt = T.fromData(x.data, x.dims, 'float32');
      const yt = T.fromData(BigInt64Array.from(y.map(BigInt)), [batch], 'int64');
      return async () => {
        opt.zeroGrad();
        const loss = nn.crossEntropy(model.forward(xt) as Tensor, yt);
        loss.backward();
        opt.step();
        return loss.item();
      };
    },
    tfjs: (tf) => {
      const v = (shape: number[], fan: number) =>
        tf.variable(tf.randomUniform(shape, -1 / Math.sqrt(fan), 1 / Math.sqrt(fan)));
      const w1 = v([s.inputs, s.hidden], s.inputs);
      const b1 = v([s.hidden], s.inputs);
      const w2 = v([s.hidden, s.outputs], s.hidden);
      const b2 = v([s.outputs], s.hidden);
      const xt = tf.tensor2d(x.data, [batch, s.inputs]);
      const yt = tf.oneHot(tf.tensor1d(y, 'int32'), s.outputs);
      const opt = tf.train.sgd(0.01);
      return async () => {
        const loss = opt.minimize(
          () => tf.losses.softmaxCrossEntropy(yt, tf.relu(xt.matMul(w1).add(b1)).matMul(w2).add(b2)) as any,
          true,
        );
        loss!.dataSync();
        loss!.dispose();
      };
    },
  };
}

function trainCnn(batch: number): Workload {
  const s = CNN_TRAIN;
  const x = randomFeed([batch, 1, s.size, s.size], 6);
  const y = labels(batch, s.classes);
  const flat = s.c2 * (s.size / 4) * (s.size / 4);
  return {
    name: `train-cnn-b${batch}`,
    group: 'train',
    tessera: () => {
      const model = new nn.Sequential(
        new nn.Conv2d(1, s.c1, 3, { padding: 1 }),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Conv2d(s.c1, s.c2, 3, { padding: 1 }),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Flatten(),
        new nn.Linear(flat, s.hidden),
        new nn.ReLU(),
        new nn.Linear(s.hidden, s.classes),
      );
      const opt = new optim.SGD(model.parameters(), { lr: 0.01 });
      const xt = T.fromData(x.data, x.dims, 'float32');
      const yt = T.fromData(BigInt64Array.from(y.map(BigInt)), [batch], 'int64');
      return async () => {
        opt.zeroGrad();
        const loss = nn.crossEntropy(model.forward(xt) as Tensor, yt);
        loss.backward();
        opt.step();
        return loss.item();
      };
    },
    tfjs: (tf) => {
      const v = (shape: number[], fan: number) =>
        tf.variable(tf.randomUniform(shape, -1 / Math.sqrt(fan), 1 / Math.sqrt(fan)));
      // tfjs-wasm has no Conv2DBackpropFilter kernel; its Conv3D kernels (forward and both
      // gradients, native in its WASM) compute the same 2-D convolution with a depth of 1.
      const k1 = v([1, 3, 3, 1, s.c1], 9);
      const c1b = v([s.c1], 9);
      const k2 = v([1, 3, 3, s.c1, s.c2], 9 * s.c1);
      const c2b = v([s.c2], 9 * s.c1);
      const w1 = v([flat, s.hidden], flat);
      const b1 = v([s.hidden], flat);
      const w2 = v([s.hidden, s.classes], s.hidden);
      const b2 = v([s.classes], s.hidden);
      const xt = tf.tensor4d(x.data, [batch, s.size, s.size, 1]);
      const yt = tf.oneHot(tf.tensor1d(y, 'int32'), s.classes);
      const opt = tf.train.sgd(0.01);
      return async () => {
        const loss = opt.minimize(() => {
          const conv = (t: any, k: any, c: number, hw: number) =>
            tf.conv3d(t.reshape([batch, 1, hw, hw, c]), k, 1, 'same').reshape([batch, hw, hw, -1]);
          let h = tf.maxPool(tf.relu(conv(xt, k1, 1, s.size).add(c1b)) as any, 2, 2, 'valid');
          h = tf.maxPool(tf.relu(conv(h, k2, s.c1, s.size / 2).add(c2b)) as any, 2, 2, 'valid');
          const f = h.reshape([batch, flat]);
          return tf.losses.softmaxCrossEntropy(yt, tf.relu(f.matMul(w1).add(b1)).matMul(w2).add(b2)) as any;
        }, true);
        loss!.dataSync();
        loss!.dispose();
      };
    },
  };
}

const LIGHT = ['resnet50', 'squeezenet', 'shufflenet', 'densenet121', 'inception_v1'];
const REAL = ['mnist8_cntk', 'ultraface_rfb320', 'super_resolution'];

/** Every workload, in report order. `shared` is the ../shared folder with onnx-tests/ and models/. */
export function workloads(shared: string): Workload[] {
  const list: Workload[] = [gemm(256), gemm(512), gemm(1024)];
  list.push(
    // One and two threads in the same rounds: the speed-up is a ratio of the two, and a spell of load
    // on the VM between two separately timed rows read as 1.21x and 1.36x in runs where both
    // runtimes' two-thread products slowed.
    ...[1, 2].map((t) =>
      gemm(
        1024,
        { group: 'scaling', threads: t, only: ['tessera', 'ort-node'], together: 'scaling' },
        `gemm-1024-${t}t`,
      ),
    ),
  );
  list.push(mlp(1), mlp(64), cnn(1));
  for (const m of LIGHT) {
    const f = join(shared, 'onnx-tests/light', `light_${m}.onnx`);
    if (existsSync(f)) list.push(fileWorkload(m, 'light', f));
  }
  for (const m of REAL) {
    const f = join(shared, 'models', m, 'model.onnx');
    if (existsSync(f)) list.push(fileWorkload(m, 'models', f, join(shared, 'models', m, 'test_data_set_0')));
  }
  list.push(trainMlp(64), trainCnn(32));
  return list;
}
