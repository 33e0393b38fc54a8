/**
 * The `cdktf` CLI is the user's entry point: pinned, and `cdktf.json` runs the compiled synth, so
 * `npx cdktf list|synth|diff|deploy|destroy|output` see every stack of the selected environment.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { stackDefinitions } from '../stacks/registry.js';
import { SOURCE_ROOT, temporaryRoot, testEnvironment } from './support/synth.js';

describe('cdktf CLI', () => {
  it('is pinned exactly, and cdktf.json runs the compiled synth after an incremental build', () => {
    const pkg = JSON.parse(readFileSync(join(SOURCE_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    assert.equal(pkg.devDependencies['cdktf-cli'], '0.21.0');
    const config = JSON.parse(readFileSync(join(SOURCE_ROOT, 'cdktf.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config.app, 'node node_modules/typescript/bin/tsc -b && node dist/scripts/synth.js');
    assert.equal(config.output, 'cdktf.out');
    assert.equal(config.language, 'typescript');
    // A fixed projectId: otherwise the CLI writes one into cdktf.json (a change in every pull request).
    assert.match(String(config.projectId), /^[0-9a-f-]{36}$/);
    assert.equal(config.sendCrashReports, false);
  });

  it('`cdktf list` synthesizes through the app into the CLI output directory and lists every stack, tenants included', () => {
    const root = temporaryRoot();
    const project = mkdtempSync(join(tmpdir(), 'cdktf-project-'));
    const app = `node ${join(SOURCE_ROOT, 'dist', 'scripts', 'synth.js')} --root ${root}`;
    writeFileSync(join(project, 'cdktf.json'), JSON.stringify({ language: 'typescript', app, projectId: '00000000-0000-4000-8000-000000000000', sendCrashReports: false }));
    const outdir = join(project, 'out');
    // A relative output directory, as users pass it (and short enough that the table is not wrapped).
    const result = spawnSync(join(SOURCE_ROOT, 'node_modules', '.bin', 'cdktf'), ['list', '--output', 'out'], {
      cwd: project,
      encoding: 'utf8',
      env: { ...process.env, CHECKPOINT_DISABLE: '1' },
      timeout: 240_000,
    });
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
    const listed = [...result.stdout.matchAll(/^(\S+)\s+out\/stacks\/\1\s*$/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(stackDefinitions(root, testEnvironment()).map((d) => d.name).sort());
    expect(listed).toContain('tenant-risk-models');
    // The app wrote into the CLI's output directory (CDKTF_OUTDIR), with the guardrail report.
    assert.ok(existsSync(join(outdir, 'stacks', 'tenant-analytics', 'cdk.tf.json')));
    assert.ok(existsSync(join(outdir, 'guardrails.json')));
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { stacks: Record<string, { dependencies: string[] }> };
    expect(manifest.stacks.cluster!.dependencies).toEqual(['account', 'network']);
    assert.equal(existsSync(join(root, 'cdktf.out')), false, 'nothing written to the default output directory');
    rmSync(project, { recursive: true, force: true });
  }, 300_000);

  it('the synth refuses HCL output (the tooling reads cdk.tf.json) and writes nothing', () => {
    const root = temporaryRoot();
    const outdir = join(root, 'out');
    const result = spawnSync(process.execPath, [join(SOURCE_ROOT, 'dist', 'scripts', 'synth.js'), '--root', root], {
      encoding: 'utf8',
      env: { ...process.env, SYNTH_HCL_OUTPUT: 'true', CDKTF_OUTDIR: outdir },
    });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /HCL output \(cdktf synth --hcl\) is not supported/);
    assert.equal(existsSync(outdir), false);
  });
});

