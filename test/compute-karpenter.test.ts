import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { karpenterChartValues } from '../modules/karpenter/helm-values.js';
import { KARPENTER_SERVICE_ACCOUNT } from '../modules/karpenter/names.js';
import { SYSTEM_PLACEMENT } from '../modules/scheduling/system-nodes.js';
import { resourceLike, resourcesOf, synthStack, testEnvironment } from './support/synth.js';

const tf = synthStack('karpenter');
const crds = resourceLike(tf, 'helm_release', 'crds');
const controller = resourceLike(tf, 'helm_release', 'controller');
const values = JSON.parse((controller.values as string[])[0]!) as Record<string, any>;
const remote = (stack: string, output: string) => `\${data.terraform_remote_state.remote-state-${stack}.outputs.${output}}`;

describe('karpenter stack (dev)', () => {
  it('has its own state key and reads the cluster and karpenter-infra states', () => {
    assert.equal((tf.terraform.backend!.s3 as Record<string, unknown>).key, 'dev/karpenter.tfstate');
    const keys = Object.values(tf.data!.terraform_remote_state!).map((r) => (r.config as Record<string, unknown>).key).sort();
    assert.deepEqual(keys, ['dev/cluster.tfstate', 'dev/karpenter-infra.tfstate']);
    assert.deepEqual(Object.keys(tf.provider!).sort(), ['aws', 'helm', 'kubernetes']);
  });

  it('creates the karpenter namespace with Pod Security "restricted"', () => {
    const ns = resourceLike(tf, 'kubernetes_manifest', 'namespace').manifest as Record<string, any>;
    assert.equal(ns.kind, 'Namespace');
    assert.equal(ns.metadata.name, 'karpenter');
    assert.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  it('installs the CRDs from the pinned karpenter-crd chart, after the namespace', () => {
    assert.deepEqual(
      { name: crds.name, repository: crds.repository, chart: crds.chart, version: crds.version, namespace: crds.namespace, skip: crds.skip_crds },
      { name: 'karpenter-crd', repository: 'oci://public.ecr.aws/karpenter', chart: 'karpenter-crd', version: '1.14.1', namespace: 'karpenter', skip: undefined },
    );
    const namespaceId = Object.keys(resourcesOf(tf, 'kubernetes_manifest'))[0]!;
    assert.deepEqual(crds.depends_on, [`kubernetes_manifest.${namespaceId}`]);
  });

  it('installs the pinned karpenter chart without its crds/ folder, after the CRD release', () => {
    assert.deepEqual(
      { name: controller.name, repository: controller.repository, chart: controller.chart, version: controller.version, namespace: controller.namespace },
      { name: 'karpenter', repository: 'oci://public.ecr.aws/karpenter', chart: 'karpenter', version: '1.14.1', namespace: 'karpenter' },
    );
    assert.equal(controller.skip_crds, true, 'karpenter-crd owns the CRDs, so upgrades update them');
    const crdId = Object.keys(resourcesOf(tf, 'helm_release')).find((id) => id.includes('crds'))!;
    assert.deepEqual(controller.depends_on, [`helm_release.${crdId}`]);
    assert.equal(controller.wait, true);
  });

  it('configures the cluster, the interruption queue by NAME and reserved ENIs for custom networking', () => {
    assert.deepEqual(values.settings, {
      clusterName: remote('cluster', 'clusterName'),
      clusterEndpoint: remote('cluster', 'clusterEndpoint'),
      interruptionQueue: remote('karpenter-infra', 'interruptionQueueName'),
      reservedENIs: '1',
      minValuesPolicy: 'BestEffort',
    });
  });

  it('runs the controller on the system nodes, under the Pod Identity service account, with the region set explicitly', () => {
    assert.deepEqual(values.nodeSelector, { 'kubernetes.io/os': 'linux', ...SYSTEM_PLACEMENT.nodeSelector });
    assert.deepEqual(values.tolerations, SYSTEM_PLACEMENT.tolerations);
    assert.deepEqual(values.serviceAccount, { create: true, name: KARPENTER_SERVICE_ACCOUNT });
    assert.deepEqual(values.controller.env, [{ name: 'AWS_REGION', value: 'us-west-2' }], 'IMDS hop limit 1 keeps pods from discovering the region');
    assert.deepEqual(values.controller.image, { tag: '1.14.1' });
    assert.deepEqual(values.controller.resources, { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1Gi' } });
    assert.equal(values.replicas, 2);
  });

  it('moves both charts and the controller image together when the environment pins another Karpenter version', () => {
    const other = synthStack('karpenter', testEnvironment({ compute: { karpenterVersion: '1.15.0' } }));
    const releases = Object.values(resourcesOf(other, 'helm_release'));
    assert.deepEqual(releases.map((r) => r.version), ['1.15.0', '1.15.0']);
    const otherValues = JSON.parse((resourceLike(other, 'helm_release', 'controller').values as string[])[0]!) as Record<string, any>;
    assert.equal(otherValues.controller.image.tag, '1.15.0');
  });
});

describe('Karpenter chart values (unit)', () => {
  it('reserves no ENI without custom networking and keeps settings.reservedENIs a string', () => {
    const plain = karpenterChartValues({ clusterName: 'c', interruptionQueueName: 'q', region: 'eu-west-1', version: '1.14.1', customNetworking: false });
    assert.equal(plain.settings.reservedENIs, '0');
    assert.equal(plain.settings.clusterEndpoint, undefined);
    assert.equal(Object.hasOwn(plain.settings, 'clusterEndpoint'), false, 'no empty key that would override the chart default');
  });
});
