import { closest, distance } from 'fastest-levenshtein';
import { ACROBOT_V1, AcrobotEnv } from './acrobot.js';
import { CARTPOLE_V0, CARTPOLE_V1, CartPoleEnv } from './cartpole.js';
import { EnvError } from './errors.js';
import { MOUNTAIN_CAR_V0, MountainCarEnv } from './mountain-car.js';
import { ModuleEnv, contractSpec, supportsExactState } from './module-env.js';
import type { Env, EnvContract, EnvSpec } from './types.js';

export type { Env, EnvContract, EnvSnapshot, EnvSpec, EnvStepOutput, ResetOptions, StepResult, StepStatus } from './types.js';
export { AcrobotEnv } from './acrobot.js';
export { BaseEnv } from './base-env.js';
export { CartPoleEnv } from './cartpole.js';
export { EnvError } from './errors.js';
export { MountainCarEnv } from './mountain-car.js';

interface RegistryEntry {
  spec: EnvSpec;
  create: () => Env;
  /** Whether the env's state can be saved and restored, so a run on it resumes exactly. */
  exactState: boolean;
}

const BUILT_IN: readonly RegistryEntry[] = [
  { spec: MOUNTAIN_CAR_V0, create: () => new MountainCarEnv(), exactState: true },
  { spec: CARTPOLE_V0, create: () => new CartPoleEnv(CARTPOLE_V0), exactState: true },
  { spec: CARTPOLE_V1, create: () => new CartPoleEnv(CARTPOLE_V1), exactState: true },
  { spec: ACROBOT_V1, create: () => new AcrobotEnv(), exactState: true },
];

/** The built-in envs, then those registered in this process (registerEnv, or loaded by prepareEnv). */
const REGISTRY = new Map<string, RegistryEntry>(BUILT_IN.map((entry) => [entry.spec.id, entry]));

/** The ids of the built-in envs, as registered in Gymnasium. */
export const envIds: readonly string[] = Object.freeze(BUILT_IN.map((entry) => entry.spec.id));

/** A new env, to be `reset()` before its first step. A module env must have been loaded (prepareEnv) first. */
export function makeEnv(id: string): Env {
  return lookup(id).create();
}

/** The static limits and sizes of an env, without building one. */
export function envSpec(id: string): EnvSpec {
  return { ...lookup(id).spec };
}

/** Whether `id` names an env this process can make now (built in, registered or already loaded). */
export function isRegisteredEnv(id: string): boolean {
  return REGISTRY.has(id);
}

/** Whether a run on this env can resume exactly from a checkpoint (the env saves and restores its state). */
export function supportsExactResume(id: string): boolean {
  return lookup(id).exactState;
}

/**
 * Makes an env available under `id` in this process, as Gymnasium's `register`: `create`
 * returns a new env of the EnvContract each time (a BaseEnv subclass, or any object that fits).
 * Its values are checked on every call. Returns the env's spec. Child processes (a sweep's
 * trials) do not see it: there, name the env by its module (`./path/to/env.ts:ExportName`).
 */
export function registerEnv(id: string, create: () => EnvContract): EnvSpec {
  if (typeof id !== 'string' || id.trim() === '') throw new EnvError(`registerEnv: the id must be a non-empty string, got ${JSON.stringify(id)}`, true);
  if (BUILT_IN.some((entry) => entry.spec.id === id)) throw new EnvError(`registerEnv: "${id}" is a built-in env; choose another id`, true);
  if (typeof create !== 'function') throw new EnvError(`registerEnv("${id}"): the second argument must be a function that returns a new env, got ${typeof create}`, true);
  const first = createContract(create, id);
  const spec = contractSpec(first, id);
  let unused: EnvContract | undefined = first;
  const entry: RegistryEntry = {
    spec,
    exactState: supportsExactState(first),
    create: () => {
      // The env made to check the contract is the first one handed out, so a module's constructor runs once less.
      const inner = unused ?? createContract(create, id);
      unused = undefined;
      return new ModuleEnv(inner, id);
    },
  };
  REGISTRY.set(id, entry);
  return { ...spec };
}

/** Registers an env whose entry is already built (the Python bridge's). */
export function registerEnvEntry(id: string, spec: EnvSpec, create: () => Env, exactState: boolean): void {
  REGISTRY.set(id, { spec, create, exactState });
}

function createContract(create: () => EnvContract, id: string): EnvContract {
  try {
    return create();
  } catch (error) {
    if (error instanceof EnvError) throw error;
    throw new EnvError(`env ${id}: creating it threw: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function lookup(id: string): RegistryEntry {
  const entry = REGISTRY.get(id);
  if (entry === undefined) throw new EnvError(unknownIdMessage(id), true);
  return entry;
}

/** "Unknown env id", with the nearest built-in id when it is plausibly a typo. */
export function unknownIdMessage(id: string): string {
  const known = `Known ids: ${[...REGISTRY.keys()].join(', ')}; or a module, e.g. ./envs/grid-world.ts:GridWorld, or a Python env, e.g. gym:CartPole-v1.`;
  return `Unknown env id "${id}".${didYouMean(id)} ${known}`;
}

function didYouMean(id: string): string {
  // Compare case-insensitively so 'cartpole-v1' still finds 'CartPole-v1'.
  const ids = [...REGISTRY.keys()];
  const lowered = ids.map((envId) => envId.toLowerCase());
  const nearestLowered = closest(String(id).toLowerCase(), lowered);
  const nearest = ids[lowered.indexOf(nearestLowered)]!;
  // Only suggest a name that is plausibly a typo, not an unrelated one.
  const plausible = distance(String(id).toLowerCase(), nearestLowered) <= Math.max(3, nearest.length / 3);
  return plausible ? ` Did you mean "${nearest}"?` : '';
}
