/**
 * Kubernetes versions: the EKS lifecycle table, the defaults that make an upgrade a one-line change,
 * the support-date logic (every date injected), the synth warning and the prod failure past the end
 * of standard support, and `supportType`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from '@jest/globals';
import { DEFAULT_AMI_ALIAS } from '../modules/karpenter/node-classes.js';
import { DEFAULT_KARPENTER_VERSION } from '../modules/karpenter/names.js';
import { karpenterIncompatibility, minimumKarpenterFor } from '../modules/karpenter/compatibility.js';
import {
  al2023Release,
  DEFAULT_KUBERNETES_VERSION,
  EKS_VERSIONS,
  kubernetesMinor,
  SUPPORT_WARNING_DAYS,
  supportStatus,
  supportWarning,
} from '../modules/eks-cluster/versions.js';
import { ConfigError } from '../stacks/lib/config-file.js';
import { DEFAULT_ADDON_VERSIONS, parseEnvironment } from '../stacks/lib/environment.js';
import { evaluationDate } from '../stacks/lib/kubernetes-support.js';
import { rawEnvironment, resourceLike, SOURCE_ROOT, synthStack, temporaryRoot, testEnvironment, type TerraformJson } from './support/synth.js';

const addMonths = (date: string, months: number) => {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.toISOString().slice(0, 10);
};

describe('EKS version table and defaults', () => {
  const versions = Object.keys(EKS_VERSIONS).sort((a, b) => kubernetesMinor(a) - kubernetesMinor(b));

  it('follows the EKS lifecycle rule for every row: 14 months of standard support, then 12 of extended', () => {
    for (const [version, row] of Object.entries(EKS_VERSIONS)) {
      assert.equal(row.endOfStandardSupport, addMonths(row.releasedOnEks, 14), version);
      assert.equal(row.endOfExtendedSupport, addMonths(row.endOfStandardSupport, 12), version);
      assert.match(row.firstAl2023Release, /^v\d{8}$/, version);
    }
  });

  it('defaults to the newest listed version, with add-on defaults for it and for the previous ones (one-line upgrades)', () => {
    assert.equal(DEFAULT_KUBERNETES_VERSION, versions.at(-1));
    assert.equal(DEFAULT_KUBERNETES_VERSION, '1.36');
    for (const version of ['1.33', '1.34', '1.35', '1.36']) assert.ok(DEFAULT_ADDON_VERSIONS[version], `add-on defaults for ${version}`);
    for (const version of Object.keys(DEFAULT_ADDON_VERSIONS)) assert.ok(EKS_VERSIONS[version], `${version} has add-on defaults but no lifecycle row`);
  });

  it('ships a Karpenter version and an AL2023 release that support every version with add-on defaults', () => {
    for (const version of Object.keys(DEFAULT_ADDON_VERSIONS)) {
      assert.equal(karpenterIncompatibility(DEFAULT_KARPENTER_VERSION, version), undefined, `Karpenter ${DEFAULT_KARPENTER_VERSION} on ${version}`);
      assert.ok(al2023Release(DEFAULT_AMI_ALIAS)! >= EKS_VERSIONS[version]!.firstAl2023Release, `${DEFAULT_AMI_ALIAS} ships ${version}`);
    }
  });

  it('moves a cluster one minor version at a time with no other edit: 1.33 -> 1.34 -> 1.35 -> 1.36', () => {
    for (const version of ['1.33', '1.34', '1.35', '1.36']) {
      const env = testEnvironment({ kubernetesVersion: version });
      assert.deepEqual(env.addons, DEFAULT_ADDON_VERSIONS[version]);
    }
    // vpc-cni moves one minor version per step, as AWS recommends.
    const cniMinor = (version: string) => Number(/^v1\.(\d+)\./.exec(DEFAULT_ADDON_VERSIONS[version]!.vpcCni)![1]);
    for (const [from, to] of [['1.33', '1.34'], ['1.34', '1.35'], ['1.35', '1.36']] as const) assert.ok(cniMinor(to) - cniMinor(from) <= 1, `${from} -> ${to}`);
  });

  it('an upgrade from the previous version changes only the cluster version and add-on versions of the cluster stack', () => {
    const before = synthStack('cluster', testEnvironment({}, 'prod'));
    const after = synthStack('cluster', testEnvironment({ kubernetesVersion: '1.36' }, 'prod'));
    const changed: string[] = [];
    const walk = (a: unknown, b: unknown, path: string) => {
      if (JSON.stringify(a) === JSON.stringify(b)) return;
      if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
        for (const key of new Set([...Object.keys(a), ...Object.keys(b as object)])) walk((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`);
      } else {
        changed.push(path);
      }
    };
    walk(before.resource, after.resource, 'resource');
    assert.ok(changed.length > 0);
    for (const path of changed) assert.match(path, /^resource\.(aws_eks_cluster\.[^.]+\.version|aws_eks_addon\.[^.]+\.addon_version)$/, path);
    assert.equal(resourceLike(after, 'aws_eks_cluster', 'cluster').version, '1.36');
  });
});

describe('README', () => {
  const readme = readFileSync(join(SOURCE_ROOT, 'README.md'), 'utf8');

  it('lists the version table of the code, with the default marked', () => {
    const rows = [...readme.matchAll(/^\| (1\.\d+)( \(default\))? \| (\d{4}-\d{2}-\d{2}) \| (\d{4}-\d{2}-\d{2}) \| (\d{4}-\d{2}-\d{2}) \| .* \| >= (1\.\d+) \| (v\d{8}) \|$/gm)];
    assert.deepEqual(
      rows.map((r) => [r[1], Boolean(r[2]), r[3], r[4], r[5], r[6], r[7]]),
      Object.keys(EKS_VERSIONS)
        .sort((a, b) => kubernetesMinor(b) - kubernetesMinor(a))
        .map((v) => {
          const row = EKS_VERSIONS[v]!;
          return [v, v === DEFAULT_KUBERNETES_VERSION, row.releasedOnEks, row.endOfStandardSupport, row.endOfExtendedSupport, minimumKarpenterFor(v), row.firstAl2023Release];
        }),
    );
  });

  it('walks the upgrade runbook with the add-on builds the defaults change', () => {
    const [from, to] = [DEFAULT_ADDON_VERSIONS['1.35']!, DEFAULT_ADDON_VERSIONS['1.36']!];
    const changed = (Object.keys(to) as (keyof typeof to)[]).filter((k) => from[k] !== to[k]);
    assert.deepEqual(changed, ['kubeProxy', 'metricsServer']);
    for (const key of changed) assert.ok(readme.includes(`\`${from[key]}\` ->\n   \`${to[key]}\``) || readme.includes(`\`${from[key]}\` -> \`${to[key]}\``), `runbook names ${key} ${from[key]} -> ${to[key]}`);
    assert.ok(readme.includes(`\`compute.amiAlias\` \`${DEFAULT_AMI_ALIAS}\``));
    assert.ok(readme.includes(`\`compute.karpenterVersion\` ${DEFAULT_KARPENTER_VERSION} supports 1.36`));
  });
});

describe('Karpenter compatibility (upstream matrix)', () => {
  it('names the oldest release per Kubernetes version', () => {
    assert.deepEqual(['1.32', '1.33', '1.34', '1.35', '1.36', '1.37', '1.38'].map(minimumKarpenterFor), ['1.2', '1.5', '1.6', '1.9', '1.13', '1.15', undefined]);
  });

  it('accepts compatible pairs and explains incompatible ones', () => {
    assert.equal(karpenterIncompatibility('1.14.1', '1.36'), undefined);
    assert.equal(karpenterIncompatibility('1.9.0', '1.35'), undefined);
    assert.equal(karpenterIncompatibility('1.20.0', '1.36'), undefined, 'newer than the table: not refused');
    assert.equal(karpenterIncompatibility('1.12.3', '1.36'), 'Karpenter 1.12.x supports Kubernetes up to 1.35 (upstream compatibility matrix); Kubernetes 1.36 needs Karpenter 1.13 or later');
    assert.equal(karpenterIncompatibility('1.14.1', '1.37'), 'Karpenter 1.14.x supports Kubernetes up to 1.36 (upstream compatibility matrix); Kubernetes 1.37 needs Karpenter 1.15 or later');
    assert.equal(karpenterIncompatibility('1.2.0', '1.36'), 'Karpenter 1.2.x supports Kubernetes up to 1.32 (upstream compatibility matrix); Kubernetes 1.36 needs Karpenter 1.13 or later');
    assert.match(karpenterIncompatibility('1.1.0', '1.36')!, /predates the releases upstream documents.*use 1.13 or later/);
  });

  it('refuses an environment whose Karpenter or AMI release cannot run its Kubernetes version, naming the field', () => {
    const compute = (overrides: Record<string, unknown>) => ({ ...rawEnvironment('dev'), compute: overrides });
    assert.throws(
      () => parseEnvironment(compute({ karpenterVersion: '1.12.3' }), 'environments/dev.yaml'),
      /environments\/dev\.yaml: compute\.karpenterVersion: expected a Karpenter version that supports Kubernetes 1\.36 \(configured or default: 1\.12\.3; Karpenter 1\.12\.x supports Kubernetes up to 1\.35.*found "1\.12\.3"/,
    );
    assert.throws(
      () => parseEnvironment(compute({ amiAlias: 'al2023@v20260501' }), 'environments/dev.yaml'),
      /compute\.amiAlias: expected an AL2023 release that ships Kubernetes 1\.36 nodes \(al2023@v20260610 or later; configured or default: al2023@v20260501\), found "al2023@v20260501"/,
    );
    // The same image is fine for 1.35, the previous version.
    assert.doesNotThrow(() => parseEnvironment({ ...compute({ amiAlias: 'al2023@v20260501' }), kubernetesVersion: '1.35' }, 'environments/dev.yaml'));
    // A version upstream has not documented needs a newer Karpenter than the default (and add-on pins).
    assert.throws(() => parseEnvironment({ ...rawEnvironment('dev'), kubernetesVersion: '1.37' }, 'environments/dev.yaml'), /compute\.karpenterVersion: .*needs Karpenter 1\.15 or later/);
  });
});

describe('support dates (injected)', () => {
  it('places a version in its phase on a given day', () => {
    assert.deepEqual(supportStatus('1.36', '2026-12-01'), {
      version: '1.36',
      phase: 'standard',
      basis: '1.36',
      endOfStandardSupport: '2027-08-02',
      endOfExtendedSupport: '2028-08-02',
      daysToEndOfStandardSupport: 244,
    });
    assert.equal(SUPPORT_WARNING_DAYS, 60);
    assert.equal(supportStatus('1.36', '2027-06-02').phase, 'standard', '61 days left');
    assert.equal(supportStatus('1.36', '2027-06-03').phase, 'ending', '60 days left');
    assert.equal(supportStatus('1.36', '2027-08-01').phase, 'ending');
    assert.equal(supportStatus('1.36', '2027-08-02').phase, 'extended', 'extended support is billed from the end day');
    assert.equal(supportStatus('1.36', '2028-08-02').phase, 'ended');
    assert.equal(supportStatus('1.33', '2026-12-01').phase, 'extended');
    assert.deepEqual(supportStatus('1.30', '2026-12-01'), { ...supportStatus('1.32', '2026-12-01'), version: '1.30' });
    assert.deepEqual(supportStatus('1.37', '2026-12-01'), { version: '1.37', phase: 'unknown' });
    assert.throws(() => supportStatus('1.36', '2026-02-30'), /today must be a date written YYYY-MM-DD, found "2026-02-30"/);
  });

  it('words the warning with the date and what the support type makes EKS do', () => {
    assert.equal(supportWarning(supportStatus('1.36', '2026-12-01'), 'STANDARD'), undefined);
    assert.equal(
      supportWarning(supportStatus('1.36', '2027-07-03'), 'STANDARD'),
      'Kubernetes 1.36 leaves EKS standard support on 2027-08-02 (in 30 days): on that day EKS upgrades the control plane to the next version by itself (supportType STANDARD), outside Terraform. Upgrade one minor version at a time (README: "Upgrading Kubernetes and add-ons").',
    );
    assert.match(supportWarning(supportStatus('1.36', '2027-08-01'), 'EXTENDED')!, /on 2027-08-02 \(in 1 day\): from that day the cluster is billed for extended support/);
    assert.match(supportWarning(supportStatus('1.33', '2026-12-01'), 'STANDARD')!, /^Kubernetes 1\.33 left EKS standard support on 2026-07-29: .*cannot be switched to STANDARD until it runs a version in standard support/);
    assert.match(supportWarning(supportStatus('1.33', '2026-12-01'), 'EXTENDED')!, /billed for extended support until it is upgraded; extended support ends on 2027-07-29/);
    assert.match(supportWarning(supportStatus('1.33', '2027-08-01'), 'EXTENDED')!, /left EKS extended support on 2027-07-29/);
    assert.match(supportWarning(supportStatus('1.37', '2026-12-01'), 'STANDARD')!, /no EKS support dates are known.*aws eks describe-cluster-versions --cluster-versions 1\.37/);
  });

  it('takes the date from PLATFORM_TODAY, else the current UTC date, and rejects a bad value', () => {
    assert.equal(evaluationDate({}, new Date('2027-01-02T23:30:00Z')), '2027-01-02');
    assert.equal(evaluationDate({ PLATFORM_TODAY: '2027-03-01' }), '2027-03-01');
    assert.throws(() => evaluationDate({ PLATFORM_TODAY: '1 March 2027' }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, 'PLATFORM_TODAY: (value): expected a date written YYYY-MM-DD, such as 2027-03-01, found "1 March 2027"');
      return true;
    });
  });
});

describe('supportType', () => {
  it('maps to upgrade_policy.support_type, STANDARD by default', () => {
    const cluster = (tf: TerraformJson) => resourceLike(tf, 'aws_eks_cluster', 'cluster').upgrade_policy;
    assert.deepEqual(cluster(synthStack('cluster')), { support_type: 'STANDARD' });
    assert.deepEqual(cluster(synthStack('cluster', testEnvironment({ supportType: 'EXTENDED' }))), { support_type: 'EXTENDED' });
  });
});

describe('synth and the support dates (PLATFORM_TODAY injected)', () => {
  const synth = (root: string, outdir: string, today: string, args: string[] = [], environment = 'dev') =>
    spawnSync(process.execPath, [join(SOURCE_ROOT, 'dist', 'scripts', 'synth.js'), '--root', root, '--outdir', outdir, '--env', environment, ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, PLATFORM_TODAY: today },
    });

  it('warns within 60 days of the end of standard support, also when every stack is up to date', () => {
    const root = temporaryRoot();
    const outdir = join(root, 'out');
    try {
      const early = synth(root, outdir, '2026-12-01');
      assert.equal(early.status, 0, early.stderr);
      assert.doesNotMatch(early.stderr, /warning/);
      // The day the version enters the warning window the stacks are rebuilt (the date-dependent
      // verdict is part of the fingerprint) and the warning names the date.
      const near = synth(root, outdir, '2027-07-01');
      assert.equal(near.status, 0, near.stderr);
      assert.match(near.stdout, /^synthesized [1-9]\d* stack\(s\)/);
      assert.match(near.stderr, /warning: environment "dev": Kubernetes 1\.36 leaves EKS standard support on 2027-08-02 \(in 32 days\)/);
      const again = synth(root, outdir, '2027-07-01');
      assert.match(again.stdout, /^synthesized 0 stack\(s\): every stack of environment "dev" is up to date/);
      assert.match(again.stderr, /warning: environment "dev": Kubernetes 1\.36 leaves EKS standard support on 2027-08-02 \(in 32 days\)/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('fails the prod synth (EKS-006) once the version is past the end of standard support; dev only warns', () => {
    const root = temporaryRoot();
    try {
      // The prod fixture runs 1.35: standard support ends on 2027-03-27.
      const before = synth(root, join(root, 'prod-before'), '2027-03-26', ['--stack', 'cluster'], 'prod');
      assert.equal(before.status, 0, before.stderr);
      assert.match(before.stderr, /warning: environment "prod": Kubernetes 1\.35 leaves EKS standard support on 2027-03-27 \(in 1 day\)/);
      const past = synth(root, join(root, 'prod-past'), '2027-03-27', ['--stack', 'cluster'], 'prod');
      assert.equal(past.status, 1);
      assert.match(past.stderr, /\[EKS-006\] cluster\/aws_eks_cluster\.eks_cluster_[0-9A-F]+: Kubernetes 1\.35 left EKS standard support on 2027-03-27 \(checked on 2027-03-27\) in environment prod\. Fix: Upgrade kubernetesVersion/);
      const dev = synth(root, join(root, 'dev-past'), '2027-08-02', ['--stack', 'cluster']);
      assert.equal(dev.status, 0, dev.stderr);
      assert.match(dev.stderr, /warning: environment "dev": Kubernetes 1\.36 left EKS standard support on 2027-08-02: with supportType STANDARD EKS upgrades the control plane by itself/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('rejects a PLATFORM_TODAY that is not a date, writing nothing', () => {
    const root = temporaryRoot();
    try {
      const result = synth(root, join(root, 'out'), 'tomorrow');
      assert.equal(result.status, 1);
      assert.match(result.stderr, /PLATFORM_TODAY: \(value\): expected a date written YYYY-MM-DD, such as 2027-03-01, found "tomorrow"/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
