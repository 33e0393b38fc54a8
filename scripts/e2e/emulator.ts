/**
 * The AWS API emulator of `npm run e2e`: moto's server (moto[server]), started on a free loopback
 * port over HTTPS with a certificate authority generated for the run (scripts/e2e/moto_server.py
 * says what the launcher adds to a plain `moto_server`), and stopped by its PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { repositoryRoot } from '../lib/paths.js';

export const MOTO_INSTALL_HINT = 'pip install "moto[server]"';

export class EmulatorUnavailableError extends Error {
  override name = 'EmulatorUnavailableError';
}

/** The Python interpreter that has moto's server installed, or an error with the install hint. */
export function findMotoPython(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.MOTO_PYTHON;
  const candidates = explicit ? [explicit] : ['python3', 'python'];
  // `moto_server`'s own interpreter (its shebang), for installs outside the default python3.
  const script = onPath('moto_server', env);
  if (!explicit && script) {
    const shebang = /^#!\s*(\S+python[\d.]*)\s*$/m.exec(readFileSync(script, 'utf8').split('\n', 1)[0] ?? '');
    if (shebang?.[1]) candidates.unshift(shebang[1]);
  }
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import moto.server, flask, cryptography'], { encoding: 'utf8', env });
    if (probe.status === 0) return python;
  }
  throw new EmulatorUnavailableError(
    `moto's server is not installed (no moto_server on PATH${script ? ' importable by its interpreter' : ''}; tried ${candidates.join(', ')}): install it with ${MOTO_INSTALL_HINT}` +
      `${explicit ? '' : ', or set MOTO_PYTHON to the Python interpreter that has it'}`,
  );
}

function onPath(bin: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, bin))) return join(dir, bin);
  }
  return undefined;
}

/** A free TCP port on the loopback interface (the OS picks it). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface Emulator {
  readonly endpoint: string;
  /** PEM of the run's certificate authority. */
  readonly caFile: string;
  readonly pid: number;
  readonly log: string;
  /** Stops the emulator by its PID and waits for it to exit. */
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Folder for the CA, the server key and the log. */
  readonly dir: string;
  /** Account id the emulator pretends to be (the environment's accountId). */
  readonly accountId: string;
  readonly python?: string;
  /** @default 60000 */
  readonly startTimeoutMs?: number;
}

export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const python = options.python ?? findMotoPython();
  const port = await freeLoopbackPort();
  const log = join(options.dir, 'moto.log');
  const out = openSync(log, 'a');
  const launcher = join(repositoryRoot(), 'scripts', 'e2e', 'moto_server.py');
  const child: ChildProcess = spawn(python, [launcher, '--port', String(port), '--dir', options.dir], {
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      MOTO_ACCOUNT_ID: options.accountId,
      // Attaching AWS managed policies (arn:aws:iam::aws:policy/...) needs them loaded.
      MOTO_IAM_LOAD_MANAGED_POLICIES: 'true',
    },
  });
  const pid = child.pid;
  if (pid === undefined) throw new EmulatorUnavailableError(`could not start ${python} ${MOTO_INSTALL_HINT}`);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const endpoint = `https://127.0.0.1:${port}`;
  const caFile = join(options.dir, 'ca.pem');
  const stop = async () => {
    if (exited) return;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    const killed = setTimeout(() => {
      if (!exited) process.kill(pid, 'SIGKILL');
    }, 10_000);
    await exit;
    clearTimeout(killed);
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  while (!(existsSync(caFile) && (await responds(endpoint, caFile)))) {
    if (exited) throw new EmulatorUnavailableError(`the emulator exited at start (log: ${log}):\n${readFileSync(log, 'utf8').slice(-2000)}`);
    if (Date.now() > deadline) {
      await stop();
      throw new EmulatorUnavailableError(`the emulator did not answer on ${endpoint} within ${(options.startTimeoutMs ?? 60_000) / 1000} s (log: ${log})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { endpoint, caFile, pid, log, stop };
}

/** Whether moto's management API answers over TLS with the run's CA. */
function responds(endpoint: string, caFile: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = https.get(`${endpoint}/moto-api/`, { ca: readFileSync(caFile), timeout: 2000 }, (response) => {
      response.resume();
      resolve((response.statusCode ?? 500) < 500);
    });
    request.on('error', () => resolve(false));
    request.on('timeout', () => request.destroy());
  });
}
