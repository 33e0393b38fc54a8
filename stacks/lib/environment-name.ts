/** Which environment a command works on. Kept apart from the schema so it loads in no time. */
export const DEFAULT_ENVIRONMENT = 'dev';
export const ENVIRONMENT_VARIABLE = 'PLATFORM_ENV';

export function selectedEnvironmentName(): string {
  return process.env[ENVIRONMENT_VARIABLE] || DEFAULT_ENVIRONMENT;
}
