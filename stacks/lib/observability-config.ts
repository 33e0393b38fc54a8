/**
 * The `observability` section of an environment file: Prometheus retention and volume, the AMP
 * remote-write option, Grafana admin password rotation and alert thresholds. Every field has a
 * default, so an environment file only lists what it changes.
 */
import { z } from 'zod';
import type { AlertThresholds } from '../../modules/observability/rules.js';

const percent = (what: string, min: number, fallback: number) =>
  z.number().int().min(min).max(100).default(fallback).describe(`${what} (percent).`);

const AlertsSchema = z
  .strictObject({
    tenantQuotaPercent: percent('Alert when a tenant uses more than this share of a ResourceQuota limit', 50, 90),
    podPendingMinutes: z.number().int().min(1).max(1440).default(15).describe('Alert when a pod has been Pending for longer than this (minutes).'),
    karpenterLaunchFailuresPer15m: z
      .number()
      .int()
      .min(1)
      .default(10)
      .describe('Alert when more instance offerings than this failed to launch within 15 minutes (per zone, capacity type and reason).'),
    interruptionsPer15m: z
      .number()
      .int()
      .min(1)
      .default(5)
      .describe('Alert when more interruption notices than this (Spot interruptions, scheduled changes, capacity reservation reclaims) arrive within 15 minutes.'),
    nodePoolLimitPercent: percent('Alert when a NodePool uses more than this share of its CPU limit', 50, 90),
    prometheusVolumeFreePercent: z.number().int().min(5).max(50).default(15).describe("Alert when Prometheus' volume has less free space than this (percent)."),
  })
  .describe('Thresholds of the platform alerts (PrometheusRule spark-platform).');

export const ObservabilitySchema = z
  .strictObject({
    prometheusRetention: z
      .string()
      .regex(/^[1-9][0-9]*(h|d|w|y)$/, 'a Prometheus retention such as 15d (a whole number of h, d, w or y)')
      .default('15d')
      .describe('How long Prometheus keeps samples (a size limit of 85% of the volume applies too).'),
    prometheusStorageSize: z
      .string()
      .regex(/^[1-9][0-9]*Gi$/, 'a volume size such as 100Gi (a whole number of Gi)')
      .refine((size) => Number(size.slice(0, -2)) >= 20 && Number(size.slice(0, -2)) <= 16384, 'a volume size between 20Gi and 16384Gi')
      .default('100Gi')
      .describe("Size of Prometheus' gp3 volume."),
    ampRemoteWrite: z
      .boolean()
      .default(false)
      .describe('Create an Amazon Managed Service for Prometheus workspace and remote-write every sample to it (SigV4, Pod Identity).'),
    grafanaAdminPasswordVersion: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe('Bump to generate a new Grafana admin password (apply observability-infra, then observability).'),
    alerts: AlertsSchema.default(() => AlertsSchema.parse({})),
  })
  .describe('Prometheus, Grafana, alerts, logs and the AMP remote-write option.');

export type ObservabilitySettings = z.output<typeof ObservabilitySchema>;

/** The alert thresholds of the rules module, from the environment's percentages. */
export function alertThresholds(settings: ObservabilitySettings): AlertThresholds {
  const a = settings.alerts;
  return {
    tenantQuotaRatio: a.tenantQuotaPercent / 100,
    podPendingMinutes: a.podPendingMinutes,
    launchFailuresPer15m: a.karpenterLaunchFailuresPer15m,
    interruptionsPer15m: a.interruptionsPer15m,
    nodePoolLimitRatio: a.nodePoolLimitPercent / 100,
    prometheusVolumeFreeRatio: a.prometheusVolumeFreePercent / 100,
  };
}
