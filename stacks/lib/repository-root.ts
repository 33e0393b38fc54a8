import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root: the nearest folder above this module that holds nx.json. Found the same
 * way whether the code runs compiled (`dist/stacks/lib/`) or from source (jest, `stacks/lib/`).
 */
export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'nx.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the repository root (no nx.json above ${fileURLToPath(import.meta.url)})`);
    dir = parent;
  }
  return dir;
}
