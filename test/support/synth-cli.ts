/**
 * The synth command (scripts/synth.ts `main`) run in the test's own process: same arguments, same
 * environment variables, same exit code and output as `node dist/scripts/synth.js ...`, without a
 * new Node process loading every stack module again (about 2 s of CPU per run on the CI machines).
 *
 * Tests that are about the process itself (the compiled entry point, PATH, parallel processes)
 * still spawn `dist/scripts/synth.js`.
 */
import { format } from 'node:util';
import { main } from '../../scripts/synth.js';

export interface CommandResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `synth <args>` with `env` overriding process.env for the run (a value of undefined unsets
 * the variable). Output is captured as the process would print it; an exception is exit code 1
 * with its stack on stderr, as Node reports an uncaught error.
 */
export async function synthCli(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<CommandResult> {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  const stdout: string[] = [];
  const stderr: string[] = [];
  const { log, info, warn, error } = console;
  console.log = console.info = (...parts: unknown[]) => void stdout.push(`${format(...parts)}\n`);
  console.warn = console.error = (...parts: unknown[]) => void stderr.push(`${format(...parts)}\n`);
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  let status: number;
  try {
    status = await main(args);
  } catch (thrown) {
    stderr.push(`${(thrown as Error).stack ?? String(thrown)}\n`);
    status = 1;
  } finally {
    Object.assign(console, { log, info, warn, error });
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  return { status, stdout: stdout.join(''), stderr: stderr.join('') };
}
