/**
 * Job-run notification rules, evaluated by an EventBridge engine in `npm run e2e`: sample
 * "EMR Job Run State Change" events, shaped as EMR on EKS sends them, are put on a probe bus of the
 * emulator (`events:PutEvents`) and a probe rule there, holding each deployed rule's pattern (read
 * back from the emulator), must route exactly those it should to a probe queue (moto 5.2.1 does not
 * implement `events:TestEventPattern`, and cannot deliver to the deployed rule's SNS target). The pure part lives here: which rules to check and which sample events must match.
 * (Moved out of jest, which must not need Python; jest keeps the exact pattern assertion.)
 */
import { EMR_CONTAINERS_EVENT_SOURCE, JOB_RUN_STATE_CHANGE } from '../../modules/emr-on-eks/job-notifications.js';

type Blocks = Record<string, Record<string, Record<string, unknown>>>;

export interface JobRunRule {
  /** `<stack>/aws_cloudwatch_event_rule.<id>` */
  readonly address: string;
  /** The rule's name on the default bus. */
  readonly name: string;
}

/** Rules of a synthesized stack whose pattern selects EMR on EKS job-run state changes. */
export function jobRunRules(stack: string, json: { resource?: Blocks }): JobRunRule[] {
  return Object.entries(json.resource?.aws_cloudwatch_event_rule ?? {}).flatMap(([id, body]) => {
    let pattern: { source?: unknown; 'detail-type'?: unknown } = {};
    try {
      pattern = JSON.parse(String(body.event_pattern ?? '{}')) as typeof pattern;
    } catch {
      return [];
    }
    const selects = Array.isArray(pattern.source) && pattern.source.includes(EMR_CONTAINERS_EVENT_SOURCE) && Array.isArray(pattern['detail-type']) && pattern['detail-type'].includes(JOB_RUN_STATE_CHANGE);
    return selects && typeof body.name === 'string' ? [{ address: `${stack}/aws_cloudwatch_event_rule.${id}`, name: body.name }] : [];
  });
}

export interface SampleEvent {
  readonly label: string;
  readonly event: Record<string, unknown>;
  readonly shouldMatch: boolean;
}

const ALL_STATES = ['PENDING', 'SUBMITTED', 'RUNNING', 'FAILED', 'CANCELLED', 'CANCEL_PENDING', 'COMPLETED'];

/**
 * Sample events for a job-run pattern (`detail.virtualClusterId`, `detail.state`): one per state
 * it names (must match), one per other state, one of another virtual cluster and one from another
 * source (must not).
 */
export function jobRunSampleEvents(pattern: unknown, scope: { accountId: string; region: string }): SampleEvent[] {
  const detail = (pattern as { detail?: { virtualClusterId?: unknown; state?: unknown } }).detail ?? {};
  const ids = Array.isArray(detail.virtualClusterId) ? detail.virtualClusterId.map(String) : [];
  const states = Array.isArray(detail.state) ? detail.state.map(String) : [];
  if (ids.length !== 1 || states.length === 0) throw new Error(`not a job-run pattern of one virtual cluster with states: ${JSON.stringify(pattern)}`);
  const mine = ids[0]!;
  let runs = 0;
  // Each sample its own job-run id (detail.id), so a delivered event tells which sample it was.
  const event = (virtualClusterId: string, state: string, source = EMR_CONTAINERS_EVENT_SOURCE) => {
    const jobRunId = `00000000e2e${String(++runs).padStart(8, '0')}`;
    return {
      version: '0',
      id: `e2e-${jobRunId}`,
      'detail-type': JOB_RUN_STATE_CHANGE,
      source,
      account: scope.accountId,
      time: '2026-11-20T10:00:00Z',
      region: scope.region,
      resources: [`arn:aws:emr-containers:${scope.region}:${scope.accountId}:/virtualclusters/${virtualClusterId}/jobruns/${jobRunId}`],
      detail: { severity: state === 'FAILED' ? 'ERROR' : 'INFO', name: 'daily-var', id: jobRunId, virtualClusterId, state, releaseLabel: 'emr-7.12.0-latest', stateDetails: `JobRun ${state}` },
    };
  };
  const other = `${mine.slice(0, -1)}${mine.endsWith('0') ? '1' : '0'}`;
  return [
    ...states.map((state) => ({ label: `${state} of its virtual cluster`, event: event(mine, state), shouldMatch: true })),
    ...ALL_STATES.filter((s) => !states.includes(s)).map((state) => ({ label: `${state} of its virtual cluster`, event: event(mine, state), shouldMatch: false })),
    { label: `${states[0]} of another virtual cluster`, event: event(other, states[0]!), shouldMatch: false },
    { label: `${states[0]} from source aws.emr`, event: event(mine, states[0]!, 'aws.emr'), shouldMatch: false },
  ];
}
