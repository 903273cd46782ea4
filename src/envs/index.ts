import { closest, distance } from 'fastest-levenshtein';
import { ACROBOT_V1, AcrobotEnv } from './acrobot.js';
import { CARTPOLE_V0, CARTPOLE_V1, CartPoleEnv } from './cartpole.js';
import { MOUNTAIN_CAR_V0, MountainCarEnv } from './mountain-car.js';
import type { Env, EnvSpec } from './types.js';

export type { Env, EnvSnapshot, EnvSpec, ResetOptions, StepResult, StepStatus } from './types.js';
export { AcrobotEnv } from './acrobot.js';
export { CartPoleEnv } from './cartpole.js';
export { MountainCarEnv } from './mountain-car.js';

interface RegistryEntry {
  spec: EnvSpec;
  create: () => Env;
}

const REGISTRY: ReadonlyMap<string, RegistryEntry> = new Map(
  [
    { spec: MOUNTAIN_CAR_V0, create: () => new MountainCarEnv() },
    { spec: CARTPOLE_V0, create: () => new CartPoleEnv(CARTPOLE_V0) },
    { spec: CARTPOLE_V1, create: () => new CartPoleEnv(CARTPOLE_V1) },
    { spec: ACROBOT_V1, create: () => new AcrobotEnv() },
  ].map((entry) => [entry.spec.id, entry]),
);

/** The ids `makeEnv` accepts, as registered in Gymnasium. */
export const envIds: readonly string[] = Object.freeze([...REGISTRY.keys()]);

/** A new env, to be `reset()` before its first step. */
export function makeEnv(id: string): Env {
  return lookup(id).create();
}

/** The static limits and sizes of an env, without building one. */
export function envSpec(id: string): EnvSpec {
  return { ...lookup(id).spec };
}

function lookup(id: string): RegistryEntry {
  const entry = REGISTRY.get(id);
  if (entry === undefined) throw new Error(unknownIdMessage(id));
  return entry;
}

function unknownIdMessage(id: string): string {
  const known = `Known ids: ${envIds.join(', ')}.`;
  // Compare case-insensitively so 'cartpole-v1' still finds 'CartPole-v1'.
  const lowered = envIds.map((envId) => envId.toLowerCase());
  const nearestLowered = closest(String(id).toLowerCase(), lowered);
  const nearest = envIds[lowered.indexOf(nearestLowered)]!;
  // Only suggest a name that is plausibly a typo, not an unrelated one.
  const plausible = distance(String(id).toLowerCase(), nearestLowered) <= Math.max(3, nearest.length / 3);
  const hint = plausible ? ` Did you mean "${nearest}"?` : '';
  return `Unknown env id "${id}".${hint} ${known}`;
}
