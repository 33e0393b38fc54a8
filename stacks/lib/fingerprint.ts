/**
 * Fingerprints for incremental synth: a stack is re-synthesized only when the code that builds
 * it, or one of its input files, changed since its output was written.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { supportPhaseFingerprint } from './kubernetes-support.js';
import { repositoryRoot } from './repository-root.js';

/** The repository root and its compiled output (`<repo>/dist`), whether this runs compiled or from source. */
const SOURCE_ROOT = repositoryRoot();
const DIST_ROOT = join(SOURCE_ROOT, 'dist');

function collect(dir: string, accept: (file: string) => boolean, into: string[]): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) collect(path, accept, into);
    else if (accept(path)) into.push(path);
  }
}

let codeFingerprintMemo: string | undefined;

/**
 * Everything, besides configuration files, that shapes a stack's output: the compiled modules and
 * stacks, the non-TypeScript assets beside their sources (dashboards), and the locked dependency
 * versions.
 */
export function codeFingerprint(): string {
  if (codeFingerprintMemo) return codeFingerprintMemo;
  const files: string[] = [];
  for (const area of ['modules', 'stacks']) {
    collect(join(DIST_ROOT, area), (f) => f.endsWith('.js'), files);
    collect(join(SOURCE_ROOT, area), (f) => !f.endsWith('.ts'), files);
  }
  files.push(join(SOURCE_ROOT, 'package-lock.json'));
  // Declares the tenant stacks' dependencies, which the synth writes into manifest.json.
  files.push(join(SOURCE_ROOT, 'scripts', 'nx', 'tenant-projects.cjs'));
  const hash = createHash('sha256');
  for (const file of files.sort()) {
    if (!existsSync(file)) continue;
    hash.update(file.slice(SOURCE_ROOT.length)).update('\0').update(readFileSync(file)).update('\0');
  }
  codeFingerprintMemo = hash.digest('hex');
  return codeFingerprintMemo;
}

/**
 * Fingerprint of one stack: code, environment name, stack name, the content of its inputs, and the
 * support phase of the configured Kubernetes version on the evaluation date (the EKS-006 guardrail's
 * verdict changes with the date, not only with the files).
 */
export function stackFingerprint(root: string, environmentName: string, stackName: string, inputs: readonly string[]): string {
  const hash = createHash('sha256').update(codeFingerprint()).update(`\0${environmentName}\0${stackName}\0${supportPhaseFingerprint(root, environmentName)}\0`);
  for (const input of inputs) hash.update(input).update('\0').update(readFileSync(join(root, input))).update('\0');
  return hash.digest('hex');
}

/**
 * Fingerprint of every input of a full synth of one environment: the code, the environment file,
 * every tenant folder's file, and the support phase of the Kubernetes version on the evaluation date. Equal snapshots mean the previous full synth's output (and its
 * validation verdict) still holds, so `npm run synth` can stop before loading any stack code.
 */
function hashFolder(hash: ReturnType<typeof createHash>, folder: string, label: string): void {
  for (const file of readdirSync(folder).sort()) {
    const path = join(folder, file);
    hash.update(`\0${label}/${file}\0`);
    if (statSync(path).isFile()) hash.update(readFileSync(path));
    else if (statSync(path).isDirectory()) hashFolder(hash, path, `${label}/${file}`);
  }
}

export function inputSnapshot(root: string, environmentName: string): string {
  const hash = createHash('sha256').update(codeFingerprint()).update(`\0${environmentName}\0${supportPhaseFingerprint(root, environmentName)}\0`);
  const environmentFile = join(root, 'environments', `${environmentName}.yaml`);
  hash.update(existsSync(environmentFile) ? readFileSync(environmentFile) : '(missing)');
  const tenants = join(root, 'tenants');
  if (existsSync(tenants)) {
    for (const entry of readdirSync(tenants).sort()) {
      const folder = join(tenants, entry);
      if (!statSync(folder).isDirectory()) continue;
      // Every file of a tenant folder counts, job templates in jobs/ included: a stray `tenant.yml`
      // is an error the loader reports.
      hashFolder(hash, folder, entry);
    }
  }
  return hash.digest('hex');
}

/** Fingerprints of the published stacks (incremental synth), next to manifest.json. */
export const FINGERPRINTS_FILE = 'fingerprints.json';

export interface Fingerprints {
  environment: string;
  /** `inputSnapshot` of the last full synth, when it was one. */
  snapshot?: string;
  stacks: Record<string, string>;
}

/**
 * True when the last full synth into `outdir` had exactly these inputs and its output is intact:
 * nothing to validate or build. Cheap: loads no stack code.
 */
export function fullSynthIsCurrent(root: string, environmentName: string, outdir: string): boolean {
  const recorded = readJson<Fingerprints>(join(outdir, FINGERPRINTS_FILE));
  if (!recorded?.snapshot || recorded.environment !== environmentName) return false;
  if (recorded.snapshot !== inputSnapshot(root, environmentName)) return false;
  return Object.keys(recorded.stacks).every((name) => existsSync(join(outdir, 'stacks', name, 'cdk.tf.json')));
}

/** A JSON file's content, or undefined when it is missing or unreadable (treated as no record). */
export function readJson<T>(file: string): T | undefined {
  try {
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
  } catch {
    return undefined;
  }
}

