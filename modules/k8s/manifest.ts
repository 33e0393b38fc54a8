/**
 * Kubernetes objects reach Terraform only as typed, schema-validated values: build them with
 * `kubernetes-models` / `@kubernetes-models/*` classes, and `KubernetesObject` validates them
 * against the upstream OpenAPI schema at synth before emitting a `kubernetes_manifest`.
 */
import { Construct } from 'constructs';
import { Manifest, type ManifestConfig } from '@cdktf/provider-kubernetes/lib/manifest/index.js';

/** What every kubernetes-models object offers. */
export interface ValidatableObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string } | undefined;
  validate(): void;
  toJSON(): unknown;
}

/** A schema violation in a generated object, naming the object and what is wrong. */
export class InvalidKubernetesObjectError extends Error {
  override name = 'InvalidKubernetesObjectError';
}

export function objectName(object: ValidatableObject): string {
  const ns = object.metadata?.namespace ? `${object.metadata.namespace}/` : '';
  return `${object.kind} ${ns}${object.metadata?.name ?? '(unnamed)'}`;
}

/** Validates an object and returns its plain JSON form. */
export function validatedJson(object: ValidatableObject): Record<string, unknown> {
  try {
    object.validate();
  } catch (error) {
    throw new InvalidKubernetesObjectError(`${objectName(object)} (${object.apiVersion}) is invalid: ${(error as Error).message}`);
  }
  // Round-trip drops undefined fields, which kubernetes_manifest would otherwise see as nulls.
  return JSON.parse(JSON.stringify(object.toJSON())) as Record<string, unknown>;
}

export interface KubernetesObjectProps extends Omit<ManifestConfig, 'manifest'> {
  readonly object: ValidatableObject;
}

/** A `kubernetes_manifest` whose content was validated against the object's schema. */
export class KubernetesObject extends Construct {
  readonly manifest: Manifest;
  readonly json: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: KubernetesObjectProps) {
    super(scope, id);
    const { object, ...config } = props;
    this.json = validatedJson(object);
    this.manifest = new Manifest(this, 'manifest', { ...config, manifest: this.json });
  }
}
