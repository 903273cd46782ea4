/**
 * How the `env` option names an environment, as Gymnasium's `make("my_pkg:MyEnv-v0")` does:
 *   - an id: a built-in env (CartPole-v1) or one registered in this process (registerEnv);
 *   - a JavaScript/TypeScript module and its export: `./envs/grid-world.ts:GridWorld`
 *     (a path relative to the working directory, or a package name; the export defaults to `default`);
 *   - a Python env, served over a pipe: `gym:CartPole-v1` (created with gymnasium.make) or
 *     `gym:path/to/file.py:ClassName` (a class with Gymnasium's API; gymnasium itself not needed).
 * Parsing is pure: nothing is loaded here.
 */
export type EnvRef =
  | { kind: 'id'; id: string }
  | { kind: 'module'; specifier: string; exportName: string }
  | { kind: 'python'; target: string; file: string | undefined; className: string | undefined };

export const PYTHON_PREFIX = 'gym:';

const MODULE_FILE = /\.(?:[cm]?[jt]s|tsx|jsx)$/;
const EXPORT_NAME = /^[A-Za-z_$][\w$]*$/;

/** Whether a module specifier is a file path (resolved against the working directory), not a package name. */
export function isPathSpecifier(specifier: string): boolean {
  return /^\.{0,2}\//.test(specifier) || MODULE_FILE.test(specifier);
}

export function parseEnvRef(text: string): EnvRef {
  if (text.startsWith(PYTHON_PREFIX)) {
    const target = text.slice(PYTHON_PREFIX.length);
    const file = /^(.+\.py):([A-Za-z_]\w*)$/.exec(target);
    return file ? { kind: 'python', target, file: file[1]!, className: file[2]! } : { kind: 'python', target, file: undefined, className: undefined };
  }
  const colon = text.lastIndexOf(':');
  const [specifier, exportName] = colon > 0 && EXPORT_NAME.test(text.slice(colon + 1)) ? [text.slice(0, colon), text.slice(colon + 1)] : [text, undefined];
  if (isPathSpecifier(specifier) || (exportName !== undefined && !/\s/.test(specifier))) return { kind: 'module', specifier, exportName: exportName ?? 'default' };
  return { kind: 'id', id: text };
}

/** Why `text` cannot name an env, or undefined when it can (whether it loads is found out later). */
export function envRefProblem(text: string): string | undefined {
  const ref = parseEnvRef(text);
  if (ref.kind === 'python' && ref.target.trim() === '') return `"${text}" names no Python env; write gym:<Gymnasium id>, e.g. gym:CartPole-v1, or gym:<file.py>:<ClassName>`;
  if (ref.kind === 'module' && ref.specifier.trim() === '') return `"${text}" names no module; write <path or package>:<export>, e.g. ./envs/grid-world.ts:GridWorld`;
  return undefined;
}
