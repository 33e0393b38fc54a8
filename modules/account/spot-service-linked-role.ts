/**
 * The EC2 Spot service-linked role. EC2 needs it to launch Spot instances; an account that never
 * requested Spot from the console does not have it, and Karpenter cannot create it (its policy
 * rightly lacks iam:CreateServiceLinkedRole). Without it every Spot launch fails with
 * `AuthFailure.ServiceLinkedRoleCreationNotPermitted` and Karpenter marks Spot unavailable.
 *
 * An account holds the role once: creating it when it exists fails with "Service role name
 * AWSServiceRoleForEC2Spot has been taken in this account". Import it instead
 * (`terraform import aws_iam_service_linked_role.spot <SPOT_SERVICE_LINKED_ROLE ARN>`), or do not
 * create it here.
 */
import { Construct } from 'constructs';
import { IamServiceLinkedRole } from '@cdktf/provider-aws/lib/iam-service-linked-role/index.js';

/** Service principal and role name (AWS managed policy AWSEC2SpotServiceRolePolicy). */
export const SPOT_SERVICE = 'spot.amazonaws.com';
export const SPOT_SERVICE_LINKED_ROLE_NAME = 'AWSServiceRoleForEC2Spot';
/** Terraform address of the role in its stack, for `terraform import`. */
export const SPOT_SERVICE_LINKED_ROLE_ADDRESS = 'aws_iam_service_linked_role.spot';

/** The role's ARN (what `terraform import` takes as id). */
export function spotServiceLinkedRoleArn(partition: string, accountId: string): string {
  return `arn:${partition}:iam::${accountId}:role/aws-service-role/${SPOT_SERVICE}/${SPOT_SERVICE_LINKED_ROLE_NAME}`;
}

export class SpotServiceLinkedRole extends Construct {
  readonly role: IamServiceLinkedRole;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.role = new IamServiceLinkedRole(this, 'role', {
      awsServiceName: SPOT_SERVICE,
      // A role created by EC2 (console Spot request) carries EC2's own description: importing it
      // must not show a change.
      lifecycle: { ignoreChanges: ['description'] },
    });
    this.role.overrideLogicalId('spot');
  }
}
