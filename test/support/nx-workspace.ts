/**
 * A temporary Nx workspace: the product's own Nx configuration (nx.json, the root package.json
 * project, every stacks/<name>/project.json, the tenant-project plugin) with the fixture
 * environments and tenants instead of the checkout's, node_modules linked, and one git commit so
 * `nx affected` has a base. Tests of the project graph run Nx there, never in the checkout, so
 * they neither depend on the checkout's tenants nor write Nx's cache into it.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SOURCE_ROOT, temporaryRoot, type TemporaryRootOptions } from './repo.js';

const COPIED = ['nx.json', 'package.json', 'package-lock.json', 'tsconfig.base.json', 'tsconfig.json', 'scripts/nx'];

export function temporaryNxWorkspace(options: TemporaryRootOptions = {}): string {
  const root = temporaryRoot({ prefix: 'nx-workspace-', ...options });
  for (const path of COPIED) cpSync(join(SOURCE_ROOT, path), join(root, path), { recursive: true });
  for (const stack of readdirSync(join(SOURCE_ROOT, 'stacks'))) {
    const project = join(SOURCE_ROOT, 'stacks', stack, 'project.json');
    if (!existsSync(project)) continue;
    mkdirSync(join(root, 'stacks', stack), { recursive: true });
    cpSync(project, join(root, 'stacks', stack, 'project.json'));
  }
  // A module file, so `--files modules/...` names a file that exists (owned by the root project).
  mkdirSync(join(root, 'modules', 'network'), { recursive: true });
  cpSync(join(SOURCE_ROOT, 'modules', 'network', 'cidr.ts'), join(root, 'modules', 'network', 'cidr.ts'));
  symlinkSync(join(SOURCE_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  writeFileSync(join(root, '.gitignore'), 'node_modules\n.nx/\ncdktf.out/\n');
  git(root, ['init', '--quiet', '--initial-branch=main']);
  git(root, ['add', '--all']);
  git(root, ['-c', 'user.name=test', '-c', 'user.email=test@example.com', 'commit', '--quiet', '--message', 'fixture workspace']);
  return root;
}

export function git(root: string, args: readonly string[]): string {
  const result = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed in ${root}:\n${result.stderr}`);
  return result.stdout;
}

/** Runs the workspace's Nx (non-interactive, no daemon, no cloud) and returns its result. */
export function runNx(root: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(join(root, 'node_modules', '.bin', 'nx'), args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_ISOLATE_PLUGINS: 'false', ...env },
  });
}
