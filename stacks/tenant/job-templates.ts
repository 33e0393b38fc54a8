/**
 * A tenant's job template (`tenants/<t>/jobs/<job>.yaml`) rendered into the parts of a StartJobRun
 * request: the tenant stack writes it with every parameter at its default as an EMR on EKS job
 * template, and `npm run job -- submit --template <job> --param k=v` renders it with the run's
 * values. One function for both, so a template started from the console, the AWS CLI or Step
 * Functions (`--job-template-id`) runs exactly what the job CLI would have sent.
 */
import {
  CLASSIFICATIONS,
  classificationProperties,
  type ConfigurationOverrides,
  dynamicAllocationConf,
  withClassification,
} from '../../modules/tenant/job-defaults.js';
import { boundedName } from '../../modules/tenant/naming.js';
import { type JobTemplate, PARAMETER_REFERENCE } from '../lib/job-templates.js';
import type { TenantJobSettings } from './job-settings.js';

/** Thrown for run-time parameter values a template cannot take (unknown name, wrong type). */
export class JobTemplateParameterError extends Error {
  override name = 'JobTemplateParameterError';
}

export interface RenderedJob {
  readonly releaseLabel: string;
  readonly jobDriver:
    | { readonly sparkSubmitJobDriver: { entryPoint: string; entryPointArguments?: string[] } }
    | { readonly sparkSqlJobDriver: { entryPoint: string; sparkSqlParameters?: string } };
  readonly configurationOverrides: ConfigurationOverrides;
  readonly retryPolicy: { readonly maxAttempts: number };
  /** Tags of job runs started from the template. */
  readonly jobTags: Readonly<Record<string, string>>;
}

/** EMR job template name of a tenant's job: `<tenant>-<job>` (1-64 characters). */
export function jobTemplateName(template: Pick<JobTemplate, 'tenant' | 'name'>): string {
  return boundedName(`${template.tenant}-${template.name}`, 64);
}

/** Tag on runs of a template. */
export const JOB_TEMPLATE_TAG = 'spark-platform:job-template';

/**
 * The parameter values of one run: the template's defaults, overridden by `values`. Unknown
 * names and non-numbers for NUMBER parameters are errors naming the parameter.
 */
export function parameterValues(template: JobTemplate, values: Readonly<Record<string, string>> = {}): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, parameter] of Object.entries(template.parameters)) result[name] = String(parameter.default);
  for (const [name, value] of Object.entries(values)) {
    const parameter = template.parameters[name];
    if (!parameter) {
      const known = Object.keys(template.parameters);
      throw new JobTemplateParameterError(`--param ${name}: expected one of the parameters of ${template.file} (${known.length > 0 ? known.join(', ') : 'it declares none'}), found ${JSON.stringify(name)}`);
    }
    if (parameter.type === 'NUMBER' && !/^-?\d+(\.\d+)?$/.test(value)) {
      throw new JobTemplateParameterError(`--param ${name}: expected a number (NUMBER parameter of ${template.file}), found ${JSON.stringify(value)}`);
    }
    result[name] = value;
  }
  return result;
}

function substitute(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(PARAMETER_REFERENCE, (_, name: string) => values[name] ?? `\${${name}}`);
}

function quote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'"'"'`)}'`;
}

/** An entry point as S3 URI: keys without a scheme are in the tenant bucket. */
export function entryPointUri(bucket: string, entryPoint: string): string {
  return entryPoint.startsWith('s3://') ? entryPoint : `s3://${bucket}/${entryPoint}`;
}

/** Renders a job template for a tenant with the given parameter values (defaults when omitted). */
export function renderJobTemplate(settings: TenantJobSettings, template: JobTemplate, values: Readonly<Record<string, string>> = {}): RenderedJob {
  const params = parameterValues(template, values);
  const s = (text: string) => substitute(text, params);
  const jobDriver: RenderedJob['jobDriver'] = template.sparkSubmit
    ? {
        sparkSubmitJobDriver: {
          entryPoint: entryPointUri(settings.bucket, s(template.sparkSubmit.entryPoint)),
          ...(template.sparkSubmit.arguments.length > 0 ? { entryPointArguments: template.sparkSubmit.arguments.map(s) } : {}),
        },
      }
    : {
        sparkSqlJobDriver: {
          entryPoint: entryPointUri(settings.bucket, s(template.sparkSql!.entryPoint)),
          ...(Object.keys(template.sparkSql!.hivevars).length > 0
            ? { sparkSqlParameters: Object.entries(template.sparkSql!.hivevars).map(([k, v]) => `-hivevar ${k}=${quote(s(v))}`).join(' ') }
            : {}),
        },
      };
  // The template's executors and Spark properties win over the tenant's spark-defaults.
  const sparkDefaults = {
    ...classificationProperties(settings.configurationOverrides, CLASSIFICATIONS.sparkDefaults),
    ...(template.executors ? dynamicAllocationConf(template.executors) : {}),
    ...Object.fromEntries(Object.entries(template.sparkConf).map(([k, v]) => [k, s(v)])),
  };
  return {
    releaseLabel: template.releaseLabel ?? settings.releaseLabel,
    jobDriver,
    configurationOverrides: withClassification(settings.configurationOverrides, CLASSIFICATIONS.sparkDefaults, sparkDefaults),
    retryPolicy: { maxAttempts: template.maxAttempts ?? settings.retryPolicy.maxAttempts },
    jobTags: { 'spark-platform:tenant': settings.namespace, [JOB_TEMPLATE_TAG]: template.name },
  };
}
