import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { DEFAULT_POOL_SETTINGS } from '../modules/karpenter/node-pools.js';
import { ConfigError } from '../stacks/lib/config-file.js';
import { defaultCompute } from '../stacks/lib/compute-config.js';
import { loadEnvironment, parseEnvironment } from '../stacks/lib/environment.js';
import { FIXTURE_REPO, rawEnvironment } from './support/synth.js';

const FILE = 'environments/dev.yaml';

function problemsFor(compute: unknown): string {
  try {
    parseEnvironment({ ...rawEnvironment('dev'), compute }, FILE);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.message;
  }
  assert.fail(`expected compute ${JSON.stringify(compute)} to be rejected`);
}

describe('environment: compute section', () => {
  it('defaults every field (dev lists none)', () => {
    const dev = loadEnvironment(FIXTURE_REPO, 'dev');
    assert.equal(dev.compute.executorDisruptionFreeze, undefined);
    assert.deepEqual(dev.compute, defaultCompute());
    assert.deepEqual(dev.compute, {
      karpenterVersion: '1.14.1',
      amiAlias: 'al2023@v20260714',
      spotEnabled: true,
      instanceCategories: ['c', 'm', 'r'],
      instanceFamilies: [],
      minInstanceGeneration: 6,
      instanceCpu: { min: 4, max: 96 },
      maxPods: 110,
      disruptionBudget: '10%',
      pools: DEFAULT_POOL_SETTINGS,
    });
  });

  it('merges partial settings with the defaults, field by field (prod)', () => {
    const prod = loadEnvironment(FIXTURE_REPO, 'prod');
    assert.deepEqual(prod.compute.executorDisruptionFreeze, { schedule: '0 13 * * 1-5', duration: '10h', reasons: ['Underutilized', 'Drifted'] });
    assert.deepEqual(prod.compute.pools.sparkExecutor, { ...DEFAULT_POOL_SETTINGS.sparkExecutor, limits: { cpu: 4000, memory: '16000Gi' } });
    assert.deepEqual(prod.compute.pools.general, DEFAULT_POOL_SETTINGS.general);
    const partial = parseEnvironment({ ...rawEnvironment('dev'), compute: { pools: { sparkDriver: { limits: { cpu: 7 } } } } }, FILE);
    assert.deepEqual(partial.compute.pools.sparkDriver.limits, { cpu: 7, memory: DEFAULT_POOL_SETTINGS.sparkDriver.limits.memory });
  });

  const bad: [string, unknown, RegExp][] = [
    ['AMI alias @latest', { amiAlias: 'al2023@latest' }, /environments\/dev\.yaml: compute\.amiAlias: expected a pinned AL2023 AMI alias such as al2023@v20260714 \(not @latest.*found "al2023@latest"/],
    ['Bottlerocket alias', { amiAlias: 'bottlerocket@1.20.0' }, /compute\.amiAlias: expected a pinned AL2023 AMI alias/],
    ['inexact Karpenter version', { karpenterVersion: '1.14' }, /compute\.karpenterVersion: expected an exact Karpenter version such as 1\.14\.1, found "1\.14"/],
    ['Spot as a string', { spotEnabled: 'yes' }, /compute\.spotEnabled: expected a boolean, found "yes"/],
    ['negative CPU limit', { pools: { sparkExecutor: { limits: { cpu: -5 } } } }, /compute\.pools\.sparkExecutor\.limits\.cpu: expected a number > 0, found number -5/],
    ['fractional CPU limit', { pools: { general: { limits: { cpu: 1.5 } } } }, /compute\.pools\.general\.limits\.cpu: expected a int(eger)?, found number 1\.5|compute\.pools\.general\.limits\.cpu: expected .*integer/],
    ['memory in GB', { pools: { sparkDriver: { limits: { memory: '400GB' } } } }, /compute\.pools\.sparkDriver\.limits\.memory: expected a memory quantity such as 4000Gi.*found "400GB"/],
    ['negative memory', { pools: { sparkDriver: { limits: { memory: '-4Gi' } } } }, /compute\.pools\.sparkDriver\.limits\.memory: expected a memory quantity/],
    ['expireAfter in days', { pools: { sparkDriver: { expireAfter: '30d' } } }, /compute\.pools\.sparkDriver\.expireAfter: expected a duration such as 720h \(units h, m, s\), or Never, found "30d"/],
    ['terminationGracePeriod Never', { pools: { sparkExecutor: { terminationGracePeriod: 'Never' } } }, /compute\.pools\.sparkExecutor\.terminationGracePeriod: expected a duration such as 24h \(units h, m, s\), found "Never"/],
    ['unknown pool (typo)', { pools: { sparkExecutors: {} } }, /compute\.pools\.sparkExecutors: expected no field named "sparkExecutors"/],
    ['unknown compute field', { spot: true }, /compute\.spot: expected no field named "spot"/],
    ['freeze with a bad schedule', { executorDisruptionFreeze: { schedule: '0 25 * * *', duration: '10h' } }, /compute\.executorDisruptionFreeze\.schedule: expected a five-field cron schedule in UTC.*found "0 25 \* \* \*"/],
    ['freeze with seconds', { executorDisruptionFreeze: { schedule: '0 8 * * 1-5', duration: '36000s' } }, /compute\.executorDisruptionFreeze\.duration: expected a positive duration in hours and minutes such as 10h or 1h30m, found "36000s"/],
    ['freeze of zero length', { executorDisruptionFreeze: { schedule: '0 8 * * 1-5', duration: '0h' } }, /compute\.executorDisruptionFreeze\.duration: expected a positive duration/],
    ['freeze without duration', { executorDisruptionFreeze: { schedule: '0 8 * * 1-5' } }, /compute\.executorDisruptionFreeze\.duration: expected a string, found nothing/],
    ['freeze reason unknown', { executorDisruptionFreeze: { schedule: '@daily', duration: '1h', reasons: ['Expired'] } }, /compute\.executorDisruptionFreeze\.reasons\[0\]: expected one of "Underutilized" \| "Empty" \| "Drifted", found "Expired"/],
    ['budget above 100%', { disruptionBudget: '150%' }, /compute\.disruptionBudget: expected a node count or a percentage such as 10%, found "150%"/],
    ['instance size range inverted', { instanceCpu: { min: 64, max: 8 } }, /compute\.instanceCpu\.min: expected a minimum no larger than instanceCpu\.max \(8\)/],
    ['no instance category', { instanceCategories: [] }, /compute\.instanceCategories: expected at least 1 item, found an empty list/],
    ['instance type instead of category', { instanceCategories: ['m5.large'] }, /compute\.instanceCategories\[0\]: expected an EC2 instance category such as c, m or r, found "m5\.large"/],
    ['duplicate category', { instanceCategories: ['c', 'm', 'c'] }, /compute\.instanceCategories\[2\]: expected each value listed once, found "c"/],
    ['instance type instead of family', { instanceFamilies: ['m7gd.xlarge'] }, /compute\.instanceFamilies\[0\]: expected an EC2 instance family such as m7gd or c6id, found "m7gd\.xlarge"/],
    ['max pods too high', { maxPods: 737 }, /compute\.maxPods: expected a number <= 250, found number 737/],
  ];
  for (const [what, compute, message] of bad) {
    it(`rejects ${what}, naming the file and the field`, () => {
      assert.match(problemsFor(compute), message);
    });
  }
});
