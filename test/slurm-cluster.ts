/**
 * A single-node Slurm cluster on this machine for the tests, from Debian's packages
 * (slurm-wlm, munge): its own munge key and socket, slurmctld and slurmd on private
 * loopback ports, state and logs in a temporary folder, proctrack/linuxproc,
 * task/none, select/cons_tres, no accounting, and a scheduler that starts tasks at
 * once. Every daemon it starts is stopped by its PID.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir, userInfo } from 'node:os';
import * as path from 'node:path';

/** Daemons and client commands the fixture and the executor use. */
export const SLURM_TEST_BINARIES = ['munged', 'slurmctld', 'slurmd', 'sinfo', 'sbatch', 'squeue', 'scancel'] as const;
/** Daemons live in sbin, which a developer's PATH may lack. */
const SEARCH_PATH = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'].filter((dir) => dir !== '');

function which(name: string): string | undefined {
  for (const dir of SEARCH_PATH) {
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return path.join(dir, name);
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** The binaries this machine lacks (empty: the cluster can start). */
export function missingSlurmBinaries(): string[] {
  return SLURM_TEST_BINARIES.filter((name) => which(name) === undefined);
}

export interface SlurmCluster {
  /** Temporary folder: config, key, state, logs. */
  dir: string;
  /** Environment for the Slurm client commands (SLURM_CONF) and for what the tests run. */
  env: NodeJS.ProcessEnv;
  /** Runs a Slurm client command against this cluster. */
  command(name: string, args: string[]): Promise<string>;
  /** The daemons' logs, for a failure's message. */
  logs(): string;
  /** Cancels what is left in the queue, stops every daemon it started (by PID) and removes its folder. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function slurmConf(o: { dir: string; node: string; socket: string; controllerPort: number; nodePort: number }): string {
  return [
    'ClusterName=rlsweeptest',
    `SlurmctldHost=${o.node}(127.0.0.1)`,
    `SlurmctldPort=${o.controllerPort}`,
    `SlurmdPort=${o.nodePort}`,
    'SlurmUser=root',
    'SlurmdUser=root',
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `AuthInfo=socket=${o.socket}`,
    `StateSaveLocation=${path.join(o.dir, 'state')}`,
    `SlurmdSpoolDir=${path.join(o.dir, 'spool')}`,
    `SlurmctldPidFile=${path.join(o.dir, 'slurmctld.pid')}`,
    `SlurmdPidFile=${path.join(o.dir, 'slurmd.pid')}`,
    `SlurmctldLogFile=${path.join(o.dir, 'log', 'slurmctld.log')}`,
    `SlurmdLogFile=${path.join(o.dir, 'log', 'slurmd.log')}`,
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    // Start a task as soon as it is submitted or a slot frees, not at the next scheduling pass.
    'SchedulerParameters=batch_sched_delay=0,sched_min_interval=0',
    'ReturnToService=2',
    'AccountingStorageType=accounting_storage/none',
    'JobAcctGatherType=jobacct_gather/none',
    'JobCompType=jobcomp/none',
    'MpiDefault=none',
    // The node's CPUs below, whatever this machine has.
    'SlurmdParameters=config_overrides',
    // A cancelled task's processes get SIGTERM, then SIGKILL this many seconds later.
    'KillWait=10',
    `NodeName=${o.node} NodeAddr=127.0.0.1 CPUs=4 RealMemory=1000 State=UNKNOWN`,
    'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
    '',
  ].join('\n');
}

function runCommand(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

function startDaemon(dir: string, name: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const out = openSync(path.join(dir, 'log', `${name}.out`), 'a');
  try {
    return spawn(which(name)!, args, { env, stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
  }
}

async function stopDaemon(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  }, 10_000);
  await exited;
  clearTimeout(timer);
}

/** Starts the cluster and waits until sinfo reports its node idle. */
export async function startSlurmCluster(): Promise<SlurmCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rlsweep-slurm-'));
  // munged wants the folders of its socket reachable by everyone, and its key private.
  chmodSync(dir, 0o755);
  for (const sub of ['munge', 'state', 'spool', 'log']) mkdirSync(path.join(dir, sub), { mode: 0o755 });
  const key = path.join(dir, 'munge', 'munge.key');
  writeFileSync(key, randomBytes(1024), { mode: 0o600 });
  const socket = path.join(dir, 'munge', 'munge.sock');
  const node = hostname().split('.')[0]!;
  const conf = path.join(dir, 'slurm.conf');
  writeFileSync(conf, slurmConf({ dir, node, socket, controllerPort: await freePort(), nodePort: await freePort() }));
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf, PATH: SEARCH_PATH.join(path.delimiter) };

  const daemons: ChildProcess[] = [];
  const logs = (): string =>
    ['munged.out', 'slurmctld.out', 'slurmd.out']
      .map((file) => {
        let text = '';
        try {
          text = readFileSync(path.join(dir, 'log', file), 'utf8');
        } catch {
          /* not started */
        }
        return `--- ${file}\n${text.split('\n').slice(-30).join('\n')}`;
      })
      .join('\n');
  const command = (name: string, args: string[]): Promise<string> => runCommand(which(name)!, args, env);
  const stop = async (): Promise<void> => {
    try {
      await command('scancel', ['--user', userInfo().username]);
      for (let i = 0; i < 60 && (await command('squeue', ['-h']).catch(() => '')).trim() !== ''; i++) await sleep(250);
    } catch {
      // The controller may not have started.
    }
    for (const daemon of [...daemons].reverse()) await stopDaemon(daemon);
    rmSync(dir, { recursive: true, force: true });
  };
  const cluster: SlurmCluster = { dir, env, command, logs, stop };

  try {
    daemons.push(
      startDaemon(
        dir,
        'munged',
        [
          '-F',
          `--key-file=${key}`,
          `--socket=${socket}`,
          `--pid-file=${path.join(dir, 'munge', 'munged.pid')}`,
          `--log-file=${path.join(dir, 'log', 'munged.log')}`,
          `--seed-file=${path.join(dir, 'munge', 'munged.seed')}`,
        ],
        env,
      ),
    );
    for (let i = 0; i < 50 && !existsSafe(socket); i++) await sleep(100);
    daemons.push(startDaemon(dir, 'slurmctld', ['-D', '-f', conf], env));
    daemons.push(startDaemon(dir, 'slurmd', ['-D', '-f', conf], env));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const state = (await command('sinfo', ['-h', '-o', '%T']).catch(() => '')).trim();
      if (state === 'idle') break;
      const dead = daemons.find((daemon) => daemon.exitCode !== null);
      if (dead || Date.now() > deadline) {
        throw new Error(`the test Slurm cluster did not come up (${dead ? `${dead.spawnfile} exited ${dead.exitCode}` : `sinfo says "${state}"`}):\n${logs()}`);
      }
      await sleep(250);
    }
    return cluster;
  } catch (error) {
    await stop();
    throw error;
  }
}

function existsSafe(file: string): boolean {
  try {
    accessSync(file);
    return true;
  } catch {
    return false;
  }
}
