/**
 * `npm run schemas`: regenerates the JSON Schemas editors use for the YAML configuration files
 * from the zod schemas that validate them. A test fails when a committed schema is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_SCHEMAS, jsonSchemaText } from '../stacks/lib/schemas.js';
import { repositoryRoot } from './lib/paths.js';

const root = repositoryRoot();
for (const entry of CONFIG_SCHEMAS) {
  writeFileSync(join(root, entry.path), jsonSchemaText(entry));
  console.log(`wrote ${entry.path}`);
}
