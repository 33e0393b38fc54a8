/**
 * Cost allocation tags: a tag key becomes a column of Cost Explorer and of the CUR export only
 * once it is activated, in the payer (management) account, after Billing has seen it on a
 * resource (up to 24 hours after tagging). Destroying the resource deactivates the tag.
 */
import { Construct } from 'constructs';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { CeCostAllocationTag } from '@cdktf/provider-aws/lib/ce-cost-allocation-tag/index.js';

export interface CostAllocationTagsProps {
  /** Tag keys to activate (user-defined tags and imported Kubernetes pod labels). */
  readonly tagKeys: readonly string[];
  /**
   * Provider to call Cost Explorer with (its API is in us-east-1).
   * @default the stack's default AWS provider
   */
  readonly provider?: AwsProvider;
}

export class CostAllocationTags extends Construct {
  readonly tags: CeCostAllocationTag[];

  constructor(scope: Construct, id: string, props: CostAllocationTagsProps) {
    super(scope, id);
    const keys = [...new Set(props.tagKeys)];
    if (keys.length !== props.tagKeys.length) throw new Error(`cost allocation tag keys listed twice: ${props.tagKeys.join(', ')}`);
    this.tags = keys.map(
      (tagKey) =>
        new CeCostAllocationTag(this, tagKey.replace(/[^A-Za-z0-9-]+/g, '-'), {
          tagKey,
          status: 'Active',
          ...(props.provider ? { provider: props.provider } : {}),
        }),
    );
  }
}
