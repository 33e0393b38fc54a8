/**
 * Labels EMR on EKS puts on every pod of a job run (job submitter, driver, executors). Showback
 * joins on them: Prometheus through kube-state-metrics (`label_emr_containers_amazonaws_com_job_id`),
 * the CUR export through split cost allocation data, which imports pod labels as cost allocation tags.
 */
export const EMR_JOB_LABELS = {
  jobId: 'emr-containers.amazonaws.com/job.id',
  virtualClusterId: 'emr-containers.amazonaws.com/virtual-cluster-id',
} as const;
