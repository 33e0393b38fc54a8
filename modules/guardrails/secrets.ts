/**
 * Secret rules: no plaintext credentials in Helm values or Kubernetes Secrets written in code.
 * A literal ends up in git, in the synthesized JSON and in every plan; credentials belong in a
 * secret store, referenced (`existingSecret`, a Terraform reference, External Secrets).
 * Messages name the key, never the value.
 */
import { parse } from 'yaml';
import { type Rule, types } from './rule.js';
import { blocks, isExpression, isRecord } from './terraform.js';

/** Key names that hold a credential. */
const SECRET_KEY = /(password|passwd|passphrase|secret|secret[-_]?key|token|api[-_]?key|access[-_]?key|private[-_]?key|client[-_]?secret|credentials?)$/i;

/** Key names that point at a secret (or configure one) rather than hold it. */
const SECRET_REFERENCE_KEY = /^(secrets?|(existing|use|create|enable|auto|mount|generate).*)$/i;

/** Whether `key` set to `value` is a plaintext credential. */
export function isPlaintextSecret(key: string, value: unknown): boolean {
  if (typeof value !== 'string' || value.trim() === '') return false;
  if (!SECRET_KEY.test(key) || SECRET_REFERENCE_KEY.test(key)) return false;
  // Terraform references/functions and Helm templates are resolved elsewhere, not literals.
  return !isExpression(value) && !value.includes('{{');
}

/** Dotted paths of plaintext credentials in a parsed values document. */
export function plaintextSecretPaths(document: unknown, path = ''): string[] {
  if (Array.isArray(document)) return document.flatMap((item, i) => plaintextSecretPaths(item, `${path}[${i}]`));
  if (!isRecord(document)) return [];
  return Object.entries(document).flatMap(([key, value]) => {
    const here = path ? `${path}.${key}` : key;
    return isPlaintextSecret(key, value) ? [here] : plaintextSecretPaths(value, here);
  });
}

/** The last segment of a Helm `set` name (`a.b\.c.password` -> `password`). */
function lastSegment(name: string): string {
  const parts = name.split(/(?<!\\)\./);
  return (parts[parts.length - 1] ?? name).replace(/\\\./g, '.').replace(/\[\d+\]$/, '');
}

export const helmNoPlaintextSecrets: Rule = {
  id: 'SEC-001',
  title: 'Helm releases carry no plaintext credentials in values, set or set_sensitive',
  description: 'Passwords, tokens and keys written into values end up in git, in cdktf.out and in plans; set_sensitive only hides them from plan output.',
  fix: 'Point the chart at an existing Kubernetes Secret (existingSecret and similar values) filled from AWS Secrets Manager (External Secrets / CSI driver), or pass a Terraform reference (e.g. a random_password or secret version) instead of a literal.',
  appliesTo: types('helm_release'),
  check: (resource) => {
    const problems: string[] = [];
    const values = Array.isArray(resource.body.values) ? resource.body.values : [];
    values.forEach((text, i) => {
      if (typeof text !== 'string') return;
      let document: unknown;
      try {
        document = parse(text);
      } catch {
        return; // Not YAML we can read (e.g. a templatefile() expression): nothing literal to check.
      }
      for (const path of plaintextSecretPaths(document)) problems.push(`values[${i}] sets ${path} to a literal value`);
    });
    for (const attribute of ['set', 'set_sensitive']) {
      for (const entry of blocks(resource.body[attribute])) {
        const name = typeof entry.name === 'string' ? entry.name : '';
        if (isPlaintextSecret(lastSegment(name), entry.value)) problems.push(`${attribute} ${JSON.stringify(name)} is a literal value`);
      }
    }
    return problems;
  },
};

export const kubernetesNoPlaintextSecrets: Rule = {
  id: 'SEC-002',
  title: 'Kubernetes Secrets are not written with literal data in code',
  description: 'A Secret whose data is a literal in the stack is a credential committed to git and stored in every plan.',
  fix: 'Create the Secret from a secret store (External Secrets, Secrets Store CSI driver) or from a Terraform reference (random_password, aws_secretsmanager_secret_version) instead of a literal.',
  appliesTo: types('kubernetes_manifest', 'kubernetes_secret_v1', 'kubernetes_secret'),
  check: (resource) => {
    let entries: [string, unknown][] = [];
    let what = resource.type;
    if (resource.type === 'kubernetes_manifest') {
      const manifest = isRecord(resource.body.manifest) ? resource.body.manifest : {};
      if (manifest.kind !== 'Secret') return [];
      const name = isRecord(manifest.metadata) ? String(manifest.metadata.name ?? '') : '';
      what = `Secret ${name}`;
      for (const field of ['data', 'stringData']) {
        if (isRecord(manifest[field])) entries = entries.concat(Object.entries(manifest[field] as Record<string, unknown>).map(([k, v]) => [`${field}.${k}`, v]));
      }
    } else {
      for (const field of ['data', 'binary_data', 'data_wo']) {
        if (isRecord(resource.body[field])) entries = entries.concat(Object.entries(resource.body[field] as Record<string, unknown>).map(([k, v]) => [`${field}.${k}`, v]));
      }
    }
    return entries.filter(([, value]) => typeof value === 'string' && value !== '' && !isExpression(value)).map(([key]) => `${what} sets ${key} to a literal value`);
  },
};

/** Secret store resources -> the attributes that hold the secret value. */
const SECRET_STORE_VALUES: Readonly<Record<string, readonly string[]>> = {
  aws_secretsmanager_secret_version: ['secret_string', 'secret_string_wo', 'secret_binary'],
  aws_ssm_parameter: ['value', 'value_wo', 'insecure_value'],
};

export const secretStoreNoLiterals: Rule = {
  id: 'SEC-003',
  title: 'Secrets Manager secrets and SecureString parameters get no literal value from code',
  description: 'A secret value written in the stack is committed to git; generated values (ephemeral random passwords, write-only attributes) never leave AWS and the plan.',
  fix: 'Generate the value (ephemeral aws_secretsmanager_random_password into secret_string_wo, as the Grafana admin secret does) or set it out of band and keep only the secret resource in code.',
  appliesTo: types(...Object.keys(SECRET_STORE_VALUES)),
  check: (resource) => {
    if (resource.type === 'aws_ssm_parameter' && resource.body.type !== 'SecureString') return [];
    return (SECRET_STORE_VALUES[resource.type] ?? [])
      .filter((attribute) => {
        const value = resource.body[attribute];
        return typeof value === 'string' && value !== '' && !isExpression(value);
      })
      .map((attribute) => `${attribute} is a literal value`);
  },
};

export const SECRET_RULES: readonly Rule[] = [helmNoPlaintextSecrets, kubernetesNoPlaintextSecrets, secretStoreNoLiterals];
