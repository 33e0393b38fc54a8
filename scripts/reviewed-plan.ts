/**
 * reviewed-plan: finds the plans reviewed on the pull request that a commit of main merged, so the
 * deploy can compare them with what it is about to apply (`ci-stacks deploy`).
 *
 *   node dist/scripts/reviewed-plan.js --repository <owner/repo> --sha <commit> --environment <env>
 *     [--workflow plan.yml]
 *
 * Reads the GitHub REST API with GITHUB_TOKEN (or GH_TOKEN) at GITHUB_API_URL (default
 * https://api.github.com); the job needs only `contents: read`, `pull-requests: read` (the pull
 * request of the commit) and `actions: read` (the plan runs and their artifacts):
 *   1. GET /repos/{repo}/commits/{sha}/pulls: the merged pull request whose merge commit is {sha};
 *   2. GET /repos/{repo}/actions/workflows/{workflow}/runs?head_sha=<its head>&event=pull_request:
 *      the plan runs of the pull request's last commit, newest first;
 *   3. GET /repos/{repo}/actions/runs/{id}/artifacts?name=reviewed-plan-<env>: the first run that
 *      has the artifact, not expired.
 * Prints GitHub step outputs: `found=true|false`, `pull-request`, `head-sha`, `run-id`,
 * `artifact` and `reason` (why nothing was found). Nothing found is not an error here: the deploy
 * then refuses every stack that has something to apply. Exit codes: 0 (outputs printed),
 * 1 the API failed (the deploy must not guess), 2 usage error.
 */
import { existsSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** The artifact the plan workflow uploads per environment (`ci-stacks plan --bundle`). */
export const reviewedPlanArtifact = (environment: string) => `reviewed-plan-${environment}`;

export type Fetch = (url: string, init: { headers: Record<string, string> }) => Promise<{ ok: boolean; status: number; json(): Promise<unknown>; text(): Promise<string> }>;

export interface ReviewedPlanLocation {
  readonly found: boolean;
  readonly pullRequest?: number;
  readonly headSha?: string;
  readonly runId?: number;
  readonly artifact: string;
  readonly reason?: string;
}

export class GitHubApiError extends Error {
  override name = 'GitHubApiError';
}

interface Pull {
  number: number;
  merged_at: string | null;
  merge_commit_sha: string | null;
  head: { sha: string };
}

export async function findReviewedPlan(options: { repository: string; sha: string; environment: string; workflow?: string; token: string; apiUrl?: string; fetch?: Fetch }): Promise<ReviewedPlanLocation> {
  const api = (options.apiUrl ?? 'https://api.github.com').replace(/\/$/, '');
  const fetcher: Fetch = options.fetch ?? (globalThis.fetch as unknown as Fetch);
  const artifact = reviewedPlanArtifact(options.environment);
  const get = async <T>(path: string): Promise<T> => {
    let response: Awaited<ReturnType<Fetch>>;
    try {
      response = await fetcher(`${api}/repos/${options.repository}${path}`, {
        headers: { Accept: 'application/vnd.github+json', Authorization: `Bearer ${options.token}`, 'X-GitHub-Api-Version': '2022-11-28' },
      });
    } catch (error) {
      throw new GitHubApiError(`GET ${path} failed: ${(error as Error).message}`);
    }
    if (!response.ok) throw new GitHubApiError(`GET ${path} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
    return (await response.json()) as T;
  };
  const pulls = await get<Pull[]>(`/commits/${options.sha}/pulls`);
  const pull = pulls.find((p) => p.merged_at !== null && p.merge_commit_sha === options.sha);
  if (!pull) return { found: false, artifact, reason: `commit ${options.sha.slice(0, 12)} is not the merge of a pull request (pushed directly?): no plan was reviewed for it` };
  const workflow = options.workflow ?? 'plan.yml';
  const runs = await get<{ workflow_runs: { id: number }[] }>(`/actions/workflows/${workflow}/runs?head_sha=${pull.head.sha}&event=pull_request&per_page=100`);
  for (const run of runs.workflow_runs) {
    const artifacts = await get<{ artifacts: { name: string; expired: boolean }[] }>(`/actions/runs/${run.id}/artifacts?name=${encodeURIComponent(artifact)}`);
    if (artifacts.artifacts.some((a) => a.name === artifact && !a.expired)) {
      return { found: true, pullRequest: pull.number, headSha: pull.head.sha, runId: run.id, artifact };
    }
  }
  return {
    found: false,
    pullRequest: pull.number,
    headSha: pull.head.sha,
    artifact,
    reason: `no ${workflow} run of pull request #${pull.number} (head ${pull.head.sha.slice(0, 12)}) has an unexpired ${artifact} artifact (nothing was planned for ${options.environment}, the plan failed, or the artifact expired: re-run the plan workflow of the pull request)`,
  };
}

export function stepOutputs(location: ReviewedPlanLocation): string {
  const lines = [`found=${location.found}`, `artifact=${location.artifact}`];
  if (location.pullRequest !== undefined) lines.push(`pull-request=${location.pullRequest}`);
  if (location.headSha) lines.push(`head-sha=${location.headSha}`);
  if (location.runId !== undefined) lines.push(`run-id=${location.runId}`);
  if (location.reason) lines.push(`reason=${location.reason.replace(/\n/g, ' ')}`);
  return `${lines.join('\n')}\n`;
}

export const USAGE = 'usage: reviewed-plan --repository <owner/repo> --sha <commit> --environment <env> [--workflow plan.yml]   (GITHUB_TOKEN in the environment)';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export async function main(argv: readonly string[], io: CliIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }, env: NodeJS.ProcessEnv = process.env, fetch?: Fetch): Promise<number> {
  let values;
  try {
    values = parseArgs({ args: [...argv], strict: true, options: { repository: { type: 'string' }, sha: { type: 'string' }, environment: { type: 'string' }, workflow: { type: 'string' } } }).values;
  } catch (error) {
    io.stderr(`reviewed-plan: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const token = env.GITHUB_TOKEN ?? env.GH_TOKEN;
  const problems = [
    !values.repository || !/^[\w.-]+\/[\w.-]+$/.test(values.repository) ? '--repository owner/repo' : '',
    !values.sha || !/^[0-9a-f]{40}$/.test(values.sha) ? '--sha <40-hex commit>' : '',
    !values.environment ? '--environment <env>' : '',
    !token ? 'GITHUB_TOKEN in the environment' : '',
  ].filter(Boolean);
  if (problems.length > 0) {
    io.stderr(`reviewed-plan: missing or invalid ${problems.join(', ')}\n${USAGE}\n`);
    return 2;
  }
  try {
    const location = await findReviewedPlan({
      repository: values.repository!,
      sha: values.sha!,
      environment: values.environment!,
      ...(values.workflow ? { workflow: values.workflow } : {}),
      token: token!,
      ...(env.GITHUB_API_URL ? { apiUrl: env.GITHUB_API_URL } : {}),
      ...(fetch ? { fetch } : {}),
    });
    io.stdout(stepOutputs(location));
    if (!location.found) io.stderr(`reviewed-plan: ${location.reason}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof GitHubApiError)) throw error;
    io.stderr(`reviewed-plan: ${error.message}\n`);
    return 1;
  }
}

const entry = process.argv[1];
if (entry && existsSync(entry) && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  process.exitCode = await main(process.argv.slice(2));
}
