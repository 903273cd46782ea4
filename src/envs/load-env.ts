/**
 * Loading the env an `env` option names (env-ref.ts) into this process's registry, so that
 * `makeEnv(config.env)` works from then on: a run, a sweep's trial, a snapshot's playback
 * and the sweep's own estimates all call `prepareEnv` first, each in its own process.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isPathSpecifier, parseEnvRef, type EnvRef } from './env-ref.js';
import { EnvError } from './errors.js';
import { envSpec, isRegisteredEnv, registerEnv, unknownIdMessage } from './index.js';
import { startPythonEnv } from './python-bridge.js';
import type { EnvContract, EnvSpec } from './types.js';

/** Loads the env `text` names (once per process) and returns its spec. */
export async function prepareEnv(text: string): Promise<EnvSpec> {
  if (isRegisteredEnv(text)) return envSpec(text);
  const ref = parseEnvRef(text);
  switch (ref.kind) {
    case 'id':
      throw new EnvError(unknownIdMessage(text), true);
    case 'module': {
      const create = await loadEnvFactory(ref, text);
      return registerEnv(text, create);
    }
    case 'python':
      return startPythonEnv(text, ref);
  }
}

/** Each distinct env of `texts`, loaded one after another (a module is imported once). */
export async function prepareEnvs(texts: Iterable<string>): Promise<void> {
  for (const text of new Set(texts)) await prepareEnv(text);
}

type ModuleRef = Extract<EnvRef, { kind: 'module' }>;

/** The module's export as a function that makes a new env: a class is constructed, any other function called. */
async function loadEnvFactory(ref: ModuleRef, text: string): Promise<() => EnvContract> {
  const isPath = isPathSpecifier(ref.specifier);
  const url = isPath ? pathToFileURL(path.resolve(ref.specifier)).href : ref.specifier;
  let module: Record<string, unknown>;
  try {
    module = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(isPath ? path.resolve(ref.specifier) : ref.specifier);
    if (missing) {
      const where = isPath ? `${path.resolve(ref.specifier)} does not exist (paths are relative to the working directory, ${process.cwd()})` : `no package "${ref.specifier}" is installed`;
      throw new EnvError(`env "${text}": cannot load the module: ${where}`, true);
    }
    throw new EnvError(`env "${text}": loading the module ${ref.specifier} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, true);
  }
  const value = module[ref.exportName];
  if (value === undefined) {
    const exported = Object.keys(module).filter((name) => typeof module[name] === 'function');
    throw new EnvError(
      `env "${text}": ${ref.specifier} has no export "${ref.exportName}"${exported.length > 0 ? `; its exported classes and functions: ${exported.join(', ')}` : ''}. Write <module>:<export>, e.g. ${ref.specifier}:${exported[0] ?? 'MyEnv'}`,
      true,
    );
  }
  if (typeof value !== 'function') {
    throw new EnvError(
      `env "${text}": export "${ref.exportName}" of ${ref.specifier} is ${value === null ? 'null' : `a ${typeof value}`}, not an env class or a function that returns a new env`,
      true,
    );
  }
  const make = value as (new () => EnvContract) & (() => EnvContract);
  // A class's prototype carries its methods; a plain (or arrow) function is a factory.
  const isClass = /^class[\s{]/.test(Function.prototype.toString.call(make)) || typeof (make.prototype as { step?: unknown } | undefined)?.step === 'function';
  return isClass ? () => new make() : () => make();
}
