/**
 * Python Gymnasium envs (`gym:<id>`, `gym:<file.py>:<Class>`) served by one Python process per
 * env per run process (gym_bridge.py), which makes each env instance the run asks for.
 *
 * Env.step is synchronous, but Node cannot read a child's stdio pipes synchronously (libuv
 * makes them non-blocking). So the child's stdin and stdout are named pipes (FIFOs) that this
 * side opens as ordinary blocking files: each step is one writeSync and one readSync, with a
 * compact binary framing (gym_bridge.py documents it). Only the start is asynchronous, so that
 * a missing python3 or gymnasium is reported with the child's own message.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants as fsConstants, mkdtempSync, openSync, read, readSync, rmSync, writeSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EnvRef } from './env-ref.js';
import { EnvError } from './errors.js';
import { registerEnvEntry } from './index.js';
import { ModuleEnv } from './module-env.js';
import type { EnvContract, EnvSpec, EnvStepOutput } from './types.js';

const BRIDGE_SCRIPT = fileURLToPath(new URL('./gym_bridge.py', import.meta.url));

/** The Python interpreter: $RLSWEEP_PYTHON, else python3 on the PATH. */
export function pythonExecutable(): string {
  return process.env.RLSWEEP_PYTHON || 'python3';
}

const Op = { create: 1, reset: 2, step: 3, getState: 4, setState: 5 } as const;
const STATUS_OK = 0;
const HEADER_BYTES = 4;
/** u8 op + u16 instance. */
const REQUEST_PREFIX_BYTES = 3;

interface BridgeSpec {
  observationSize: number;
  actionCount: number;
  observationLow: Array<number | null>;
  observationHigh: Array<number | null>;
  maxEpisodeSteps: number | null;
  rewardThreshold: number | null;
  exactState: boolean;
}

/** One Python process and the blocking pipe ends that talk to it. */
class BridgeProcess {
  private readonly request = Buffer.alloc(64);
  private response = Buffer.alloc(1024);
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private closed = false;

  constructor(
    readonly label: string,
    private readonly child: ChildProcess,
    private readonly writeFd: number,
    readonly readFd: number,
    private readonly stderrTail: () => string,
  ) {}

  /** Sends one request and returns the body of its answer (a view valid until the next call). */
  call(op: number, instance: number, body: Uint8Array | undefined, what: string): Buffer {
    if (this.closed) throw new EnvError(`env ${this.label}: the Python process has already stopped`);
    const bodyLength = body?.length ?? 0;
    const frame = bodyLength + REQUEST_PREFIX_BYTES <= this.request.length - HEADER_BYTES ? this.request : Buffer.alloc(HEADER_BYTES + REQUEST_PREFIX_BYTES + bodyLength);
    frame.writeUInt32LE(REQUEST_PREFIX_BYTES + bodyLength, 0);
    frame.writeUInt8(op, 4);
    frame.writeUInt16LE(instance, 5);
    if (body) frame.set(body, HEADER_BYTES + REQUEST_PREFIX_BYTES);
    try {
      writeAll(this.writeFd, frame.subarray(0, HEADER_BYTES + REQUEST_PREFIX_BYTES + bodyLength));
    } catch (error) {
      throw this.gone(what, (error as NodeJS.ErrnoException).code ?? String(error));
    }
    if (!readAll(this.readFd, this.header)) throw this.gone(what, 'no answer');
    const length = this.header.readUInt32LE(0);
    if (this.response.length < length) this.response = Buffer.alloc(Math.max(length, this.response.length * 2));
    const answer = this.response.subarray(0, length);
    if (!readAll(this.readFd, answer)) throw this.gone(what, 'a cut-off answer');
    if (answer[0] !== STATUS_OK) throw new EnvError(`env ${this.label}: ${what} raised in Python: ${answer.subarray(1).toString('utf8')}`);
    return answer.subarray(1);
  }

  private gone(what: string, why: string): EnvError {
    this.close();
    const tail = this.stderrTail();
    return new EnvError(`env ${this.label}: the Python process stopped during ${what} (${why})${tail ? `; its last output:\n${tail}` : ''}`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.writeFd);
    closeSync(this.readFd);
    this.child.kill();
  }
}

function writeAll(fd: number, data: Uint8Array): void {
  let offset = 0;
  while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
}

/** Fills `into` from a blocking fd; false at end of file. */
function readAll(fd: number, into: Uint8Array): boolean {
  let offset = 0;
  while (offset < into.length) {
    const count = readSync(fd, into, offset, into.length - offset, null);
    if (count === 0) return false;
    offset += count;
  }
  return true;
}

/** The first answer, read off the event loop's thread so that a child that never answers cannot block it. */
function readFrameAsync(fd: number): Promise<Buffer | undefined> {
  const readExactly = (size: number): Promise<Buffer | undefined> =>
    new Promise((resolve, reject) => {
      const buffer = Buffer.alloc(size);
      const next = (offset: number): void => {
        if (offset === size) {
          resolve(buffer);
          return;
        }
        read(fd, buffer, offset, size - offset, null, (error, count) => {
          if (error) reject(error);
          else if (count === 0) resolve(undefined);
          else next(offset + count);
        });
      };
      next(0);
    });
  return readExactly(HEADER_BYTES).then((header) => (header ? readExactly(header.readUInt32LE(0)) : undefined));
}

/**
 * FIFOs for the child's stdin and stdout, opened so that nothing blocks: a FIFO opened
 * read-write (Linux) stands in for the other end until the real one is open, then closes,
 * so the child's exit shows here as end of file.
 */
function openPipes(): { childIn: number; childOut: number; writeFd: number; readFd: number } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rlsweep-gym-'));
  const requestPath = path.join(dir, 'request');
  const responsePath = path.join(dir, 'response');
  try {
    execFileSync('mkfifo', ['-m', '600', requestPath, responsePath]);
    const requestHold = openSync(requestPath, fsConstants.O_RDWR);
    const childIn = openSync(requestPath, fsConstants.O_RDONLY);
    const writeFd = openSync(requestPath, fsConstants.O_WRONLY);
    closeSync(requestHold);
    const responseHold = openSync(responsePath, fsConstants.O_RDWR);
    const childOut = openSync(responsePath, fsConstants.O_WRONLY);
    const readFd = openSync(responsePath, fsConstants.O_RDONLY);
    closeSync(responseHold);
    return { childIn, childOut, writeFd, readFd };
  } finally {
    // The open descriptors keep the pipes; their names are no longer needed.
    rmSync(dir, { recursive: true, force: true });
  }
}

async function startBridge(label: string, target: string): Promise<{ bridge: BridgeProcess; spec: BridgeSpec }> {
  const python = pythonExecutable();
  const pipes = openPipes();
  const child = spawn(python, [BRIDGE_SCRIPT, target], { stdio: [pipes.childIn, pipes.childOut, 'pipe'] });
  closeSync(pipes.childIn);
  closeSync(pipes.childOut);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const spawnFailure = new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const tail = (): string => stderr.trim().split('\n').slice(-8).join('\n');
  const fail = (message: string): never => {
    closeSync(pipes.writeFd);
    closeSync(pipes.readFd);
    child.kill();
    throw new EnvError(`env ${label}: ${message}`, true);
  };
  const hello = await readFrameAsync(pipes.readFd);
  if (hello === undefined) {
    const failure = await Promise.race([spawnFailure, exited.then(() => undefined)]);
    if (failure?.code === 'ENOENT') fail(`${python} was not found; gym: envs need python3 (and gymnasium for gym:<id>). Install it, or set RLSWEEP_PYTHON to its path`);
    fail(`the Python process (${python} ${path.basename(BRIDGE_SCRIPT)}) stopped before it answered${tail() ? `:\n${tail()}` : ''}`);
  }
  if (hello![0] !== STATUS_OK) fail(`cannot create it in Python: ${hello!.subarray(1).toString('utf8')}`);
  const bridge = new BridgeProcess(label, child, pipes.writeFd, pipes.readFd, tail);
  // The bridge must not keep a finished run's process alive, and goes with it.
  child.unref();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  process.once('exit', () => bridge.close());
  return { bridge, spec: JSON.parse(hello!.subarray(1).toString('utf8')) as BridgeSpec };
}

/** One env instance in the Python process, as an EnvContract (ModuleEnv checks its values). */
class PythonEnv implements EnvContract {
  readonly observationSize: number;
  readonly actionCount: number;
  readonly observationLow: readonly number[];
  readonly observationHigh: readonly number[];
  readonly maxEpisodeSteps?: number;
  readonly rewardThreshold?: number;
  readonly getState?: () => unknown;
  readonly setState?: (saved: unknown) => void;
  private readonly resetBody = Buffer.alloc(9);
  private readonly stepBody = Buffer.alloc(4);

  constructor(
    private readonly bridge: BridgeProcess,
    private readonly instance: number,
    spec: BridgeSpec,
  ) {
    this.observationSize = spec.observationSize;
    this.actionCount = spec.actionCount;
    this.observationLow = spec.observationLow.map((value) => value ?? -Infinity);
    this.observationHigh = spec.observationHigh.map((value) => value ?? Infinity);
    if (spec.maxEpisodeSteps !== null) this.maxEpisodeSteps = spec.maxEpisodeSteps;
    if (spec.rewardThreshold !== null) this.rewardThreshold = spec.rewardThreshold;
    if (spec.exactState) {
      this.getState = () => JSON.parse(this.bridge.call(Op.getState, this.instance, undefined, 'get_state()').toString('utf8')) as unknown;
      this.setState = (saved) => void this.bridge.call(Op.setState, this.instance, Buffer.from(JSON.stringify(saved), 'utf8'), 'set_state()');
    }
  }

  reset(options?: { seed?: number }): Float32Array {
    const seeded = options?.seed !== undefined;
    this.resetBody.writeUInt8(seeded ? 1 : 0, 0);
    this.resetBody.writeDoubleLE(seeded ? options.seed! : 0, 1);
    return this.observation(this.bridge.call(Op.reset, this.instance, this.resetBody, seeded ? `reset(seed=${options.seed})` : 'reset()'), 0);
  }

  step(action: number): EnvStepOutput {
    // The frame carries an int32; anything else would arrive as another action.
    if (!Number.isInteger(action) || action < -(2 ** 31) || action >= 2 ** 31) throw new RangeError(`invalid action ${String(action)}; actions are integers`);
    this.stepBody.writeInt32LE(action, 0);
    const answer = this.bridge.call(Op.step, this.instance, this.stepBody, `step(${action})`);
    const flags = answer.readUInt8(8);
    return { reward: answer.readDoubleLE(0), terminated: (flags & 1) !== 0, truncated: (flags & 2) !== 0, observation: this.observation(answer, 9) };
  }

  private observation(answer: Buffer, offset: number): Float32Array {
    const count = (answer.length - offset) / 4;
    const observation = new Float32Array(count);
    for (let i = 0; i < count; i++) observation[i] = answer.readFloatLE(offset + 4 * i);
    return observation;
  }
}

/** Starts the Python process for `text` (a `gym:` reference), registers the env under `text` and returns its spec. */
export async function startPythonEnv(text: string, ref: Extract<EnvRef, { kind: 'python' }>): Promise<EnvSpec> {
  const { bridge, spec } = await startBridge(text, ref.target);
  // Instance 0 was made for the spec; it is the first env handed out.
  let nextFresh: number | undefined = 0;
  const create = (): ModuleEnv => {
    const instance = nextFresh ?? bridge.call(Op.create, 0, undefined, 'creating an env').readUInt16LE(0);
    nextFresh = undefined;
    return new ModuleEnv(new PythonEnv(bridge, instance, spec), text);
  };
  const first = create();
  nextFresh = 0;
  const envSpecOf: EnvSpec = {
    id: text,
    observationSize: first.observationSize,
    actionCount: first.actionCount,
    maxEpisodeSteps: first.maxEpisodeSteps,
    rewardThreshold: first.rewardThreshold,
    observationLow: first.observationLow,
    observationHigh: first.observationHigh,
  };
  registerEnvEntry(text, envSpecOf, create, spec.exactState);
  return { ...envSpecOf };
}
