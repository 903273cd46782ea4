/**
 * Policy snapshots in TensorFlow.js's LayersModel format (model.json + weights.bin),
 * so a snapshot from either engine loads in the other and in tf.loadLayersModel.
 * Writes go to a temporary folder that is renamed into place: a crash never leaves
 * half a snapshot.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { type Activation, type NetworkSpec, type Weights, weightShapes } from '../agent/learner.js';
import { readJson, writeFolderAtomic } from '../util/files.js';
import { listText } from './config.js';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

/** What we store beside the network, under model.json's userDefinedMetadata.rlsweep. */
export interface SnapshotMetadata {
  env: string;
  step: number;
  engine: string;
  runName?: string;
}

export interface LoadedSnapshot {
  spec: NetworkSpec;
  weights: Weights;
  metadata: Partial<SnapshotMetadata>;
  modelJsonPath: string;
}

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

/**
 * The Keras topology of an MLP, as tf.LayersModel.save() writes it. Written here, not by
 * TensorFlow.js, so saving a snapshot never loads TensorFlow.js (about 90 MB and half a
 * second per process, which the fused engine does not otherwise need); a test loads the
 * result with tf.loadLayersModel.
 */
function modelTopology(spec: NetworkSpec): object {
  const units = [...spec.hiddenLayers, spec.actionCount];
  const layers = units.map((layerUnits, i) => ({
    class_name: 'Dense',
    config: {
      units: layerUnits,
      activation: i === units.length - 1 ? 'linear' : spec.activation,
      use_bias: true,
      // The weights are stored, so the initialisers only describe how they began (Glorot uniform).
      kernel_initializer: { class_name: 'VarianceScaling', config: { scale: 1, mode: 'fan_avg', distribution: 'uniform', seed: null } },
      bias_initializer: { class_name: 'Zeros', config: {} },
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
      name: `dense_${i + 1}`,
      trainable: true,
      ...(i === 0 ? { batch_input_shape: [null, spec.observationSize], dtype: 'float32' } : {}),
    },
  }));
  return { class_name: 'Sequential', config: { name: 'sequential', layers }, keras_version: `tfjs-layers ${TFJS_LAYERS_VERSION}`, backend: 'tensor_flow.js' };
}

const requireFromHere = createRequire(import.meta.url);
const TFJS_LAYERS_VERSION = (requireFromHere('@tensorflow/tfjs-layers/package.json') as { version: string }).version;
const RLSWEEP_VERSION = (requireFromHere('../../package.json') as { version: string }).version;

/** The model.json and weights.bin bytes for a network (float32, little-endian, in Keras weight order). */
export function encodeSnapshot(spec: NetworkSpec, weights: Weights, metadata: SnapshotMetadata): { modelJson: string; weightData: Uint8Array } {
  const shapes = weightShapes(spec);
  if (weights.length !== shapes.length) throw new SnapshotError(`a ${listText(spec.hiddenLayers)} network has ${shapes.length} weight tensors, got ${weights.length}`);
  const weightSpecs = shapes.map((shape, i) => ({ name: `dense_${Math.floor(i / 2) + 1}/${i % 2 === 0 ? 'kernel' : 'bias'}`, shape, dtype: 'float32' }));
  const weightData = new Uint8Array(Buffer.concat(weights.map((w) => Buffer.from(w.buffer, w.byteOffset, w.byteLength))));
  const modelJson = JSON.stringify({
    format: 'layers-model',
    generatedBy: `rlsweep ${RLSWEEP_VERSION}`,
    convertedBy: null,
    modelTopology: modelTopology(spec),
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: weightSpecs }],
    userDefinedMetadata: { rlsweep: metadata },
  });
  return { modelJson, weightData };
}

/** Write `dir` (e.g. runs/x/snapshots/step-50000) atomically; an existing one is replaced. */
export async function saveSnapshot(dir: string, spec: NetworkSpec, weights: Weights, metadata: SnapshotMetadata): Promise<string> {
  const { modelJson, weightData } = encodeSnapshot(spec, weights, metadata);
  try {
    await writeFolderAtomic(dir, [
      [WEIGHTS_FILE, weightData],
      [MODEL_FILE, modelJson],
    ]);
  } catch (error) {
    throw new SnapshotError(`cannot write the snapshot ${dir}: ${(error as Error).message}`);
  }
  return dir;
}

/** Accepts a snapshot folder or its model.json. */
export function modelJsonPathOf(snapshotPath: string): string {
  return snapshotPath.endsWith('.json') ? snapshotPath : path.join(snapshotPath, MODEL_FILE);
}

interface ModelJson {
  modelTopology?: unknown;
  weightsManifest?: Array<{ paths: string[]; weights: import('@tensorflow/tfjs').io.WeightsManifestEntry[] }>;
  userDefinedMetadata?: { rlsweep?: Partial<SnapshotMetadata> };
}

async function readModelJson(modelJsonPath: string): Promise<ModelJson> {
  const parsed = await readJson<unknown>(modelJsonPath, (problem) => {
    throw new SnapshotError(`${problem}; the snapshot is corrupt, use another one`);
  }).catch((error: unknown) => {
    throw error instanceof SnapshotError ? error : new SnapshotError(`cannot read ${modelJsonPath}: ${(error as Error).message}`);
  });
  if (parsed === undefined) {
    throw new SnapshotError(`no snapshot at ${modelJsonPath}: a snapshot is a folder with ${MODEL_FILE} and ${WEIGHTS_FILE} (e.g. runs/<name>/snapshots/step-200000)`);
  }
  const json = parsed as ModelJson;
  if (typeof parsed !== 'object' || parsed === null || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new SnapshotError(`${modelJsonPath} is not a TensorFlow.js layers model (missing modelTopology or weightsManifest)`);
  }
  return json;
}

async function readWeightData(modelJsonPath: string, json: ModelJson): Promise<{ weightSpecs: import('@tensorflow/tfjs').io.WeightsManifestEntry[]; weightData: ArrayBuffer }> {
  const folder = path.dirname(modelJsonPath);
  const weightSpecs = json.weightsManifest!.flatMap((group) => group.weights);
  const chunks: Buffer[] = [];
  for (const group of json.weightsManifest!) {
    for (const file of group.paths) {
      const weightsPath = path.join(folder, file);
      try {
        chunks.push(await fs.readFile(weightsPath));
      } catch (error) {
        throw new SnapshotError(`cannot read ${weightsPath}, named in ${modelJsonPath}: ${(error as Error).message}`);
      }
    }
  }
  const bytes = Buffer.concat(chunks);
  const expectedBytes = weightSpecs.reduce((sum, spec) => sum + 4 * spec.shape.reduce((a, b) => a * b, 1), 0);
  if (bytes.length !== expectedBytes) {
    throw new SnapshotError(
      `${path.join(folder, json.weightsManifest![0]?.paths[0] ?? WEIGHTS_FILE)} holds ${bytes.length} bytes but ${modelJsonPath} describes ${expectedBytes}; the snapshot is truncated or corrupt`,
    );
  }
  return { weightSpecs, weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) };
}

/** The MLP a loaded model describes, or an error if it is not one we can run. */
function specOf(model: import('@tensorflow/tfjs').LayersModel, modelJsonPath: string): NetworkSpec {
  const dense = model.layers.map((layer) => {
    const config = layer.getConfig() as { units?: number; activation?: string };
    if (layer.getClassName() !== 'Dense' || typeof config.units !== 'number') {
      throw new SnapshotError(`${modelJsonPath}: layer ${layer.name} is ${layer.getClassName()}; only dense (MLP) Q-networks are supported`);
    }
    return { units: config.units, activation: config.activation ?? 'linear' };
  });
  const hidden = dense.slice(0, -1);
  const activation = hidden[0]?.activation ?? 'relu';
  if (hidden.some((layer) => layer.activation !== activation) || !['relu', 'tanh'].includes(activation) || dense.at(-1)!.activation !== 'linear') {
    throw new SnapshotError(`${modelJsonPath}: expected hidden layers with one activation (relu or tanh) and a linear head, got ${dense.map((l) => l.activation).join(', ')}`);
  }
  const inputShape = model.inputs[0]!.shape;
  return {
    observationSize: inputShape[inputShape.length - 1] as number,
    actionCount: dense.at(-1)!.units,
    hiddenLayers: hidden.map((layer) => layer.units),
    activation: activation as Activation,
  };
}

/** Load a snapshot folder (or model.json) through tf.loadLayersModel, checking it as it goes. */
export async function loadSnapshot(snapshotPath: string): Promise<LoadedSnapshot> {
  // TensorFlow.js checks the file as a LayersModel; loaded here only, not when saving.
  const { tf, initTf } = await import('../tf.js');
  await initTf();
  const isFile = await fs.stat(snapshotPath).then(
    (stat) => stat.isFile(),
    () => false,
  );
  if (isFile && !snapshotPath.endsWith('.json')) {
    throw new SnapshotError(`${snapshotPath} is a file but not a model.json; give the snapshot folder (with ${MODEL_FILE} and ${WEIGHTS_FILE}) or its ${MODEL_FILE}`);
  }
  const modelJsonPath = modelJsonPathOf(snapshotPath);
  const json = await readModelJson(modelJsonPath);
  const { weightSpecs, weightData } = await readWeightData(modelJsonPath, json);
  let model: import('@tensorflow/tfjs').LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology as object, weightSpecs, weightData }));
  } catch (error) {
    throw new SnapshotError(`${modelJsonPath}: TensorFlow.js cannot load this model: ${(error as Error).message}`);
  }
  try {
    const spec = specOf(model, modelJsonPath);
    const weights = model
      .getWeights()
      .map((tensor) => tensor.dataSync() as Float32Array)
      .map((values) => Float32Array.from(values));
    return { spec, weights, metadata: json.userDefinedMetadata?.rlsweep ?? {}, modelJsonPath };
  } finally {
    model.dispose();
  }
}

/** Check a loaded snapshot fits an environment, naming the file when it does not. */
export function checkSnapshotFitsEnv(snapshot: LoadedSnapshot, env: { id: string; observationSize: number; actionCount: number }): void {
  const { spec, modelJsonPath } = snapshot;
  if (spec.observationSize !== env.observationSize || spec.actionCount !== env.actionCount) {
    throw new SnapshotError(
      `${modelJsonPath} takes ${spec.observationSize} observations and gives ${spec.actionCount} actions, but ${env.id} has ${env.observationSize} and ${env.actionCount}; pass the env it was trained on with --env`,
    );
  }
}
