#!/usr/bin/env node
// The Nx `diff`, `deploy` and `destroy` targets: `cdktf <command> <stack> [flags]`, except for a
// tenant stack that is not in the selected environment. Nx has a project per tenant folder in every
// environment (tenant-projects.cjs), but a tenant file that names its `environments` has a stack
// only in those, and `cdktf deploy` of a stack the app does not have fails; here that is a no-op
// with a note, so `nx run-many -t deploy` works in each environment.
//
//   node scripts/nx/cdktf-stack.mjs <diff|deploy|destroy> <stack> [cdktf flags...]
//
// Plain ESM, not compiled, for the same reason as the Nx plugin: it runs before anything is built
// (cdktf's app runs `tsc -b` itself). The membership rule is the one of
// stacks/lib/tenant-environments.ts (`isTenantInEnvironment`), on the raw file; test/deploy-tooling
// checks both agree.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';

const COMMANDS = ['diff', 'deploy', 'destroy'];

/** Environments a raw tenant file names, or undefined when it names none (every environment). */
export function tenantEnvironments(raw) {
  const isRecord = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
  const environments = isRecord(raw) ? raw.environments : undefined;
  return isRecord(environments) ? Object.keys(environments) : undefined;
}

/**
 * Why an environment leaves a platform stack out, or undefined when it has it. The rule of
 * stacks/registry.ts (`disabledStacks`) on the raw environment file: `yunikorn` exists only with
 * `scheduling.batchScheduler: yunikorn` (the schema's default is `default`). An unreadable file
 * decides nothing here: the synth cdktf runs reports it, naming the file.
 */
export function disabledReason(root, environment, stack) {
  if (stack !== 'yunikorn') return undefined;
  const file = join('environments', `${environment}.yaml`);
  let raw;
  try {
    raw = parse(readFileSync(join(root, file), 'utf8'));
  } catch {
    return undefined;
  }
  const scheduler = raw?.scheduling?.batchScheduler ?? 'default';
  return scheduler === 'yunikorn' ? undefined : `scheduling.batchScheduler is "${scheduler}" in ${file}`;
}

function main(argv) {
  const [command, stack, ...flags] = argv;
  if (!COMMANDS.includes(command) || !stack) {
    console.error(`usage: cdktf-stack.mjs <${COMMANDS.join('|')}> <stack> [cdktf flags...]`);
    return 2;
  }
  const root = process.cwd();
  const environment = process.env.PLATFORM_ENV || 'dev';
  const disabled = disabledReason(root, environment, stack);
  if (disabled) {
    console.log(`${stack} is not part of environment "${environment}" (${disabled}): nothing to ${command}`);
    return 0;
  }
  if (stack.startsWith('tenant-')) {
    const file = join('tenants', stack.slice('tenant-'.length), 'tenant.yaml');
    if (existsSync(join(root, file))) {
      let raw;
      try {
        raw = parse(readFileSync(join(root, file), 'utf8'));
      } catch {
        raw = undefined; // unreadable: the synth that cdktf runs reports it, naming the file
      }
      const environments = tenantEnvironments(raw);
      if (environments && !environments.includes(environment)) {
        console.log(`${stack} is not in environment "${environment}" (${file} lists ${environments.join(', ')}): nothing to ${command}`);
        return 0;
      }
    }
  }
  const local = join(root, 'node_modules', '.bin', 'cdktf');
  const result = spawnSync(existsSync(local) ? local : 'cdktf', [command, stack, ...flags], { stdio: 'inherit' });
  if (result.error) {
    console.error(`cdktf-stack: could not run cdktf (${result.error.message}): run npm ci first`);
    return 2;
  }
  return result.status ?? 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) process.exitCode = main(process.argv.slice(2));
