/**
 * Where tests find the product and where they build their inputs.
 *
 * Tests never read `environments/` or `tenants/` of the checkout: a platform team replaces those
 * with its own. They read fixture copies under `test/fixtures/repo` (two environments, `dev` and
 * `prod`, and two tenants, `analytics` with the defaults and `risk-models` with every option), or
 * build a temporary repository root from them, which is removed after the test file.
 */
import { afterAll } from '@jest/globals';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

function findSourceRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'nx.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root (no nx.json above test/support)');
    dir = parent;
  }
  return dir;
}

/** The checkout: code, compiled scripts (`dist/`), workflows, generated schemas. Never its environments or tenants. */
export const SOURCE_ROOT = findSourceRoot();

/** Read-only fixture repository root: `environments/{dev,prod}.yaml`, `tenants/{analytics,risk-models}/tenant.yaml`. */
export const FIXTURE_REPO = join(SOURCE_ROOT, 'test', 'fixtures', 'repo');

/** The compiled command-line scripts the tests run as subprocesses. */
export function compiledScript(relativePath: string): string {
  return join(SOURCE_ROOT, 'dist', 'scripts', relativePath);
}

export interface TemporaryRootOptions {
  /**
   * Tenant folders: `'fixtures'` copies the fixture tenants, `'none'` creates an empty `tenants/`,
   * a record writes one `tenants/<name>/tenant.yaml` per entry (a string is written as is, an
   * object as YAML), after copying the fixture tenants when `keepFixtureTenants` is set.
   * @default 'fixtures'
   */
  readonly tenants?: 'fixtures' | 'none' | Record<string, string | Record<string, unknown>>;
  /** @default false */
  readonly keepFixtureTenants?: boolean;
  /** Extra or replacing files, path relative to the root -> content. */
  readonly files?: Record<string, string>;
  /** Folder name prefix in the temporary directory. @default 'repo-' */
  readonly prefix?: string;
}

const created: string[] = [];

/**
 * A fresh repository root in the temporary directory with the fixture environments (and tenants,
 * see options) and an `nx.json` marker. Removed after the test file that made it.
 */
export function temporaryRoot(options: TemporaryRootOptions = {}): string {
  const root = mkdtempSync(join(tmpdir(), options.prefix ?? 'repo-'));
  created.push(root);
  cpSync(join(FIXTURE_REPO, 'environments'), join(root, 'environments'), { recursive: true });
  const tenants = options.tenants ?? 'fixtures';
  mkdirSync(join(root, 'tenants'), { recursive: true });
  if (tenants === 'fixtures' || options.keepFixtureTenants) cpSync(join(FIXTURE_REPO, 'tenants'), join(root, 'tenants'), { recursive: true });
  if (typeof tenants === 'object') {
    for (const [name, content] of Object.entries(tenants)) {
      mkdirSync(join(root, 'tenants', name), { recursive: true });
      writeFileSync(join(root, 'tenants', name, 'tenant.yaml'), typeof content === 'string' ? content : stringify(content));
    }
  }
  writeFileSync(join(root, 'nx.json'), '{}\n');
  for (const [path, content] of Object.entries(options.files ?? {})) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

// Every root a test file made is removed after that file, whatever its outcome.
afterAll(() => {
  for (const root of created.splice(0)) rmSync(root, { recursive: true, force: true });
});
