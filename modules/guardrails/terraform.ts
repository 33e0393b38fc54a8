/**
 * Reading synthesized Terraform JSON (`stack.toTerraform()`): resources keyed by type and logical
 * id, with token references already rendered as `${aws_x.y.attr}` strings. `StackIndex` indexes a
 * stack once (by type and by address) so rules stay O(resources) and cross-resource rules resolve
 * links through the reference strings instead of rescanning the stack.
 */

type JsonRecord = Record<string, unknown>;

/** The parts of a synthesized stack the guardrails read. */
export interface TerraformJson {
  readonly resource?: Readonly<Record<string, Readonly<Record<string, JsonRecord>>>>;
  readonly data?: Readonly<Record<string, Readonly<Record<string, JsonRecord>>>>;
  readonly provider?: Readonly<Record<string, readonly JsonRecord[]>>;
  readonly [key: string]: unknown;
}

export type TfResourceKind = 'resource' | 'data' | 'provider';

/** One resource, data source or provider block of a stack. */
export interface TfResource {
  readonly kind: TfResourceKind;
  /** Terraform type (`aws_s3_bucket`), or `provider.<name>` for provider blocks. */
  readonly type: string;
  /** Logical id (`state_bucket_803B4E61`); for providers the alias, or `default`. */
  readonly name: string;
  /** Terraform address: `aws_s3_bucket.x`, `data.aws_iam_policy_document.x`, `provider.aws`, `provider.aws.east`. */
  readonly address: string;
  /** Construct path (`bootstrap/state/bucket`); providers get the stack's path (only stack-wide suppressions reach them). */
  readonly constructPath: string;
  /** Attributes, without cdktf's `//` metadata. */
  readonly body: Readonly<JsonRecord>;
}

/** A parsed `${type.name.attribute...}` reference. */
export interface Reference {
  readonly kind: 'resource' | 'data';
  readonly type: string;
  readonly name: string;
  /** What follows the name: `id`, `arn`, `metadata[0].name`, ... (empty for a bare reference). */
  readonly attribute: string;
}

const REFERENCE = /^\$\{(data\.)?([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)(?:\.([^}]*))?\}$/;

/** The reference a value consists of exactly (`${aws_s3_bucket.b.id}`), or undefined. */
export function parseReference(value: unknown): Reference | undefined {
  if (typeof value !== 'string' || !value.startsWith('${')) return undefined;
  const match = REFERENCE.exec(value);
  if (!match) return undefined;
  return { kind: match[1] ? 'data' : 'resource', type: match[2]!, name: match[3]!, attribute: match[4] ?? '' };
}

/** Whether a string contains a Terraform expression (a token reference, function call or variable). */
export function isExpression(value: unknown): boolean {
  return typeof value === 'string' && value.includes('${');
}

/** A nested block as a list: cdktf renders single blocks as objects and repeated ones as arrays. */
export function blocks(value: unknown): JsonRecord[] {
  if (Array.isArray(value)) return value.filter(isRecord);
  return isRecord(value) ? [value] : [];
}

/** The first block of a nested block attribute, or undefined. */
export function block(value: unknown): JsonRecord | undefined {
  return blocks(value)[0];
}

/** A string or list of strings as a list (other values are dropped). */
export function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

export function isRecord(value: unknown): value is JsonRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Booleans as Terraform accepts them (`true` or `"true"`). */
export function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

function withoutMetadata(body: JsonRecord): { body: JsonRecord; path: string | undefined } {
  const meta = body['//'];
  if (meta === undefined) return { body, path: undefined };
  const { '//': _meta, ...rest } = body;
  const path = isRecord(meta) && isRecord(meta.metadata) && typeof meta.metadata.path === 'string' ? meta.metadata.path : undefined;
  return { body: rest, path };
}

/**
 * A stack's resources, data sources and providers, indexed by type and address. Built once per
 * stack; `memo` caches derived indexes (e.g. "bucket -> its public access blocks") so every rule
 * that needs one shares it.
 */
export class StackIndex {
  /** Resources and providers: what rules check. */
  readonly checkable: readonly TfResource[];
  private readonly byType = new Map<string, TfResource[]>();
  private readonly byAddress = new Map<string, TfResource>();
  private readonly memos = new Map<string, unknown>();

  constructor(
    readonly terraform: TerraformJson,
    readonly stackName: string,
  ) {
    const checkable: TfResource[] = [];
    const add = (resource: TfResource) => {
      this.byAddress.set(resource.address, resource);
      let list = this.byType.get(resource.type);
      if (!list) this.byType.set(resource.type, (list = []));
      list.push(resource);
    };
    for (const [type, byName] of Object.entries(terraform.resource ?? {})) {
      for (const [name, raw] of Object.entries(byName)) {
        const { body, path } = withoutMetadata(raw);
        const resource: TfResource = { kind: 'resource', type, name, address: `${type}.${name}`, constructPath: path ?? `${stackName}/${name}`, body };
        add(resource);
        checkable.push(resource);
      }
    }
    for (const [type, byName] of Object.entries(terraform.data ?? {})) {
      for (const [name, raw] of Object.entries(byName)) {
        const { body, path } = withoutMetadata(raw);
        add({ kind: 'data', type: `data.${type}`, name, address: `data.${type}.${name}`, constructPath: path ?? `${stackName}/${name}`, body });
      }
    }
    for (const [providerName, configs] of Object.entries(terraform.provider ?? {})) {
      for (const raw of configs) {
        const { body } = withoutMetadata(raw);
        const alias = typeof body.alias === 'string' ? body.alias : undefined;
        const resource: TfResource = {
          kind: 'provider',
          type: `provider.${providerName}`,
          name: alias ?? 'default',
          address: alias ? `provider.${providerName}.${alias}` : `provider.${providerName}`,
          constructPath: stackName,
          body,
        };
        add(resource);
        checkable.push(resource);
      }
    }
    this.checkable = checkable;
  }

  /** Every resource (or data source as `data.<type>`, provider as `provider.<name>`) of a type. */
  ofType(type: string): readonly TfResource[] {
    return this.byType.get(type) ?? [];
  }

  get(address: string): TfResource | undefined {
    return this.byAddress.get(address);
  }

  /** The resource or data source a value references exactly (`${aws_s3_bucket.b.id}`), optionally of a given type. */
  referenced(value: unknown, type?: string): TfResource | undefined {
    const reference = parseReference(value);
    if (!reference) return undefined;
    if (type && reference.type !== type) return undefined;
    return this.byAddress.get(reference.kind === 'data' ? `data.${reference.type}.${reference.name}` : `${reference.type}.${reference.name}`);
  }

  /**
   * The provider block a resource uses: its `provider` meta-argument (`aws.east`) or the default
   * block of the provider its type belongs to (`aws_...` -> `aws`).
   */
  providerOf(resource: TfResource): TfResource | undefined {
    const explicit = typeof resource.body.provider === 'string' ? resource.body.provider : undefined;
    if (explicit) return this.byAddress.get(`provider.${explicit}`);
    const providerName = resource.type.split('_')[0]!;
    return this.byAddress.get(`provider.${providerName}`);
  }

  /** Computes a derived index once per stack. */
  memo<T>(key: string, compute: () => T): T {
    if (this.memos.has(key)) return this.memos.get(key) as T;
    const value = compute();
    this.memos.set(key, value);
    return value;
  }

  /**
   * Groups resources of `type` by the resource their `attribute` references (e.g. every
   * `aws_s3_bucket_versioning` by the `aws_s3_bucket` its `bucket` points at). Literal values are
   * matched against `literalKey` of the target type (e.g. a bucket's `bucket` name).
   */
  linkedBy(type: string, attribute: string, targetType: string, literalKey?: string): ReadonlyMap<string, readonly TfResource[]> {
    return this.memo(`linked:${type}:${attribute}:${targetType}:${literalKey ?? ''}`, () => {
      const byLiteral = new Map<string, string>();
      if (literalKey) {
        for (const target of this.ofType(targetType)) {
          const key = target.body[literalKey];
          if (typeof key === 'string' && !isExpression(key)) byLiteral.set(key, target.address);
        }
      }
      const links = new Map<string, TfResource[]>();
      for (const resource of this.ofType(type)) {
        const value = resource.body[attribute];
        const target = this.referenced(value, targetType)?.address ?? (typeof value === 'string' ? byLiteral.get(value) : undefined);
        if (!target) continue;
        let list = links.get(target);
        if (!list) links.set(target, (list = []));
        list.push(resource);
      }
      return links;
    });
  }
}
