/**
 * Dependencies point one way (DEVELOPERS.md): util and the environments at the bottom, then
 * the agent and the TensorBoard writer, training above them, sweeps above training, the
 * command lines on top. A file may import its own folder and the layers below, never above.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const SRC = path.resolve('src');

/** Each folder's (or top-level file's) layer; equal layers must not import each other either. */
const LAYERS: Record<string, number> = {
  types: 0,
  util: 0,
  'tf.ts': 0,
  envs: 1,
  agent: 2,
  tensorboard: 2,
  train: 3,
  sweep: 4,
  cli: 5,
  'run.ts': 6,
  // The library entry point: what `import ... from 'rlsweep'` gives.
  'index.ts': 6,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The first path segment under src/: the unit a layer is given to. */
const unitOf = (file: string): string => path.relative(SRC, file).split(path.sep)[0]!;

describe('source layers', () => {
  it('every file under src/ belongs to a known layer', () => {
    const unknown = sourceFiles(SRC)
      .map(unitOf)
      .filter((unit) => LAYERS[unit] === undefined);
    expect([...new Set(unknown)]).to.deep.equal([]);
  });

  it('no import points to a layer above, or sideways to another unit of the same layer', () => {
    const wrong: string[] = [];
    for (const file of sourceFiles(SRC)) {
      const from = unitOf(file);
      for (const match of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = path.resolve(path.dirname(file), match[1]!).replace(/\.js$/, '.ts');
        const to = unitOf(target);
        if (to === from) continue;
        if (LAYERS[to]! >= LAYERS[from]!) wrong.push(`${path.relative(SRC, file)} imports ${match[1]} (${to} is not below ${from})`);
      }
    }
    expect(wrong).to.deep.equal([]);
  });
});
