/**
 * Grafana dashboards as code: JSON files in `modules/observability/dashboards/` (edit them in
 * Grafana, export "for sharing externally" off, and commit the JSON), each provisioned as a
 * ConfigMap that the Grafana dashboard sidecar discovers by label in any namespace.
 *
 * A dashboard is checked when it is loaded: valid JSON, a unique `uid`, a title, and every
 * Prometheus query (panel targets and `label_values(...)` variables) parses as PromQL and names
 * only metrics listed in metrics.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { MANAGED_BY_LABEL, MANAGED_BY_PLATFORM } from '../scheduling/spark-pools.js';
import { GRAFANA_DASHBOARD_LABEL, GRAFANA_FOLDER, GRAFANA_FOLDER_ANNOTATION, MONITORING_NAMESPACE } from './constants.js';
import { KNOWN_METRICS } from './metrics.js';
import { parsePromQL, substituteGrafanaVariables } from './promql.js';

/** The dashboards the platform ships (file names in the dashboards folder). */
export const DASHBOARD_FILES = ['spark-jobs.json', 'karpenter-capacity.json', 'tenant-quotas.json', 'emr-vertical-autoscaling.json', 'tenant-cost.json'] as const;

/** The dashboards folder: next to this module in the sources, found from the compiled module too. */
export function defaultDashboardsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // Sources: modules/observability/; compiled: dist/modules/observability/ (the JSON stays in the sources).
  const candidates = [join(here, 'dashboards'), join(here, '..', '..', '..', 'modules', 'observability', 'dashboards')];
  const found = candidates.find((dir) => existsSync(join(dir, DASHBOARD_FILES[0])));
  if (!found) throw new Error(`cannot find the dashboards folder (looked in ${candidates.join(', ')})`);
  return found;
}

export interface DashboardQuery {
  /** Where the query is: `panel "<title>" target A` or `variable tenant`. */
  readonly location: string;
  readonly expr: string;
}

export interface Dashboard {
  readonly file: string;
  readonly uid: string;
  readonly title: string;
  /** The JSON text as committed. */
  readonly json: string;
  readonly queries: readonly DashboardQuery[];
}

export class InvalidDashboardError extends Error {
  override name = 'InvalidDashboardError';
}

interface GrafanaPanel {
  readonly title?: string;
  readonly targets?: readonly { readonly refId?: string; readonly expr?: string }[];
  readonly panels?: readonly GrafanaPanel[];
}

interface GrafanaVariable {
  readonly name?: string;
  readonly type?: string;
  readonly query?: string | { readonly query?: string };
}

const LABEL_VALUES = /^\s*label_values\(\s*(.+?)\s*,\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/s;

function collectQueries(model: { panels?: readonly GrafanaPanel[]; templating?: { list?: readonly GrafanaVariable[] } }): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  const walk = (panels: readonly GrafanaPanel[] | undefined) => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? []) {
        if (target.expr !== undefined) queries.push({ location: `panel "${panel.title ?? '(untitled)'}" target ${target.refId ?? '?'}`, expr: target.expr });
      }
      walk(panel.panels);
    }
  };
  walk(model.panels);
  for (const variable of model.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    if (!query) continue;
    const labelValues = LABEL_VALUES.exec(query);
    queries.push({ location: `variable ${variable.name ?? '?'}`, expr: labelValues ? labelValues[1]! : query });
  }
  return queries;
}

/** Parses and checks one dashboard's JSON text; throws InvalidDashboardError naming the file and the query. */
export function checkDashboard(file: string, json: string): Dashboard {
  if (json.includes('${') || json.includes('%{')) {
    throw new InvalidDashboardError(`${file}: contains "\${" or "%{", which Terraform would interpolate; write Grafana variables as $name`);
  }
  let model: { uid?: unknown; title?: unknown; panels?: GrafanaPanel[]; templating?: { list?: GrafanaVariable[] } };
  try {
    model = JSON.parse(json) as typeof model;
  } catch (error) {
    throw new InvalidDashboardError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof model.uid !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(model.uid)) throw new InvalidDashboardError(`${file}: "uid" must be 1-40 characters of A-Z, a-z, 0-9, _ and -`);
  if (typeof model.title !== 'string' || model.title.trim() === '') throw new InvalidDashboardError(`${file}: "title" is missing`);
  const queries = collectQueries(model);
  if (queries.length === 0) throw new InvalidDashboardError(`${file}: has no Prometheus queries`);
  for (const query of queries) {
    let metrics: readonly string[];
    try {
      metrics = parsePromQL(substituteGrafanaVariables(query.expr)).metrics;
    } catch (error) {
      throw new InvalidDashboardError(`${file}: ${query.location}: ${(error as Error).message}`);
    }
    const unknown = metrics.filter((m) => !KNOWN_METRICS.has(m));
    if (unknown.length > 0) {
      throw new InvalidDashboardError(`${file}: ${query.location}: unknown metric(s) ${unknown.join(', ')} (add them to modules/observability/metrics.ts with their source)`);
    }
  }
  return { file, uid: model.uid, title: model.title, json, queries };
}

/** Loads and checks the shipped dashboards. */
export function loadDashboards(dir: string = defaultDashboardsDir(), files: readonly string[] = DASHBOARD_FILES): Dashboard[] {
  const onDisk = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const unlisted = onDisk.filter((f) => !files.includes(f));
  if (unlisted.length > 0) throw new InvalidDashboardError(`dashboard file(s) ${unlisted.join(', ')} in ${dir} are not listed in DASHBOARD_FILES`);
  const dashboards = files.map((file) => checkDashboard(file, readFileSync(join(dir, file), 'utf8')));
  const uids = new Set<string>();
  for (const d of dashboards) {
    if (uids.has(d.uid)) throw new InvalidDashboardError(`${d.file}: uid "${d.uid}" is used by another dashboard`);
    uids.add(d.uid);
  }
  return dashboards;
}

export interface DashboardConfigMapOptions {
  /**
   * Namespace of the ConfigMap (the sidecar searches every namespace).
   * @default MONITORING_NAMESPACE
   */
  readonly namespace?: string;
  /**
   * Grafana folder.
   * @default 'Spark platform'
   */
  readonly folder?: string;
}

/** The ConfigMap that provisions one dashboard. */
export function dashboardConfigMap(dashboard: Dashboard, options: DashboardConfigMapOptions = {}): ConfigMap {
  return new ConfigMap({
    metadata: {
      name: `dashboard-${dashboard.file.replace(/\.json$/, '')}`,
      namespace: options.namespace ?? MONITORING_NAMESPACE,
      labels: { [GRAFANA_DASHBOARD_LABEL.key]: GRAFANA_DASHBOARD_LABEL.value, [MANAGED_BY_LABEL]: MANAGED_BY_PLATFORM },
      annotations: { [GRAFANA_FOLDER_ANNOTATION]: options.folder ?? GRAFANA_FOLDER },
    },
    data: { [dashboard.file]: dashboard.json },
  });
}
