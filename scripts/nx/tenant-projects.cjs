// Nx plugin: every tenants/<name>/tenant.yaml is a project `tenant-<name>` (its own stack and
// Terraform state), with no file to edit anywhere else. Targets come from nx.json targetDefaults.
// Plain CommonJS because Nx loads plugins before anything is compiled.
const { basename, dirname } = require('node:path');

/** Stacks a tenant stack reads state from or needs deployed first. */
const TENANT_DEPENDS_ON = ['workspace', 'cluster', 'capacity', 'tenancy'];

exports.TENANT_DEPENDS_ON = TENANT_DEPENDS_ON;

/**
 * Stacks generated from every tenant file (the YuniKorn queues): deploying a tenant deploys them
 * first, so its queue exists before its jobs run. A task dependency, not a project dependency:
 * project edges would make every tenant "affected" by any tenant change. Nx `affected` finds these
 * stacks through their synth inputs (every tenants/<name>/tenant.yaml) instead.
 */
const TENANT_AGGREGATE_STACKS = ['yunikorn'];

exports.TENANT_AGGREGATE_STACKS = TENANT_AGGREGATE_STACKS;

exports.createNodes = [
  'tenants/*/tenant.yaml',
  (files) =>
    files.map((file) => {
      const root = dirname(file);
      return [
        file,
        {
          projects: {
            [root]: {
              name: `tenant-${basename(root)}`,
              projectType: 'application',
              tags: ['layer:tenant', 'providers:aws+kubernetes'],
              implicitDependencies: TENANT_DEPENDS_ON,
              targets: {
                synth: {},
                diff: {},
                deploy: { dependsOn: ['synth', '^deploy', { projects: TENANT_AGGREGATE_STACKS, target: 'deploy' }] },
                destroy: {},
              },
            },
          },
        },
      ];
    }),
];
