/** The JSON Schemas generated from the zod schemas of the configuration files. */
import { z } from 'zod';
import { EnvironmentSchema } from './environment.js';
import { JobTemplateSchema } from './job-templates.js';
import { TenantSchema } from './tenant-config.js';

export interface ConfigSchema {
  /** Path of the generated schema, relative to the repository root. */
  readonly path: string;
  readonly title: string;
  readonly schema: z.ZodType;
}

export const CONFIG_SCHEMAS: readonly ConfigSchema[] = [
  { path: 'environments/environment.schema.json', title: 'Spark platform environment', schema: EnvironmentSchema },
  { path: 'tenants/tenant.schema.json', title: 'Spark platform tenant', schema: TenantSchema },
  { path: 'tenants/job.schema.json', title: 'Spark platform tenant job template', schema: JobTemplateSchema },
];

export function jsonSchemaText(entry: ConfigSchema): string {
  const generated = z.toJSONSchema(entry.schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return `${JSON.stringify({ ...generated, title: entry.title }, null, 2)}\n`;
}
