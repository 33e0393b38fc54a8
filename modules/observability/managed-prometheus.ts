/**
 * Optional remote write to Amazon Managed Service for Prometheus (AMP): the workspace, and the
 * IAM role the in-cluster Prometheus server assumes through EKS Pod Identity to sign its remote
 * write requests (SigV4), allowed `aps:RemoteWrite` on this workspace only.
 */
import { Construct } from 'constructs';
import type { EksPodIdentityAssociation } from '@cdktf/provider-aws/lib/eks-pod-identity-association/index.js';
import type { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { PrometheusWorkspace } from '@cdktf/provider-aws/lib/prometheus-workspace/index.js';
import { PodIdentityRole } from '../iam/pod-identity-role.js';
import { type PolicyDocument, policyDocument } from '../iam/policy.js';
import { MONITORING_NAMESPACE, SERVICE_ACCOUNTS } from './constants.js';

/** Remote write only, on one workspace. */
export function ampRemoteWritePolicy(workspaceArn: string): PolicyDocument {
  return policyDocument({ Sid: 'RemoteWrite', Effect: 'Allow', Action: ['aps:RemoteWrite'], Resource: [workspaceArn] });
}

/** The remote write URL of a workspace, from its `prometheus_endpoint` (which ends with `/`). */
export function ampRemoteWriteUrl(prometheusEndpoint: string): string {
  return `${prometheusEndpoint}api/v1/remote_write`;
}

export interface ManagedPrometheusProps {
  /** EKS cluster name (literal: names the workspace alias and the IAM role). */
  readonly clusterName: string;
  /**
   * Cluster name as a reference to the cluster stack's output.
   * @default clusterName
   */
  readonly clusterNameRef?: string;
  /** Cluster ARN for the Pod Identity trust. */
  readonly clusterArn: string;
  readonly accountId: string;
  /**
   * Namespace of the Prometheus server.
   * @default MONITORING_NAMESPACE
   */
  readonly namespace?: string;
  /**
   * Service account of the Prometheus server.
   * @default SERVICE_ACCOUNTS.prometheus
   */
  readonly serviceAccount?: string;
  /**
   * Customer managed KMS key of the workspace.
   * @default an AWS owned key
   */
  readonly kmsKeyArn?: string;
}

export class ManagedPrometheus extends Construct {
  readonly workspace: PrometheusWorkspace;
  readonly role: IamRole;
  readonly podIdentityAssociation: EksPodIdentityAssociation;
  /** `https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/api/v1/remote_write`. */
  readonly remoteWriteUrl: string;

  constructor(scope: Construct, id: string, props: ManagedPrometheusProps) {
    super(scope, id);
    const namespace = props.namespace ?? MONITORING_NAMESPACE;
    const serviceAccount = props.serviceAccount ?? SERVICE_ACCOUNTS.prometheus;

    this.workspace = new PrometheusWorkspace(this, 'workspace', {
      alias: props.clusterName,
      ...(props.kmsKeyArn ? { kmsKeyArn: props.kmsKeyArn } : {}),
    });
    this.remoteWriteUrl = ampRemoteWriteUrl(this.workspace.prometheusEndpoint);

    const identity = new PodIdentityRole(this, 'prometheus', {
      roleName: `${props.clusterName}-prometheus-amp`,
      description: `Prometheus (${namespace}/${serviceAccount}) remote-writes to AMP workspace ${props.clusterName}`,
      clusterName: props.clusterNameRef ?? props.clusterName,
      clusterArn: props.clusterArn,
      accountId: props.accountId,
      namespace,
      serviceAccount,
      inlinePolicies: { 'amp-remote-write': ampRemoteWritePolicy(this.workspace.arn) },
    });
    this.role = identity.role;
    this.podIdentityAssociation = identity.association;
  }
}
