/**
 * Assembles the hand-written WebAssembly SIMD kernels of the fused engine
 * (src/agent/dense-simd.wat) into the committed binary src/agent/dense-simd.wasm, with
 * wabt's wat2wasm (a devDependency). The binary is committed so that a run needs no
 * toolchain; test/wasm-kernels.test.ts checks that it is exactly what this script makes
 * of the committed source.
 *
 *   npm run wasm:build            write src/agent/dense-simd.wasm
 *   npm run wasm:build -- --check exit 1 if the committed binary differs from the source
 */
import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import wabt from 'wabt';

export const WAT_FILE = fileURLToPath(new URL('../src/agent/dense-simd.wat', import.meta.url));
export const WASM_FILE = fileURLToPath(new URL('../src/agent/dense-simd.wasm', import.meta.url));

/** The binary of the kernels' source: no debug names, so it depends on the code alone. */
export async function assembleKernels(watFile = WAT_FILE): Promise<Uint8Array> {
  const source = await fs.readFile(watFile, 'utf8');
  const toolkit = await wabt();
  const module = toolkit.parseWat(watFile, source, { simd: true });
  try {
    module.validate();
    return module.toBinary({ log: false, write_debug_names: false, canonicalize_lebs: true }).buffer;
  } finally {
    module.destroy();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
  const binary = await assembleKernels();
  if (values.check) {
    const committed = new Uint8Array(await fs.readFile(WASM_FILE));
    const same = committed.length === binary.length && committed.every((byte, i) => byte === binary[i]);
    if (!same) {
      console.error(`error: ${WASM_FILE} is not what ${WAT_FILE} assembles to; run \`npm run wasm:build\` and commit the result`);
      process.exit(1);
    }
    console.log(`${WASM_FILE} matches its source (${binary.length} bytes)`);
    return;
  }
  await fs.writeFile(WASM_FILE, binary);
  console.log(`wrote ${WASM_FILE} (${binary.length} bytes)`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
