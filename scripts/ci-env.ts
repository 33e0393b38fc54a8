/**
 * ci-env: the AWS account and region of an environment, as GitHub step outputs, so workflows take
 * them from environments/<env>.yaml instead of repeating them.
 *
 *   node dist/scripts/ci-env.js <env>     prints `region=<region>` and `account-id=<id>` (exit 1: bad file)
 */
import { existsSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../stacks/lib/config-file.js';
import { loadEnvironment } from '../stacks/lib/environment.js';
import { repositoryRoot } from './lib/paths.js';

export function ciEnvironmentOutputs(root: string, name: string): string {
  const environment = loadEnvironment(root, name);
  return `region=${environment.region}\naccount-id=${environment.accountId}\n`;
}

export function main(argv: readonly string[], root = repositoryRoot()): number {
  const [name, ...extra] = argv;
  if (!name || extra.length > 0) {
    console.error('usage: ci-env <environment>');
    return 2;
  }
  try {
    process.stdout.write(ciEnvironmentOutputs(root, name));
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`ci-env: ${error.message}`);
    return 1;
  }
}

const entry = process.argv[1];
if (entry && existsSync(entry) && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  process.exitCode = main(process.argv.slice(2));
}
