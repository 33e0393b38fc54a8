/**
 * Enough of Fluent Bit to check the log routing the platform configures, offline: no Fluent Bit
 * binary or Helm is available here (neither npm nor Debian ships them), so this is hand-written
 * and kept to what the platform relies on, each part following its upstream source:
 *
 * - `renderKubernetesAndCloudWatchSections`: the `[FILTER] kubernetes` and `[OUTPUT]
 *   cloudwatch_logs` sections exactly as aws-for-fluent-bit chart 0.2.0 renders them from its
 *   values (templates/configmap.yaml: the filter's fixed keys, `filter.extraFilters` indented
 *   under it, the output's keys emitted only when the value is set).
 * - `parseClassicConfig`: Fluent Bit's classic configuration format (`[SECTION]` headers, then
 *   indented `Key Value` lines; keys are case-insensitive).
 * - `translate`: the record accessor templates of `log_group_template`/`log_stream_template`
 *   (`$key['sub']["sub"][0]` chains between literal text). Like the `cloudwatch_logs` output's
 *   translation, a reference to a missing key fails the whole template, and the output then uses
 *   `log_group_name` ("if the template translation fails, an error is logged and the
 *   log_group_name is used instead", cloudwatch_logs output documentation).
 * - `kubernetesRecord`: the record shape the kubernetes filter produces (fluent-bit
 *   plugins/filter_kubernetes: `merge_pod_meta` packs pod_name, namespace_name, pod_id, labels,
 *   annotations, host, pod_ip, container_name, docker_id, container_hash, container_image under
 *   "kubernetes"; with `Namespace_Labels On`, `merge_namespace_meta` packs name and labels, which
 *   kubernetes.c appends as the separate top-level key "kubernetes_namespace").
 */

export interface ConfigSection {
  readonly name: string;
  /** Keys lower-cased (Fluent Bit matches them case-insensitively), in file order. */
  readonly entries: readonly (readonly [string, string])[];
}

/** The value of `key` in a section (case-insensitive), or undefined. */
export function entry(section: ConfigSection, key: string): string | undefined {
  return section.entries.find(([k]) => k === key.toLowerCase())?.[1];
}

type Values = Record<string, any>;

function indent(text: string, spaces: number): string {
  return text
    .split('\n')
    .map((line) => (line ? `${' '.repeat(spaces)}${line}` : line))
    .join('\n');
}

/** Helm's truthiness for `{{- if .Values.x }}`: empty strings, false, 0, null and undefined are false. */
const set = (value: unknown): boolean => value !== undefined && value !== null && value !== false && value !== '' && value !== 0;

/** Defaults of the chart's `filter` values (aws-for-fluent-bit 0.2.0 values.yaml). */
export const CHART_FILTER_DEFAULTS: Values = {
  enabled: true,
  match: 'kube.*',
  kubeURL: 'https://kubernetes.default.svc.cluster.local:443',
  mergeLog: 'On',
  mergeLogKey: 'data',
  keepLog: 'On',
  k8sLoggingParser: 'On',
  k8sLoggingExclude: 'On',
  bufferSize: '32k',
};

/** The two sections of the chart's fluent-bit.conf that route container logs, from the release's values over the chart defaults. */
export function renderKubernetesAndCloudWatchSections(values: Values): string {
  const f = { ...CHART_FILTER_DEFAULTS, ...values.filter };
  const cw = values.cloudWatchLogs ?? {};
  const lines: string[] = [];
  lines.push('[FILTER]', '    Name                kubernetes', `    Match               ${f.match}`, `    Kube_URL            ${f.kubeURL}`, `    Merge_Log           ${f.mergeLog}`);
  if (set(f.mergeLogKey)) lines.push(`    Merge_Log_Key       ${f.mergeLogKey}`);
  lines.push(`    Keep_Log            ${f.keepLog}`, `    K8S-Logging.Parser  ${f.k8sLoggingParser}`, `    K8S-Logging.Exclude ${f.k8sLoggingExclude}`, `    Buffer_Size         ${f.bufferSize}`);
  if (set(f.extraFilters)) lines.push(indent(String(f.extraFilters), 4));
  if (set(cw.enabled)) {
    lines.push('[OUTPUT]', '    Name                  cloudwatch_logs', `    Match                 ${cw.match}`, `    region                ${cw.region}`, `    log_group_name        ${cw.logGroupName}`);
    for (const [value, key] of [
      [cw.logGroupTemplate, 'log_group_template'],
      [cw.logStreamName, 'log_stream_name'],
      [cw.logStreamPrefix, 'log_stream_prefix'],
      [cw.logStreamTemplate, 'log_stream_template'],
      [cw.logKey, 'log_key'],
      [cw.logFormat, 'log_format'],
      [cw.roleArn, 'role_arn'],
      [cw.autoCreateGroup, 'auto_create_group'],
      [cw.logRetentionDays, 'log_retention_days'],
    ] as const) {
      if (set(value)) lines.push(`    ${key.padEnd(22)}${value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Parses Fluent Bit's classic configuration format. */
export function parseClassicConfig(text: string): ConfigSection[] {
  const sections: { name: string; entries: [string, string][] }[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const header = /^\[([A-Z_]+)\]$/.exec(line);
    if (header) {
      if (raw !== line) throw new Error(`line ${i + 1}: section headers start at column 1: ${JSON.stringify(raw)}`);
      sections.push({ name: header[1]!, entries: [] });
      return;
    }
    const current = sections.at(-1);
    if (!current) throw new Error(`line ${i + 1}: a key before any section: ${JSON.stringify(raw)}`);
    if (!/^\s+/.test(raw)) throw new Error(`line ${i + 1}: keys are indented under their section: ${JSON.stringify(raw)}`);
    const match = /^(\S+)\s+(.+)$/.exec(line);
    if (!match) throw new Error(`line ${i + 1}: expected "Key Value", found ${JSON.stringify(line)}`);
    current.entries.push([match[1]!.toLowerCase(), match[2]!.trim()]);
  });
  return sections;
}

const REFERENCE = /\$([A-Za-z_][A-Za-z0-9_-]*)((?:\[(?:'[^']*'|"[^"]*"|\d+)\])*)/g;
const SUBKEY = /\[(?:'([^']*)'|"([^"]*)"|(\d+))\]/g;

/** Translates a record accessor template against a record; undefined when a reference is missing. */
export function translate(template: string, record: Record<string, unknown>): string | undefined {
  let failed = false;
  const result = template.replace(REFERENCE, (_, key: string, path: string) => {
    let value: unknown = record[key];
    for (const [, single, double, index] of path.matchAll(SUBKEY)) {
      if (value === null || typeof value !== 'object') {
        value = undefined;
        break;
      }
      value = index !== undefined ? (value as unknown[])[Number(index)] : (value as Record<string, unknown>)[(single ?? double)!];
    }
    if (value === undefined || value === null || typeof value === 'object') {
      failed = true;
      return '';
    }
    return String(value);
  });
  return failed ? undefined : result;
}

/** The log group a record goes to: the translated template, or `log_group_name` when it fails. */
export function logGroupOf(output: ConfigSection, record: Record<string, unknown>): string {
  const template = entry(output, 'log_group_template');
  return (template !== undefined ? translate(template, record) : undefined) ?? entry(output, 'log_group_name')!;
}

export interface PodInfo {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly podLabels?: Record<string, string>;
  /** Labels of the namespace (what the API returns for it). */
  readonly namespaceLabels: Record<string, string>;
}

/** A container log record after the kubernetes filter with `Namespace_Labels On`. */
export function kubernetesRecord(pod: PodInfo): Record<string, unknown> {
  return {
    time: '2026-11-20T10:00:00.000000000Z',
    stream: 'stdout',
    _p: 'F',
    log: 'INFO SparkContext: Running Spark version 3.5.5-amzn-1',
    kubernetes: {
      pod_name: pod.pod,
      namespace_name: pod.namespace,
      pod_id: '6c1e5d0a-0000-4000-8000-000000000001',
      labels: pod.podLabels ?? {},
      annotations: {},
      host: 'ip-10-0-1-23.us-west-2.compute.internal',
      pod_ip: '100.64.12.34',
      container_name: pod.container,
      docker_id: '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0',
      container_hash: 'public.ecr.aws/emr-on-eks/spark/emr-7.12.0@sha256:00',
      container_image: 'public.ecr.aws/emr-on-eks/spark/emr-7.12.0:latest',
    },
    kubernetes_namespace: { name: pod.namespace, labels: pod.namespaceLabels },
  };
}
