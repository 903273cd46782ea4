import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { tf, initTf } from '../src/tf.js';
import { initialWeights } from '../src/agent/init.js';
import type { NetworkSpec, Weights } from '../src/agent/learner.js';
import { SnapshotError, checkSnapshotFitsEnv, loadSnapshot, saveSnapshot } from '../src/train/snapshot.js';

const spec: NetworkSpec = { observationSize: 4, actionCount: 2, hiddenLayers: [16, 8], activation: 'tanh' };

/** A plain float64 forward pass, to check what TensorFlow.js computes from the files. */
function forward(weights: Weights, state: number[]): number[] {
  let activations = state;
  const layers = weights.length / 2;
  for (let l = 0; l < layers; l++) {
    const kernel = weights[2 * l]!;
    const bias = weights[2 * l + 1]!;
    const units = bias.length;
    const next = new Array<number>(units).fill(0);
    for (let j = 0; j < units; j++) {
      let sum = bias[j]!;
      for (let i = 0; i < activations.length; i++) sum += activations[i]! * kernel[i * units + j]!;
      next[j] = l === layers - 1 ? sum : Math.tanh(sum);
    }
    activations = next;
  }
  return activations;
}

describe('snapshots (TensorFlow.js LayersModel format)', () => {
  let dir: string;
  before(async () => {
    await initTf();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rlsweep-snapshot-'));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('round-trips weights, spec and metadata exactly', async () => {
    const weights = initialWeights(spec, 5);
    const snapshotDir = path.join(dir, 'a', 'step-100');
    await saveSnapshot(snapshotDir, spec, weights, { env: 'CartPole-v1', step: 100, engine: 'fused' });
    expect((await fs.readdir(snapshotDir)).sort()).to.deep.equal(['model.json', 'weights.bin']);
    expect(await fs.readdir(path.dirname(snapshotDir))).to.deep.equal(['step-100']); // no temporary left
    for (const target of [snapshotDir, path.join(snapshotDir, 'model.json')]) {
      const loaded = await loadSnapshot(target);
      expect(loaded.spec).to.deep.equal(spec);
      expect(loaded.metadata).to.deep.equal({ env: 'CartPole-v1', step: 100, engine: 'fused' });
      loaded.weights.forEach((w, i) => expect(Array.from(w)).to.deep.equal(Array.from(weights[i]!)));
    }
  });

  it('loads with tf.loadLayersModel over HTTP and predicts what the weights say', async () => {
    const weights = initialWeights(spec, 9);
    const snapshotDir = path.join(dir, 'http', 'step-1');
    await saveSnapshot(snapshotDir, spec, weights, { env: 'CartPole-v1', step: 1, engine: 'tfjs' });
    const server = http.createServer((request, response) => {
      fs.readFile(path.join(snapshotDir, path.basename(request.url ?? ''))).then(
        (body) => response.end(body),
        () => {
          response.statusCode = 404;
          response.end();
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const model = await tf.loadLayersModel(`http://127.0.0.1:${port}/model.json`);
      const state = [0.01, -0.2, 0.03, 0.4];
      const predicted = Array.from((model.predict(tf.tensor2d([state])) as import('@tensorflow/tfjs').Tensor).dataSync());
      const expected = forward(weights, state);
      predicted.forEach((q, i) => expect(q).to.be.closeTo(expected[i]!, 1e-5));
      model.dispose();
    } finally {
      server.close();
    }
  });

  it('replaces an existing snapshot of the same step atomically', async () => {
    const snapshotDir = path.join(dir, 'replace', 'step-7');
    await saveSnapshot(snapshotDir, spec, initialWeights(spec, 1), { env: 'CartPole-v1', step: 7, engine: 'fused' });
    const second = initialWeights(spec, 2);
    await saveSnapshot(snapshotDir, spec, second, { env: 'CartPole-v1', step: 7, engine: 'fused' });
    const loaded = await loadSnapshot(snapshotDir);
    expect(Array.from(loaded.weights[0]!)).to.deep.equal(Array.from(second[0]!));
    expect(await fs.readdir(path.dirname(snapshotDir))).to.deep.equal(['step-7']);
  });

  describe('bad snapshots are clear errors naming the file', () => {
    let good: string;
    before(async () => {
      good = path.join(dir, 'bad', 'step-1');
      await saveSnapshot(good, spec, initialWeights(spec, 1), { env: 'CartPole-v1', step: 1, engine: 'fused' });
    });
    async function corruptCopy(name: string, change: (folder: string) => Promise<void>): Promise<string> {
      const folder = path.join(dir, 'bad', name);
      await fs.cp(good, folder, { recursive: true });
      await change(folder);
      return folder;
    }

    it('missing', async () => {
      const missing = path.join(dir, 'nope');
      await expectRejection(loadSnapshot(missing), new RegExp(`no snapshot at ${escapeRegex(path.join(missing, 'model.json'))}`));
    });
    it('model.json not JSON', async () => {
      const folder = await corruptCopy('badjson', (f) => fs.writeFile(path.join(f, 'model.json'), '{"format": "layers-mo'));
      await expectRejection(loadSnapshot(folder), /model\.json is not valid JSON/);
    });
    it('model.json not a model', async () => {
      const folder = await corruptCopy('notmodel', (f) => fs.writeFile(path.join(f, 'model.json'), '{"hello": 1}'));
      await expectRejection(loadSnapshot(folder), /is not a TensorFlow\.js layers model/);
    });
    it('truncated weights.bin', async () => {
      const folder = await corruptCopy('truncated', async (f) => {
        const bytes = await fs.readFile(path.join(f, 'weights.bin'));
        await fs.writeFile(path.join(f, 'weights.bin'), bytes.subarray(0, bytes.length - 10));
      });
      await expectRejection(loadSnapshot(folder), /weights\.bin holds \d+ bytes but .*model\.json describes \d+; the snapshot is truncated or corrupt/);
    });
    it('missing weights.bin', async () => {
      const folder = await corruptCopy('noweights', (f) => fs.rm(path.join(f, 'weights.bin')));
      await expectRejection(loadSnapshot(folder), /cannot read .*weights\.bin, named in .*model\.json/);
    });
    it('a network that does not fit the env', async () => {
      const loaded = await loadSnapshot(good);
      expect(() => checkSnapshotFitsEnv(loaded, { id: 'MountainCar-v0', observationSize: 2, actionCount: 3 })).to.throw(
        SnapshotError,
        /takes 4 observations and gives 2 actions, but MountainCar-v0 has 2 and 3/,
      );
    });
  });
});

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function expectRejection(promise: Promise<unknown>, message: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(SnapshotError);
    expect((error as Error).message).to.match(message);
    return;
  }
  expect.fail('expected an error');
}
