// Nx plugin: every tenants/<name>/tenant.yaml is a project `tenant-<name>` (its own stack and
// Terraform state), with no file to edit anywhere else. Targets come from nx.json targetDefaults.
// Plain CommonJS because Nx loads plugins before anything is compiled.
const { basename, dirname } = require('node:path');

/**
 * Stacks a tenant stack reads state from or needs deployed first (`observability`: the
 * PrometheusRule CRD of a tenant's cost budget).
 */
const TENANT_DEPENDS_ON = ['workspace', 'cluster', 'capacity', 'observability', 'tenancy'];

exports.TENANT_DEPENDS_ON = TENANT_DEPENDS_ON;

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
              targets: { synth: {}, diff: {}, deploy: {}, destroy: {} },
            },
          },
        },
      ];
    }),
];
