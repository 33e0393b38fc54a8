import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { ConfigError } from '../stacks/lib/config-file.js';
import { DEFAULT_ADDON_VERSIONS, loadEnvironment, parseEnvironment } from '../stacks/lib/environment.js';
import { FIXTURE_REPO, rawEnvironment } from './support/synth.js';

const FILE = 'environments/dev.yaml';

function problemsFor(overrides: Record<string, unknown>, remove: string[] = []): string {
  const raw: Record<string, unknown> = { ...rawEnvironment('dev'), ...overrides };
  for (const key of remove) delete raw[key];
  try {
    parseEnvironment(raw, FILE);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected the environment to be rejected');
}

describe('environment files', () => {
  it('loads the shipped dev and prod environments with defaults applied', () => {
    const dev = loadEnvironment(FIXTURE_REPO, 'dev');
    assert.equal(dev.name, 'dev');
    assert.equal(dev.file, 'environments/dev.yaml');
    assert.deepEqual(dev.availabilityZones, ['us-west-2a', 'us-west-2b', 'us-west-2c']);
    assert.equal(dev.natGateways, 'single');
    assert.equal(dev.kubernetesVersion, '1.36');
    assert.deepEqual(dev.addons, DEFAULT_ADDON_VERSIONS['1.36']);
    assert.equal(dev.supportType, 'STANDARD');
    assert.equal(dev.createSpotServiceLinkedRole, true);
    assert.deepEqual(dev.ci, { githubRepository: 'example-org/spark-platform', deployBranch: 'main' });
    assert.deepEqual(dev.interfaceEndpoints, ['ecr.api', 'ecr.dkr', 'sts', 'logs', 'ec2', 'eks', 'eks-auth', 'sqs']);
    const prod = loadEnvironment(FIXTURE_REPO, 'prod');
    assert.deepEqual(prod.publicEndpointCidrs, []);
    assert.equal(prod.natGateways, 'one-per-az');
    assert.equal(prod.systemNodeGroup.minSize, 3);
    assert.deepEqual(prod.addons, DEFAULT_ADDON_VERSIONS['1.35'], 'the previous version keeps its defaults');
    assert.equal(prod.ci?.oidcProviderArn, 'arn:aws:iam::444455556666:oidc-provider/token.actions.githubusercontent.com');
  });

  it('lets an environment override single add-on versions', () => {
    const env = parseEnvironment({ ...rawEnvironment('dev'), addons: { coredns: 'v1.12.2-eksbuild.4' } }, FILE);
    assert.equal(env.addons.coredns, 'v1.12.2-eksbuild.4');
    assert.equal(env.addons.vpcCni, DEFAULT_ADDON_VERSIONS['1.36']!.vpcCni);
  });

  const badInputs: [string, Record<string, unknown>, string[], RegExp][] = [
    ['unknown field (typo)', { regoin: 'us-west-2' }, [], /environments\/dev\.yaml: regoin: expected no field named "regoin".*found "us-west-2"/],
    ['missing required field', {}, ['clusterName'], /environments\/dev\.yaml: clusterName: expected a string, found nothing \(the field is missing\)/],
    ['account id as a number', { accountId: 111122223333 }, [], /accountId: expected a string, found number 111122223333/],
    ['account id too short', { accountId: '1234' }, [], /accountId: expected a 12-digit AWS account id.*found "1234"/],
    ['bad region', { region: 'mars-1' }, [], /region: expected an AWS region such as us-west-2, found "mars-1"/],
    ['zone outside the region', { availabilityZones: ['us-west-2a', 'eu-west-1b'] }, [], /availabilityZones\[1\]: expected an availability zone of region us-west-2.*found "eu-west-1b"/],
    ['one zone only', { availabilityZones: ['us-west-2a'] }, [], /availabilityZones: expected at least 2 items, found a list \["us-west-2a"\]/],
    ['seven zones', { availabilityZones: ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((z) => `us-west-2${z}`) }, [], /availabilityZones: expected at most 6 items/],
    ['duplicate zone', { availabilityZones: ['us-west-2a', 'us-west-2a'] }, [], /availabilityZones\[1\]: expected each availability zone listed once, found "us-west-2a"/],
    ['vpc CIDR with host bits', { vpcCidr: '10.10.0.1/16' }, [], /vpcCidr: expected vpcCidr: an IPv4 CIDR block with no host bits set.*found "10.10.0.1\/16"/],
    ['vpc CIDR too small', { vpcCidr: '10.10.0.0/24' }, [], /vpcCidr: expected a VPC CIDR between \/16 and \/20.*found "10.10.0.0\/24"/],
    ['pod CIDR outside 100.64/10', { podCidr: '172.16.0.0/16' }, [], /podCidr: expected a CIDR inside 100.64.0.0\/10.*found "172.16.0.0\/16"/],
    ['pod CIDR overlapping the VPC', { vpcCidr: '100.64.0.0/16', podCidr: '100.64.0.0/16' }, [], /podCidr: expected a CIDR that does not overlap vpcCidr 100.64.0.0\/16/],
    ['kubernetes version as a number', { kubernetesVersion: 1.3 }, [], /kubernetesVersion: expected a string, found number 1.3/],
    ['kubernetes version without add-on defaults', { kubernetesVersion: '1.40' }, [], /addons.vpcCni: expected a pinned add-on version: Kubernetes 1.40 has no defaults/],
    ['cluster name too long for derived names', { clusterName: 'c'.repeat(33) }, [], /clusterName: expected an EKS cluster name of 1-32 characters.*64-character limit/],
    ['bad state bucket', { stateBucket: 'My_Bucket' }, [], /stateBucket: expected an S3 bucket name.*found "My_Bucket"/],
    ['admin is a user, not a role', { adminRoleArns: ['arn:aws:iam::111122223333:user/alice'] }, [], /adminRoleArns\[0\]: expected an IAM role ARN.*found "arn:aws:iam::111122223333:user\/alice"/],
    ['no admins', { adminRoleArns: [] }, [], /adminRoleArns: expected at least 1 item, found an empty list/],
    ['public endpoint CIDR invalid', { publicEndpointCidrs: ['0.0.0.0'] }, [], /publicEndpointCidrs\[0\]: expected publicEndpointCidrs: an IPv4 CIDR block/],
    ['invalid NAT mode', { natGateways: 'two' }, [], /natGateways: expected one of "one-per-az" \| "single", found "two"/],
    ['retention CloudWatch does not accept', { logRetentionDays: 45 }, [], /logRetentionDays: expected a CloudWatch retention in days: one of 1, 3, 5.*found number 45/],
    ['tag value not a string', { tags: { team: 7 } }, [], /tags.team: expected a string, found number 7/],
    ['system node group not Graviton', { systemNodeGroup: { instanceTypes: ['m7i.large'] } }, [], /systemNodeGroup.instanceTypes\[0\]: expected a Graviton \(arm64\) instance type/],
    ['system node group sizes inverted', { systemNodeGroup: { minSize: 3, desiredSize: 2, maxSize: 4 } }, [], /systemNodeGroup.desiredSize: expected minSize <= desiredSize <= maxSize/],
    ['unknown support type', { supportType: 'standard' }, [], /supportType: expected one of "STANDARD" \| "EXTENDED", found "standard"/],
    ['Spot role flag not a boolean', { createSpotServiceLinkedRole: 'yes' }, [], /createSpotServiceLinkedRole: expected a boolean, found "yes"/],
    ['CI without a repository', { ci: { deployBranch: 'main' } }, [], /ci.githubRepository: expected a string, found nothing \(the field is missing\)/],
    ['CI repository as a URL', { ci: { githubRepository: 'https://github.com/example-org/spark-platform' } }, [], /ci.githubRepository: expected a GitHub repository as owner\/repo.*found "https:\/\/github.com\/example-org\/spark-platform"/],
    ['CI repository with only one immutable id', { ci: { githubRepository: 'example-org@123/spark-platform' } }, [], /ci.githubRepository: expected a GitHub repository as owner\/repo \(or owner@<owner id>\/repo@<repo id>/],
    ['CI deploy branch as a ref', { ci: { githubRepository: 'o/r', deployBranch: 'refs/heads/main' } }, [], /ci.deployBranch: expected a branch name such as main \(no refs\/heads\/ prefix, no wildcards\), found "refs\/heads\/main"/],
    ['CI deploy branch wildcard', { ci: { githubRepository: 'o/r', deployBranch: 'release/*' } }, [], /ci.deployBranch: expected a branch name.*found "release\/\*"/],
    ['CI typo', { ci: { githubRepository: 'o/r', deployBrnach: 'main' } }, [], /ci.deployBrnach: expected no field named "deployBrnach"/],
    ['OIDC provider of another URL', { ci: { githubRepository: 'o/r', oidcProviderArn: 'arn:aws:iam::111122223333:oidc-provider/gitlab.com' } }, [], /ci.oidcProviderArn: expected the ARN of the account's GitHub OIDC provider/],
    [
      'OIDC provider of another account',
      { ci: { githubRepository: 'o/r', oidcProviderArn: 'arn:aws:iam::999988887777:oidc-provider/token.actions.githubusercontent.com' } },
      [],
      /ci.oidcProviderArn: expected an OIDC provider of account 111122223333 \(accountId\), found "arn:aws:iam::999988887777/,
    ],
    [
      'a CI role listed as an admin role',
      { adminRoleArns: ['arn:aws:iam::111122223333:role/platform-admins', 'arn:aws:iam::111122223333:role/spark-dev-github-deploy'] },
      [],
      /adminRoleArns\[1\]: expected a role other than the CI roles \(the cluster stack gives them their own access entries.*found "arn:aws:iam::111122223333:role\/spark-dev-github-deploy"/,
    ],
  ];
  for (const [name, overrides, remove, pattern] of badInputs) {
    it(`rejects ${name}, naming the file and the field`, () => {
      assert.match(problemsFor(overrides, remove), pattern);
    });
  }

  it('accepts CI settings: immutable repository ids, another branch, an existing OIDC provider; and no ci section at all', () => {
    const ci = { githubRepository: 'octo-org@123456/octo-repo@456789', deployBranch: 'release/2026', oidcProviderArn: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com' };
    assert.deepEqual(parseEnvironment({ ...rawEnvironment('dev'), ci }, FILE).ci, ci);
    assert.equal(parseEnvironment({ ...rawEnvironment('dev'), ci: { githubRepository: 'o/r' } }, FILE).ci?.deployBranch, 'main');
    const raw = rawEnvironment('dev');
    delete raw.ci;
    assert.equal(parseEnvironment(raw, FILE).ci, undefined);
    // Without CI roles, any admin role name is fine.
    assert.doesNotThrow(() => parseEnvironment({ ...raw, adminRoleArns: ['arn:aws:iam::111122223333:role/spark-dev-github-deploy'] }, FILE));
  });

  it('reports a misspelt region once, first, without the zone errors that follow from it', () => {
    const lines = problemsFor({ region: 'us-weest-2' }).split('\n');
    assert.deepEqual(lines, ['environments/dev.yaml: region: expected an AWS region such as us-west-2, found "us-weest-2"']);
    // Other checks still run: a bad CIDR in the same file is reported too.
    assert.deepEqual(problemsFor({ region: 'us-weest-2', vpcCidr: '10.10.0.0/24' }).split('\n').map((l) => l.split(':')[1]!.trim()), ['region', 'vpcCidr']);
  });

  it('accepts every AWS region name, new ones and other partitions included', () => {
    for (const region of ['us-east-1', 'ap-southeast-7', 'mx-central-1', 'ap-east-2', 'il-central-1', 'us-gov-west-1', 'us-iso-east-1', 'us-isob-east-1', 'eu-isoe-west-1', 'cn-northwest-1']) {
      const env = parseEnvironment({ ...rawEnvironment('dev'), region, availabilityZones: [`${region}a`, `${region}b`] }, FILE);
      assert.equal(env.region, region);
    }
  });

  it('reports every problem of a file at once', () => {
    const message = problemsFor({ region: 'nowhere', accountId: 'x', natGateways: 'many' });
    assert.equal(message.split('\n').length, 3);
  });

  it('rejects 0.0.0.0/0 as the API endpoint allow-list in prod', () => {
    const raw = { ...rawEnvironment('prod'), publicEndpointCidrs: ['0.0.0.0/0'] };
    assert.throws(() => parseEnvironment(raw, 'environments/prod.yaml'), /environments\/prod\.yaml: publicEndpointCidrs\[0\]: expected specific office or CI CIDRs/);
  });

  it('rejects an environment whose name differs from its file', () => {
    assert.throws(() => parseEnvironment(rawEnvironment('dev'), 'environments/staging.yaml', 'staging'), /environments\/staging\.yaml: name: expected "staging" \(the file name\), found "dev"/);
  });

  it('names a missing environment file', () => {
    assert.throws(() => loadEnvironment(FIXTURE_REPO, 'qa'), /environments\/qa\.yaml: \(file\): expected an environment file for PLATFORM_ENV=qa, found no such file/);
  });
});
