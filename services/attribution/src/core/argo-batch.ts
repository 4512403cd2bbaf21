// Argo Workflows and AWS Batch: work arrives in containers, so the run has no head process
// on this host. Identity comes from the container/cgroup ids on process.exec and the
// allowlisted environment ids the agent passes through (never other variables):
//   AWS Batch: AWS_BATCH_JOB_ID (`<job>` or `<array job>:<index>`), AWS_BATCH_JOB_ATTEMPT,
//              AWS_BATCH_JQ_NAME, AWS_BATCH_CE_NAME, AWS_BATCH_JOB_ARRAY_INDEX,
//              AWS_BATCH_JOB_MAIN_NODE_INDEX / AWS_BATCH_JOB_NODE_INDEX (multi-node jobs)
//   Argo:      ARGO_WORKFLOW_NAME, ARGO_POD_NAME, ARGO_NODE_ID, ARGO_TEMPLATE (JSON: its name)
// Run = the Argo workflow, or the Batch job (the array job for array children); task = one
// pod / one Batch job (array index, node); step = the Argo template, or the Batch job queue's
// unit of work named after what the container runs.
import type { EngineDetector } from './detector.ts';
import { toolDisplayName } from './tool-rules.ts';
import type { ExecImage } from './types.ts';

function batchIds(image: ExecImage): { run: string; task: string; index: string | null } | null {
  const id = image.env.AWS_BATCH_JOB_ID;
  if (!id) return null;
  const [parent, index = null] = id.split(':');
  return { run: parent!, task: id, index: index ?? image.env.AWS_BATCH_JOB_ARRAY_INDEX ?? null };
}

function argoIds(image: ExecImage): { workflow: string; pod: string; template: string | null } | null {
  const env = image.env;
  const pod = env.ARGO_POD_NAME ?? null;
  let workflow = env.ARGO_WORKFLOW_NAME ?? null;
  let template: string | null = null;
  if (env.ARGO_TEMPLATE) {
    try {
      const t = JSON.parse(env.ARGO_TEMPLATE) as { name?: unknown };
      if (typeof t.name === 'string') template = t.name;
    } catch {
      // A truncated template value still leaves the pod name to go by.
    }
  }
  if (!workflow && !pod) return null;
  if (!workflow && pod) workflow = pod.replace(/-\d+$/, '').replace(/-[a-z0-9]+$/, '');
  if (!template && pod && workflow && pod.startsWith(`${workflow}-`)) {
    // Pod names v2: <workflow>-<template>-<hash>
    template = pod.slice(workflow.length + 1).replace(/-\d+$/, '') || null;
  }
  return { workflow: workflow!, pod: pod ?? env.ARGO_NODE_ID ?? workflow!, template };
}

export const argoBatchDetector: EngineDetector = {
  engine: 'argo',

  matchRun(ctx) {
    const { image } = ctx;
    const argo = argoIds(image);
    if (argo) {
      if (ctx.runs.some((r) => r.id === `argo:${argo.workflow}`)) return null;
      return {
        key: `argo:${argo.workflow}`,
        headless: true,
        pipeline: argo.template ? argo.workflow.replace(/-[a-z0-9]{5}$/, '') : argo.workflow,
        name: argo.workflow,
        attributes: { engine: 'argo', workflow: argo.workflow },
        engineState: { kind: 'argo' },
      };
    }
    const batch = batchIds(image);
    if (batch) {
      if (ctx.runs.some((r) => r.id === `aws-batch:${batch.run}`)) return null;
      const attributes: Record<string, string> = { engine: 'aws-batch', jobId: batch.run };
      if (image.env.AWS_BATCH_JQ_NAME) attributes.jobQueue = image.env.AWS_BATCH_JQ_NAME;
      if (image.env.AWS_BATCH_CE_NAME) attributes.computeEnvironment = image.env.AWS_BATCH_CE_NAME;
      return {
        key: `aws-batch:${batch.run}`,
        headless: true,
        pipeline: image.env.AWS_BATCH_JQ_NAME ?? 'aws-batch',
        name: batch.run,
        attributes,
        engineState: { kind: 'aws-batch' },
      };
    }
    return null;
  },

  matchTask(run, ctx) {
    const { image, proc, tool } = ctx;
    const kind = (run.engineState as { kind: string }).kind;
    // One task per pod / job: the first process seen with its id, unless a parent already is.
    if (kind === 'argo') {
      const argo = argoIds(image);
      if (!argo) return null;
      for (const t of run.tasks.values())
        if (t.engineTaskId === argo.pod && t.endTs === null) return { step: t.stepName, name: t.name, join: t.id };
      return {
        step: argo.template ?? (tool ? toolDisplayName(tool) : 'pod'),
        name: argo.pod,
        engineTaskId: argo.pod,
        attributes: containerAttributes(image),
        provisional: argo.template === null,
      };
    }
    const batch = batchIds(image);
    if (!batch) return null;
    for (const t of run.tasks.values())
      if (t.engineTaskId === batch.task && t.endTs === null) return { step: t.stepName, name: t.name, join: t.id };
    const node = image.env.AWS_BATCH_JOB_NODE_INDEX;
    const attributes = containerAttributes(image);
    if (image.env.AWS_BATCH_JOB_ATTEMPT) attributes.attempt = image.env.AWS_BATCH_JOB_ATTEMPT;
    void proc;
    return {
      step: tool ? toolDisplayName(tool) : 'job',
      name: node !== undefined ? `${batch.task}#${node}` : batch.task,
      engineTaskId: batch.task,
      attributes,
      provisional: true,
    };
  },
};

function containerAttributes(image: ExecImage): Record<string, string> {
  const a: Record<string, string> = {};
  if (image.containerId) a.containerId = image.containerId;
  if (image.cgroupId) a.cgroupId = image.cgroupId;
  return a;
}
