/**
 * Terraform ephemeral resources (Terraform >= 1.10), which cdktf 0.21 cannot express: values that
 * are produced during plan/apply and never written to the plan or the state. Paired with
 * write-only arguments (`*_wo`, Terraform >= 1.11) they carry secrets from one API to another
 * without Terraform storing them.
 */
import { Token, TerraformElement, ref } from 'cdktf';
import type { Construct } from 'constructs';

export interface EphemeralResourceProps {
  /** Ephemeral resource type, such as `aws_secretsmanager_random_password`. */
  readonly type: string;
  /** Arguments, with Terraform's (snake_case) names. */
  readonly config: Readonly<Record<string, unknown>>;
}

/** An `ephemeral "<type>" "<name>"` block. Read its attributes with `get`. */
export class EphemeralResource extends TerraformElement {
  readonly type: string;
  private readonly config: Readonly<Record<string, unknown>>;

  constructor(scope: Construct, id: string, props: EphemeralResourceProps) {
    super(scope, id, `ephemeral.${props.type}`);
    this.type = props.type;
    this.config = props.config;
  }

  /** A reference to an attribute, usable only in write-only arguments, provider configuration and other ephemeral resources. */
  get(attribute: string): string {
    return Token.asString(ref(`ephemeral.${this.type}.${this.friendlyUniqueId}.${attribute}`));
  }

  override toTerraform(): Record<string, unknown> {
    return { ephemeral: { [this.type]: { [this.friendlyUniqueId]: this.config } } };
  }
}
