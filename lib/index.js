// The package's entry point (`import { train, BaseEnv } from 'rlsweep'`). The package ships its
// TypeScript sources and runs them through tsx, as bin/ does; a process that already runs under
// tsx (a run loading a user's env module that imports rlsweep) is not hooked twice.
import { register } from 'tsx/esm/api';

const REGISTERED = Symbol.for('rlsweep.tsx-registered');
const underTsx = process.execArgv.some((arg) => /(^|[/\\])tsx([/\\]|$)/.test(arg)) || globalThis[REGISTERED] === true;
if (!underTsx) {
  register();
  globalThis[REGISTERED] = true;
}

const api = await import('../src/index.ts');

export const { BaseEnv, ConfigError, EnvError, Rng, checkEnv, defaultRunConfig, envIds, envSpec, formatCheckEnvReport, loadPolicy, makeEnv, prepareEnv, registerEnv, train } = api;
