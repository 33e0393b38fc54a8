/**
 * The job defaults of a tenant: every Spark and EMR setting a job needs to get the platform's
 * behaviour, whoever starts it (AWS CLI, SDK, Airflow, Step Functions, `npm run job`, a job
 * template). One pure function builds them as structured classifications (classification ->
 * properties) before anything is serialized, so other capabilities can add a classification or
 * properties in one place; `toConfigurationOverrides` turns them into the StartJobRun
 * `configurationOverrides` shape the tenant stack publishes and the job CLI sends.
 *
 * | concern                  | where                          | what                                                             |
 * |--------------------------|--------------------------------|------------------------------------------------------------------|
 * | placement                | spark-defaults                 | driver and executor pod templates (pod-templates.ts)             |
 * | job submitter            | emr-job-submitter              | on-demand capacity, and the tenant's zone when it pins one       |
 * | executor count           | spark-defaults                 | dynamic allocation with shuffle tracking, min/initial/max        |
 * | disruption of executors  | spark-defaults                 | graceful decommissioning, blocks migrate, fallback storage in S3 |
 * | history                  | spark-defaults                 | event logs in s3://<bucket>/spark-events/                        |
 * | metastore                | spark-defaults                 | Glue Data Catalog and a warehouse in the bucket (Glue tenants)   |
 * | metrics                  | spark-defaults                 | the Prometheus endpoints the platform scrapes                    |
 * | local storage            | spark-defaults                 | per-executor gp3 claims for `ebs` tenants                        |
 * | logs                     | monitoringConfiguration        | CloudWatch group and stream prefix, S3 prefix, persistent UI     |
 */
import { SPARK_PROMETHEUS_CONF } from '../observability/constants.js';
import { WELL_KNOWN } from '../scheduling/spark-pools.js';
import { EXECUTOR_TERMINATION_GRACE_SECONDS, localStorageSparkConf, type PlacementOptions } from './pod-templates.js';

/** Classifications of StartJobRun `applicationConfiguration` the platform writes. */
export const CLASSIFICATIONS = {
  sparkDefaults: 'spark-defaults',
  /** Placement of EMR's job submitter pod (`jobsubmitter.node.selector.<label>`). */
  jobSubmitter: 'emr-job-submitter',
} as const;

/** Key prefixes in the tenant bucket that jobs write to. */
export const JOB_PREFIXES = {
  /** Spark event logs: the persistent Spark UI and any history server read them. */
  eventLogs: 'spark-events/',
  /** Blocks of decommissioned executors that no peer executor could take. */
  fallbackStorage: 'spark-fallback/',
  /** `spark.sql.warehouse.dir` of Glue Data Catalog tenants (managed tables without a location). */
  warehouse: 'warehouse/',
} as const;

/** Glue Data Catalog as the Hive metastore (the client factory EMR ships). */
export const GLUE_CATALOG_FACTORY = 'com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory';

export interface ExecutorBounds {
  /** Executors kept while the job runs (dynamic allocation floor). */
  readonly min: number;
  /** Executors at start. */
  readonly initial: number;
  /** Ceiling of dynamic allocation. */
  readonly max: number;
}

/** @default bounds of a tenant that sets none. */
export const DEFAULT_EXECUTOR_BOUNDS: ExecutorBounds = { min: 1, initial: 1, max: 50 };

export interface TenantJobDefaultsOptions {
  /** Placement of the tenant's pods (zone, capacity, storage...). */
  readonly placement: PlacementOptions;
  /** The tenant's bucket name: event logs, fallback storage, warehouse. */
  readonly bucket: string;
  /** S3 URIs of the pod templates the tenant stack writes. */
  readonly podTemplateUris: { readonly driver: string; readonly executor: string };
  /** CloudWatch log group of the jobs. */
  readonly logGroupName: string;
  /** CloudWatch stream prefix of the jobs. */
  readonly logStreamPrefix: string;
  /** S3 prefix of EMR's job logs. */
  readonly logUri: string;
  /**
   * Dynamic allocation bounds.
   * @default DEFAULT_EXECUTOR_BOUNDS
   */
  readonly executors?: ExecutorBounds;
  /**
   * Use the Glue Data Catalog as the Hive metastore (tenants with Glue databases).
   * @default false
   */
  readonly glueCatalog?: boolean;
}

export interface MonitoringConfiguration {
  persistentAppUI: 'ENABLED' | 'DISABLED';
  cloudWatchMonitoringConfiguration: { logGroupName: string; logStreamNamePrefix: string };
  s3MonitoringConfiguration: { logUri: string };
}

/** The structured job defaults: properties per classification, and monitoring. */
export interface JobDefaults {
  /** Classification -> properties, in publishing order. */
  readonly classifications: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly monitoring: MonitoringConfiguration;
}

/** StartJobRun `configurationOverrides`, as published by the tenant stack (JSON). */
export interface ConfigurationOverrides {
  readonly applicationConfiguration: { classification: string; properties: Record<string, string> }[];
  readonly monitoringConfiguration: MonitoringConfiguration;
}

/** Dynamic allocation: executors scale with the work and keep shuffle data while it is needed. */
export function dynamicAllocationConf(bounds: ExecutorBounds): Record<string, string> {
  return {
    'spark.dynamicAllocation.enabled': 'true',
    // No external shuffle service on Kubernetes: executors holding shuffle data stay until it is unused.
    'spark.dynamicAllocation.shuffleTracking.enabled': 'true',
    'spark.dynamicAllocation.minExecutors': String(bounds.min),
    'spark.dynamicAllocation.initialExecutors': String(bounds.initial),
    'spark.dynamicAllocation.maxExecutors': String(bounds.max),
    'spark.dynamicAllocation.executorIdleTimeout': '60s',
    'spark.dynamicAllocation.shuffleTracking.timeout': '600s',
  };
}

/**
 * Graceful decommissioning. Every executor pool of the platform can take an executor's node away:
 * Spot interruptions, and for every pool consolidation (`WhenEmptyOrUnderutilized`), expiry and
 * drift. So every executor decommissions (not only Spot ones): on SIGTERM Spark's decommission
 * script migrates cached RDD and shuffle blocks to peers, and to `fallbackStorage.path` when no
 * peer can take them, within the executor pod's `terminationGracePeriodSeconds`. The force-kill
 * timeout ends a migration that cannot finish before the kubelet's SIGKILL would.
 */
export function decommissionConf(bucket: string): Record<string, string> {
  return {
    'spark.decommission.enabled': 'true',
    'spark.storage.decommission.enabled': 'true',
    'spark.storage.decommission.rddBlocks.enabled': 'true',
    'spark.storage.decommission.shuffleBlocks.enabled': 'true',
    // Spark writes under <path>/<appId>/<shuffleId>/ and removes the app's folder when it ends.
    'spark.storage.decommission.fallbackStorage.path': `s3://${bucket}/${JOB_PREFIXES.fallbackStorage}`,
    'spark.storage.decommission.fallbackStorage.cleanUp': 'true',
    'spark.executor.decommission.forceKillTimeout': `${EXECUTOR_TERMINATION_GRACE_SECONDS - 30}s`,
  };
}

/** Event logs in the tenant bucket, rolled so long jobs stay readable by a history server. */
export function eventLogConf(bucket: string): Record<string, string> {
  return {
    'spark.eventLog.enabled': 'true',
    'spark.eventLog.dir': `s3://${bucket}/${JOB_PREFIXES.eventLogs}`,
    'spark.eventLog.rolling.enabled': 'true',
    'spark.eventLog.rolling.maxFileSize': '128m',
  };
}

/** Spark SQL with the Glue Data Catalog as its Hive metastore, managed tables in the tenant bucket. */
export function glueCatalogConf(bucket: string): Record<string, string> {
  return {
    'spark.sql.catalogImplementation': 'hive',
    'spark.hadoop.hive.metastore.client.factory.class': GLUE_CATALOG_FACTORY,
    'spark.sql.warehouse.dir': `s3://${bucket}/${JOB_PREFIXES.warehouse}`,
  };
}

/**
 * Placement of EMR's job submitter pod. It is not a Spark pod (no Spark role, so never on the
 * Spark pools): it runs on the on-demand `general` pool, in the job's zone when there is one, so a
 * Spot interruption cannot take the pod that follows the job.
 */
export function jobSubmitterPlacement(zone?: string): Record<string, string> {
  return {
    [`jobsubmitter.node.selector.${WELL_KNOWN.capacityType}`]: 'on-demand',
    ...(zone ? { [`jobsubmitter.node.selector.${WELL_KNOWN.zone}`]: zone } : {}),
  };
}

/** Everything a tenant's jobs run with by default. */
export function tenantJobDefaults(options: TenantJobDefaultsOptions): JobDefaults {
  const { placement, bucket } = options;
  const sparkDefaults: Record<string, string> = {
    'spark.kubernetes.driver.podTemplateFile': options.podTemplateUris.driver,
    'spark.kubernetes.executor.podTemplateFile': options.podTemplateUris.executor,
    ...SPARK_PROMETHEUS_CONF,
    ...localStorageSparkConf(placement.localStorage),
    ...dynamicAllocationConf(options.executors ?? DEFAULT_EXECUTOR_BOUNDS),
    ...decommissionConf(bucket),
    ...eventLogConf(bucket),
    ...(options.glueCatalog ? glueCatalogConf(bucket) : {}),
  };
  return {
    classifications: {
      [CLASSIFICATIONS.sparkDefaults]: sparkDefaults,
      [CLASSIFICATIONS.jobSubmitter]: jobSubmitterPlacement(placement.zone),
    },
    monitoring: {
      persistentAppUI: 'ENABLED',
      cloudWatchMonitoringConfiguration: { logGroupName: options.logGroupName, logStreamNamePrefix: options.logStreamPrefix },
      s3MonitoringConfiguration: { logUri: options.logUri },
    },
  };
}

/** The StartJobRun `configurationOverrides` of a set of job defaults. */
export function toConfigurationOverrides(defaults: JobDefaults): ConfigurationOverrides {
  return {
    applicationConfiguration: Object.entries(defaults.classifications).map(([classification, properties]) => ({ classification, properties: { ...properties } })),
    monitoringConfiguration: {
      persistentAppUI: defaults.monitoring.persistentAppUI,
      cloudWatchMonitoringConfiguration: { ...defaults.monitoring.cloudWatchMonitoringConfiguration },
      s3MonitoringConfiguration: { ...defaults.monitoring.s3MonitoringConfiguration },
    },
  };
}

/** Properties of one classification in `configurationOverrides` (empty when absent). */
export function classificationProperties(overrides: ConfigurationOverrides, classification: string): Record<string, string> {
  return { ...(overrides.applicationConfiguration.find((c) => c.classification === classification)?.properties ?? {}) };
}

/**
 * `overrides` with one classification's properties replaced (appended when absent): how a single
 * job changes a default without rebuilding the rest.
 */
export function withClassification(overrides: ConfigurationOverrides, classification: string, properties: Record<string, string>): ConfigurationOverrides {
  const present = overrides.applicationConfiguration.some((c) => c.classification === classification);
  return {
    applicationConfiguration: present
      ? overrides.applicationConfiguration.map((c) => (c.classification === classification ? { classification, properties } : c))
      : [...overrides.applicationConfiguration, { classification, properties }],
    monitoringConfiguration: overrides.monitoringConfiguration,
  };
}
