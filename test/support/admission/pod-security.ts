/**
 * Pod Security Admission, `baseline` level, as `k8s.io/pod-security-admission` enforces it on pod
 * creation (`policy/check_*.go`, the checks of the baseline level as of v1.33, the version tenant
 * namespaces pin). Each check lists what it forbids; a pod passes when no check fires.
 *
 * Modelled: the enforce label of the namespace (`privileged` admits everything, `baseline` runs the
 * checks below; `restricted` is not modelled and throws). Not modelled: exemptions (none are
 * configured on EKS), warn/audit labels, workload resources (PSA only warns on those), sysctls made
 * safe after v1.29 (reported as forbidden here, which is stricter).
 */
import type { KubeObject } from './vap.js';

type Json = Record<string, unknown>;

const ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';

/** check_capabilities_baseline.go: capabilities a baseline container may add. */
const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
/** check_seLinuxOptions.go: allowed SELinux types. */
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
/** check_sysctls.go: the safe sysctls (through v1.29). */
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);

function record(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}
function list(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

/** What the baseline level forbids in a pod, one entry per failed check (empty: allowed). */
export function baselineViolations(pod: KubeObject): string[] {
  const spec = record(pod.spec);
  const podContext = record(spec.securityContext);
  const containers = [...list(spec.containers), ...list(spec.initContainers), ...list(spec.ephemeralContainers)];
  const contexts = containers.map((c) => [String(c.name), record(c.securityContext)] as const);
  const problems: string[] = [];
  const fail = (check: string, detail: string[]) => {
    if (detail.length > 0) problems.push(`${check} (${detail.join(', ')})`);
  };

  fail('hostProcess', [record(podContext.windowsOptions).hostProcess === true ? 'pod' : '', ...contexts.filter(([, s]) => record(s.windowsOptions).hostProcess === true).map(([n]) => n)].filter(Boolean));
  fail('host namespaces', (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((f) => spec[f] === true).map((f) => `${f}=true`));
  fail('privileged', contexts.filter(([, s]) => s.privileged === true).map(([n]) => `container "${n}"`));
  fail(
    'non-default capabilities',
    contexts.flatMap(([n, s]) => list(record(s.capabilities).add as unknown).map(String).filter((c) => !BASELINE_CAPABILITIES.has(c)).map((c) => `container "${n}" adds ${c}`)),
  );
  fail('hostPath volumes', list(spec.volumes).filter((v) => v.hostPath !== undefined).map((v) => `volume "${String(v.name)}"`));
  fail(
    'hostPort',
    containers.flatMap((c) => list(c.ports).filter((p) => p.hostPort !== undefined && p.hostPort !== 0).map((p) => `container "${String(c.name)}" uses ${String(p.hostPort)}`)),
  );
  const annotations = record(record(pod.metadata).annotations);
  const appArmor = [
    ...Object.entries(annotations)
      .filter(([k, v]) => k.startsWith('container.apparmor.security.beta.kubernetes.io/') && v !== 'runtime/default' && !String(v).startsWith('localhost/') && v !== '')
      .map(([k, v]) => `${k}="${String(v)}"`),
    ...[['pod', podContext] as const, ...contexts]
      .filter(([, s]) => record(s.appArmorProfile).type === 'Unconfined')
      .map(([n]) => `${n === 'pod' ? 'pod' : `container "${n}"`} appArmorProfile Unconfined`),
  ];
  fail('forbidden AppArmor profile', appArmor);
  fail(
    'seLinuxOptions',
    [['pod', podContext] as const, ...contexts].flatMap(([n, s]) => {
      const options = record(s.seLinuxOptions);
      const bad: string[] = [];
      if (!SELINUX_TYPES.has(String(options.type ?? ''))) bad.push(`${n} type "${String(options.type)}"`);
      if (options.user) bad.push(`${n} user`);
      if (options.role) bad.push(`${n} role`);
      return bad;
    }),
  );
  fail('procMount', contexts.filter(([, s]) => s.procMount !== undefined && s.procMount !== 'Default').map(([n, s]) => `container "${n}" procMount=${String(s.procMount)}`));
  fail(
    'seccompProfile',
    [['pod', podContext] as const, ...contexts].filter(([, s]) => record(s.seccompProfile).type === 'Unconfined').map(([n]) => `${n} seccompProfile Unconfined`),
  );
  fail('forbidden sysctls', list(podContext.sysctls).map((s) => String(s.name)).filter((name) => !SAFE_SYSCTLS.has(name)));
  return problems;
}

/** The PSA decision for a pod created in a namespace: undefined when admitted, else the message. */
export function podSecurityDenial(pod: KubeObject, namespace: KubeObject | undefined): string | undefined {
  const level = namespace?.metadata?.labels?.[ENFORCE_LABEL] ?? 'privileged';
  if (level === 'privileged') return undefined;
  if (level !== 'baseline') throw new Error(`Pod Security level ${level} is not modelled by this harness (only privileged and baseline)`);
  const problems = baselineViolations(pod);
  const version = namespace?.metadata?.labels?.[`${ENFORCE_LABEL}-version`] ?? 'latest';
  return problems.length === 0 ? undefined : `pods "${pod.metadata?.name ?? ''}" is forbidden: violates PodSecurity "baseline:${version}": ${problems.join(', ')}`;
}
