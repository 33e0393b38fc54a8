/**
 * The admission harness itself (test/support/admission/): that the CEL engine behaves as cel-go
 * where the policies depend on it, that expressions the API server would reject are rejected, and
 * that policies are matched and evaluated by the API server's rules. Synthetic policies, so each
 * rule is shown in isolation; the platform's own policies are replayed in tenant-isolation.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from '@jest/globals';
import { CelCompileError, compileCel, lazyVariables, toCel } from './support/admission/cel.js';
import { authorize, type AccessEntry } from './support/admission/authorizer.js';
import { connectionAllowed } from './support/admission/network-policy.js';
import { baselineViolations } from './support/admission/pod-security.js';
import { quotaDenial, quotaMatchesPod } from './support/admission/quota.js';
import { evaluatePolicies, type AdmissionAttributes, type KubeObject } from './support/admission/vap.js';

const NONE = { object: null, oldObject: null, request: null, namespaceObject: null };
const evaluate = (expression: string, activation: Record<string, unknown> = {}) => compileCel(expression).evaluate({ ...NONE, ...activation });
const fails = (expression: string, activation: Record<string, unknown> = {}) => assert.throws(() => evaluate(expression, activation));

describe('CEL engine: the cel-go behaviours the policies rely on', () => {
  const object = toCel({ metadata: { name: 'p', labels: { a: 'b' } }, spec: { replicas: 3, list: [2, { k: 1 }] } });

  it('absorbs errors in || and && and in all/exists, as cel-go (cel-spec: logical operators are commutative over errors)', () => {
    assert.equal(evaluate('object.metadata.missing || true', { object }), true);
    assert.equal(evaluate('object.metadata.missing && false', { object }), false);
    fails('object.metadata.missing || false', { object });
    assert.equal(evaluate('object.spec.list.exists(e, e.k == 1)', { object }), true);
    assert.equal(evaluate('object.spec.list.all(e, e.k == 2)', { object }), false);
    fails('object.spec.list.all(e, e.k == 1)', { object });
  });

  it('tests presence with has() and optionals, and errors on a missing key', () => {
    assert.equal(evaluate('has(object.metadata.labels)', { object }), true);
    assert.equal(evaluate('has(object.spec.nodeName)', { object }), false);
    assert.equal(evaluate("object.spec.?nodeName.orValue('') == ''", { object }), true);
    assert.equal(evaluate("object.metadata.?labels[?'a'].orValue('') == 'b'", { object }), true);
    assert.equal(evaluate("object.metadata.?labels[?'z'].hasValue()", { object }), false);
    assert.equal(evaluate('oldObject == null'), true);
    fails('object.spec.nodeName', { object });
  });

  it('types JSON integers as int (the API server converts objects to unstructured)', () => {
    assert.equal(evaluate('object.spec.replicas + 1 == 4', { object }), true);
    assert.equal(evaluate('size(object.metadata.labels)', { object }), 1n);
  });

  it('reads arrays from another realm as lists (structuredClone under jest)', () => {
    const cloned = toCel(structuredClone({ items: [{ key: 'x' }] }));
    assert.equal(evaluate("object.items.all(t, t.key == 'x') && size(object.items) == 1", { object: cloned }), true);
  });

  it('evaluates variables lazily: a failing variable only fails where it is used, and || absorbs it', () => {
    const base = { ...NONE, object };
    const variables = lazyVariables(
      [
        { name: 'broken', expression: 'object.metadata.missing' },
        { name: 'name', expression: 'object.metadata.name' },
        { name: 'loud', expression: "variables.name + '!'" },
      ],
      base,
    );
    assert.equal(compileCel("variables.loud == 'p!'").evaluate({ ...base, variables }), true);
    assert.equal(compileCel('variables.broken || true').evaluate({ ...base, variables }), true);
    assert.throws(() => compileCel("variables.broken == 'x'").evaluate({ ...base, variables }));
    assert.throws(() => lazyVariables([{ name: 'early', expression: 'variables.late' }, { name: 'late', expression: '1' }], base), CelCompileError);
  });
});

describe('CEL compile check: what the API server would reject is rejected', () => {
  it.each([
    ['cel.bind(x, 1, x == 1)', /cel\.bind is not in the API server's CEL environment/],
    ["object.metadata.name.matches('^a')", /not evaluated faithfully.*RE2/],
    ["object.metadata.name.lowerAscii() == 'a'", /not evaluated faithfully/],
    ["request.userName == 'x'", /request has no field "userName"/],
    ["request.userInfo.name == 'x'", /request has no field "name" \(request\.userInfo\.name\)/],
    ["namespaceObject.metadata.label == 'x'", /namespaceObject has no field "label"/],
    ["authorizer.group('').check('get').allowed()", /does not type-check/],
    ['object.spec.(', /does not parse/],
  ])('%s', (expression, error) => {
    assert.throws(() => compileCel(expression), (e: unknown) => e instanceof CelCompileError && error.test(e.message));
  });

  it('accepts comprehension variables named like namespaces and the typed fields that exist', () => {
    assert.doesNotThrow(() => compileCel("[{'a': 1}].all(optional, optional.a == 1) && request.userInfo.?groups.orValue([]).exists(g, g.startsWith('x'))"));
  });
});

const pod = (namespace: string, labels: Record<string, string> = {}, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace, labels },
  spec: { containers: [{ name: 'c', image: 'i:1' }], ...spec },
});

function attributes(overrides: Partial<AdmissionAttributes> & Pick<AdmissionAttributes, 'operation'>): AdmissionAttributes {
  return {
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    subResource: '',
    name: 'p',
    namespace: 'team',
    userInfo: { username: 'alice', groups: ['system:authenticated'] },
    object: null,
    oldObject: null,
    ...overrides,
  };
}

const NAMESPACES: Record<string, KubeObject> = {
  team: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', labels: { tenant: 'yes' } } },
  other: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other', labels: {} } },
};
const lookup = (name: string) => NAMESPACES[name];

function vap(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name }, spec: { failurePolicy: 'Fail', ...spec } };
}
function binding(policyName: string, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name: `${policyName}-binding` }, spec: { policyName, validationActions: ['Deny'], ...spec } };
}
const POD_RULE = { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['pods'] };
const DENY_ALL = [{ expression: 'false', message: 'no' }];

function denied(policy: KubeObject, a: AdmissionAttributes, b: KubeObject = binding(policy.metadata!.name!)): string[] {
  return evaluatePolicies([policy], [b], a, lookup).denials.map((d) => d.message);
}

describe('policy matching, as the API server matches', () => {
  it('distinguishes pods from pods/binding, and pods/* matches both', () => {
    const bindingRequest = attributes({ operation: 'CREATE', subResource: 'binding', object: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p', namespace: 'team' } } });
    assert.deepEqual(denied(vap('pods', { matchConstraints: { resourceRules: [POD_RULE] }, validations: DENY_ALL }), bindingRequest), []);
    const star = vap('pods-star', { matchConstraints: { resourceRules: [{ ...POD_RULE, resources: ['pods/*'] }] }, validations: DENY_ALL });
    assert.equal(denied(star, bindingRequest).length, 1);
    assert.equal(denied(star, attributes({ operation: 'CREATE', object: pod('team') })).length, 1);
  });

  it('matches objectSelector on the new or the old object (null on CREATE and DELETE never matches)', () => {
    const policy = vap('labelled', { matchConstraints: { resourceRules: [POD_RULE], objectSelector: { matchLabels: { owned: 'yes' } } }, validations: DENY_ALL });
    assert.equal(denied(policy, attributes({ operation: 'CREATE', object: pod('team', { owned: 'yes' }) })).length, 1);
    assert.equal(denied(policy, attributes({ operation: 'UPDATE', object: pod('team'), oldObject: pod('team', { owned: 'yes' }) })).length, 1);
    assert.equal(denied(policy, attributes({ operation: 'DELETE', oldObject: pod('team', { owned: 'yes' }) })).length, 1);
    assert.equal(denied(policy, attributes({ operation: 'DELETE', oldObject: pod('team') })).length, 0);
  });

  it('applies namespaceSelector to namespaced objects, never exempts cluster-scoped ones, and matches a Namespace on its own labels', () => {
    const policy = vap('scoped', { matchConstraints: { resourceRules: [{ apiGroups: ['*'], apiVersions: ['*'], operations: ['*'], resources: ['*'] }] }, validations: DENY_ALL });
    const tenantsOnly = binding('scoped', { matchResources: { namespaceSelector: { matchLabels: { tenant: 'yes' } } } });
    assert.equal(denied(policy, attributes({ operation: 'CREATE', object: pod('team') }), tenantsOnly).length, 1);
    assert.equal(denied(policy, attributes({ operation: 'CREATE', namespace: 'other', object: pod('other') }), tenantsOnly).length, 0);
    const priorityClass = { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'x' } };
    const clusterScoped = attributes({ operation: 'CREATE', namespace: '', resource: { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' }, object: priorityClass });
    assert.equal(denied(policy, clusterScoped, tenantsOnly).length, 1);
    const newNamespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fresh', labels: {} } };
    assert.equal(denied(policy, attributes({ operation: 'CREATE', namespace: 'fresh', resource: { group: '', version: 'v1', resource: 'namespaces' }, object: newNamespace }), tenantsOnly).length, 0);
  });

  it('never applies policies to the admission policy resources themselves', () => {
    const policy = vap('everything', { matchConstraints: { resourceRules: [{ apiGroups: ['*'], apiVersions: ['*'], operations: ['*'], resources: ['*'] }] }, validations: DENY_ALL });
    const a = attributes({ operation: 'DELETE', namespace: '', resource: { group: 'admissionregistration.k8s.io', version: 'v1', resource: 'validatingadmissionpolicies' }, oldObject: policy });
    assert.deepEqual(denied(policy, a), []);
  });
});

describe('policy evaluation, as the API server evaluates', () => {
  const create = attributes({ operation: 'CREATE', object: pod('team') });

  it('skips the policy when a match condition is false, even if another errors', () => {
    const policy = vap('conditions', {
      matchConstraints: { resourceRules: [POD_RULE] },
      matchConditions: [
        { name: 'broken', expression: 'object.metadata.missing' },
        { name: 'never', expression: 'false' },
      ],
      validations: DENY_ALL,
    });
    assert.deepEqual(denied(policy, create), []);
  });

  it('denies on a match condition error under Fail, and skips under Ignore', () => {
    const spec = { matchConstraints: { resourceRules: [POD_RULE] }, matchConditions: [{ name: 'broken', expression: 'object.metadata.missing' }], validations: DENY_ALL };
    assert.match(denied(vap('fail', spec), create)[0]!, /expression 'object\.metadata\.missing' resulted in error: No such key/);
    assert.deepEqual(denied(vap('ignore', { ...spec, failurePolicy: 'Ignore' }), create), []);
  });

  it('gives match conditions no namespaceObject, and validations the namespace', () => {
    const policy = vap('ns', {
      matchConstraints: { resourceRules: [POD_RULE] },
      matchConditions: [{ name: 'no-namespace-object', expression: 'namespaceObject == null' }],
      validations: [{ expression: "namespaceObject.metadata.labels.tenant != 'yes'", message: 'tenant namespace' }],
    });
    assert.deepEqual(denied(policy, create), ["ValidatingAdmissionPolicy 'ns' with binding 'ns-binding' denied request: tenant namespace"]);
  });

  it('passes null object on DELETE and null oldObject on CREATE, and omits empty request fields', () => {
    const policy = vap('nulls', {
      matchConstraints: { resourceRules: [POD_RULE, { apiGroups: ['scheduling.k8s.io'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['priorityclasses'] }] },
      validations: [{ expression: "request.operation == 'CREATE' ? oldObject == null && object != null : object == null && oldObject != null" }, { expression: "has(request.namespace) == (request.?namespace.orValue('') != '')" }],
    });
    assert.deepEqual(denied(policy, create), []);
    assert.deepEqual(denied(policy, attributes({ operation: 'DELETE', oldObject: pod('team') })), []);
    const clusterScoped = attributes({ operation: 'CREATE', namespace: '', resource: { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' }, object: { kind: 'PriorityClass', metadata: { name: 'x' } } });
    const missingNamespace = vap('namespace-field', { matchConstraints: { resourceRules: [{ apiGroups: ['*'], apiVersions: ['*'], operations: ['*'], resources: ['*'] }] }, validations: [{ expression: "request.namespace == ''" }] });
    assert.match(denied(missingNamespace, clusterScoped)[0]!, /resulted in error: No such key: namespace/);
  });

  it('denies every validation that is not exactly true; errors deny under Fail and admit under Ignore', () => {
    const spec = { matchConstraints: { resourceRules: [POD_RULE] }, validations: [{ expression: 'object.spec.missing == 1' }] };
    assert.match(denied(vap('error', spec), create)[0]!, /resulted in error/);
    assert.deepEqual(denied(vap('error-ignored', { ...spec, failurePolicy: 'Ignore' }), create), []);
    assert.deepEqual(denied(vap('string', { matchConstraints: { resourceRules: [POD_RULE] }, validations: [{ expression: "'true'" }] }), create), [
      "ValidatingAdmissionPolicy 'string' with binding 'string-binding' denied request: failed expression: 'true'",
    ]);
  });

  it('takes the message from messageExpression, else message, else the expression', () => {
    const withBoth = vap('messages', {
      matchConstraints: { resourceRules: [POD_RULE] },
      validations: [
        { expression: 'false', message: 'static', messageExpression: "'pod ' + object.metadata.name + ' refused'" },
        { expression: 'false', message: 'static when the expression fails', messageExpression: 'object.metadata.missing' },
        { expression: 'false', message: 'static when the expression is blank', messageExpression: "' '" },
      ],
    });
    assert.deepEqual(
      denied(withBoth, create).map((m) => m.replace(/^.*denied request: /, '')),
      ['pod p refused', 'static when the expression fails', 'static when the expression is blank'],
    );
  });

  it('only rejects for Deny bindings (Warn and Audit report)', () => {
    const policy = vap('warn', { matchConstraints: { resourceRules: [POD_RULE] }, validations: DENY_ALL });
    const result = evaluatePolicies([policy], [binding('warn', { validationActions: ['Warn', 'Audit'] })], create, lookup);
    assert.deepEqual(result.denials, []);
    assert.deepEqual(result.reported.map((r) => r.action), ['Warn', 'Audit']);
  });

  it('refuses what it does not model instead of evaluating it wrongly', () => {
    assert.throws(() => denied(vap('params', { paramKind: { apiVersion: 'v1', kind: 'ConfigMap' }, matchConstraints: { resourceRules: [POD_RULE] }, validations: DENY_ALL }), create), /paramKind is not modelled/);
    assert.throws(() => denied(vap('vars', { matchConstraints: { resourceRules: [POD_RULE] }, validations: [{ expression: 'variables.nope' }] }), create), /undeclared variables\.nope/);
  });
});

describe('Pod Security baseline checks', () => {
  const spec = (extra: Record<string, unknown>) => pod('team', {}, extra);
  it('admits a plain pod and one with baseline-allowed settings', () => {
    assert.deepEqual(baselineViolations(pod('team')), []);
    assert.deepEqual(
      baselineViolations(spec({ securityContext: { fsGroup: 65534, sysctls: [{ name: 'net.ipv4.tcp_keepalive_time', value: '60' }] }, containers: [{ name: 'c', securityContext: { capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } } }] })),
      [],
    );
  });

  it.each([
    ['hostNetwork', { hostNetwork: true }, /host namespaces/],
    ['hostPID', { hostPID: true }, /host namespaces/],
    ['privileged', { containers: [{ name: 'c', securityContext: { privileged: true } }] }, /privileged/],
    ['privileged init container', { initContainers: [{ name: 'i', securityContext: { privileged: true } }], containers: [{ name: 'c' }] }, /privileged \(container "i"\)/],
    ['capability', { containers: [{ name: 'c', securityContext: { capabilities: { add: ['NET_ADMIN'] } } }] }, /non-default capabilities/],
    ['hostPath', { volumes: [{ name: 'v', hostPath: { path: '/var/run' } }] }, /hostPath volumes/],
    ['hostPort', { containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 80 }] }] }, /hostPort/],
    ['seccomp', { securityContext: { seccompProfile: { type: 'Unconfined' } } }, /seccompProfile/],
    ['SELinux', { securityContext: { seLinuxOptions: { type: 'spc_t' } } }, /seLinuxOptions/],
    ['procMount', { containers: [{ name: 'c', securityContext: { procMount: 'Unmasked' } }] }, /procMount/],
    ['sysctl', { securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }] } }, /forbidden sysctls/],
  ])('forbids %s', (_, extra, problem) => {
    const problems = baselineViolations(spec(extra));
    assert.equal(problems.length, 1, problems.join('; '));
    assert.match(problems[0]!, problem);
  });
});

describe('ResourceQuota PriorityClass scopes', () => {
  const quota = (matchExpressions: unknown[], pods = '0'): KubeObject => ({ kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { pods }, scopeSelector: { matchExpressions } } });
  const withClass = (priorityClassName?: string) => pod('team', {}, priorityClassName ? { priorityClassName } : {});

  it('treats Exists as "names a class" and NotIn as a selector over the class name (so NotIn matches no class)', () => {
    assert.equal(quotaMatchesPod(quota([{ scopeName: 'PriorityClass', operator: 'Exists' }]), withClass()), false);
    assert.equal(quotaMatchesPod(quota([{ scopeName: 'PriorityClass', operator: 'NotIn', values: ['a'] }]), withClass()), true);
    assert.equal(quotaMatchesPod(quota([{ scopeName: 'PriorityClass', operator: 'In', values: ['a'] }]), withClass('a')), true);
  });

  it('counts matching non-terminated pods against the hard limit', () => {
    const q = quota([{ scopeName: 'PriorityClass', operator: 'In', values: ['a'] }], '1');
    assert.equal(quotaDenial(withClass('a'), [q], []), undefined);
    assert.match(quotaDenial(withClass('a'), [q], [withClass('a')])!, /exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1/);
    assert.equal(quotaDenial(withClass('a'), [q], [{ ...withClass('a'), status: { phase: 'Failed' } }, withClass('b')]), undefined);
  });
});

describe('NetworkPolicy semantics', () => {
  const np = (name: string, spec: Record<string, unknown>): KubeObject => ({ kind: 'NetworkPolicy', metadata: { name, namespace: 'team' }, spec });
  const labels = (name: string) => ({ 'kubernetes.io/metadata.name': name });
  const from = { pod: { namespace: 'team', labels: { app: 'a' } } };

  it('leaves pods no policy selects open, and isolates selected pods to the union of the rules', () => {
    assert.equal(connectionAllowed({ from, to: { ip: '10.0.0.1' }, port: 5432 }, [], labels).allowed, true);
    const deny = np('deny', { podSelector: {}, policyTypes: ['Egress'] });
    assert.equal(connectionAllowed({ from, to: { ip: '10.0.0.1' }, port: 5432 }, [deny], labels).allowed, false);
    const allowDb = np('db', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.0/24'] } }], ports: [{ port: 5432 }] }] });
    assert.deepEqual(connectionAllowed({ from, to: { ip: '10.1.0.1' }, port: 5432 }, [deny, allowDb], labels), { allowed: true, egress: ['db'] });
    assert.equal(connectionAllowed({ from, to: { ip: '10.0.0.1' }, port: 5432 }, [deny, allowDb], labels).allowed, false, 'except');
    assert.equal(connectionAllowed({ from, to: { ip: '10.1.0.1' }, port: 5432, protocol: 'UDP' }, [deny, allowDb], labels).allowed, false, 'protocol');
    const allowAll = np('all', { podSelector: {}, policyTypes: ['Egress'], egress: [{}] });
    assert.equal(connectionAllowed({ from, to: { ip: '10.0.0.1' }, port: 22 }, [deny, allowAll], labels).allowed, true, 'additive');
  });
});

describe('EKS access entry authorization', () => {
  const entries: AccessEntry[] = [{ username: 'team-user', policy: 'AmazonEKSEditPolicy', namespaces: ['team'] }];
  it('allows Edit verbs in the scoped namespace only, and nothing cluster-scoped', () => {
    assert.equal(authorize(entries, 'team-user', { verb: 'create', group: 'networking.k8s.io', resource: 'networkpolicies', namespace: 'team' }), 'allow');
    assert.equal(authorize(entries, 'team-user', { verb: 'impersonate', group: '', resource: 'serviceaccounts', namespace: 'team' }), 'allow');
    assert.equal(authorize(entries, 'team-user', { verb: 'update', group: '', resource: 'resourcequotas', namespace: 'team' }), 'deny');
    assert.equal(authorize(entries, 'team-user', { verb: 'create', group: '', resource: 'pods/binding', namespace: 'team' }), 'deny');
    assert.equal(authorize(entries, 'team-user', { verb: 'create', group: '', resource: 'pods', namespace: 'other' }), 'deny');
    assert.equal(authorize(entries, 'team-user', { verb: 'delete', group: 'scheduling.k8s.io', resource: 'priorityclasses', namespace: '' }), 'deny');
    assert.equal(authorize(entries, 'system:serviceaccount:team:x', { verb: 'create', group: '', resource: 'pods', namespace: 'team' }), 'not-modelled');
  });
});
