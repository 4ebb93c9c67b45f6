// Validates a JSON list of Kubernetes custom resources against the upstream CRD schemas packaged by
// @kubernetes-models; prints a JSON list of {index, kind, name, error} (empty when all pass).
import { readFileSync } from "node:fs";

const MODELS = {
  "argoproj.io/v1alpha1/Application": "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application",
  "argoproj.io/v1alpha1/ApplicationSet": "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/ApplicationSet",
  "argoproj.io/v1alpha1/AppProject": "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject",
  "argoproj.io/v1alpha1/Rollout": "@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout",
  "argoproj.io/v1alpha1/AnalysisTemplate": "@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate",
  "monitoring.coreos.com/v1/ServiceMonitor": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor",
  "monitoring.coreos.com/v1/PodMonitor": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor",
  "monitoring.coreos.com/v1/Probe": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Probe",
  "monitoring.coreos.com/v1/PrometheusRule": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule",
};

const objects = JSON.parse(readFileSync(process.argv[2], "utf8"));
const errors = [];
for (const [index, obj] of objects.entries()) {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const name = obj.metadata?.name ?? "";
  const path = MODELS[key];
  if (!path) {
    errors.push({ index, kind: obj.kind, name, error: `no packaged schema for ${key}` });
    continue;
  }
  const module = await import(path);
  try {
    new module[obj.kind](obj).validate();
  } catch (err) {
    errors.push({ index, kind: obj.kind, name, error: String(err.message ?? err) });
  }
}
process.stdout.write(JSON.stringify(errors));
