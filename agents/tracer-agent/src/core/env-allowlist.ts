// The environment is never collected (DESIGN.md section 4) except a fixed allowlist of names
// that tie a process to its scheduler, engine or cloud job. Values are bounded and redacted.
import { redactText } from './redact.ts';

export const ENV_ALLOWLIST: ReadonlySet<string> = new Set([
  // AWS Batch
  'AWS_BATCH_JOB_ID',
  'AWS_BATCH_JOB_ATTEMPT',
  'AWS_BATCH_JOB_ARRAY_INDEX',
  'AWS_BATCH_JQ_NAME',
  'AWS_BATCH_CE_NAME',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  // Nextflow and Snakemake
  'NXF_TASK_WORKDIR',
  'NXF_EXECUTOR',
  'SNAKEMAKE_PROFILE',
  // HPC schedulers
  'SLURM_JOB_ID',
  'SLURM_JOB_NAME',
  'SLURM_ARRAY_JOB_ID',
  'SLURM_ARRAY_TASK_ID',
  'PBS_JOBID',
  'PBS_JOBNAME',
  'LSB_JOBID',
  'LSB_JOBNAME',
  'JOB_ID',
  'SGE_TASK_ID',
  // Argo Workflows
  'ARGO_WORKFLOW_NAME',
  'ARGO_NODE_ID',
  'ARGO_POD_NAME',
  'ARGO_CONTAINER_NAME',
  // Labels a user sets for us
  'TRACER_PIPELINE',
  'TRACER_RUN',
]);

const MAX_VALUE_CHARS = 1024;

/** Keeps allowlisted names only; accepts a parsed record or raw `NAME=value` entries. */
export function allowlistEnv(env: Record<string, string> | readonly string[]): Record<string, string> | undefined {
  const entries = Array.isArray(env)
    ? (env as readonly string[]).map((kv) => {
        const eq = kv.indexOf('=');
        return eq < 0 ? [kv, ''] : [kv.slice(0, eq), kv.slice(eq + 1)];
      })
    : Object.entries(env);
  const out: Record<string, string> = {};
  let any = false;
  for (const [name, value] of entries) {
    if (name === undefined || value === undefined || !ENV_ALLOWLIST.has(name)) continue;
    out[name] = redactText(value.slice(0, MAX_VALUE_CHARS)).text;
    any = true;
  }
  return any ? out : undefined;
}
