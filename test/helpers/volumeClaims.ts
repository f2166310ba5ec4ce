import { RecordedResource, ofType } from "../../tools/mockRun";

/** One persistent volume a resource asks for, and the StorageClass it names (undefined: none, the cluster's default). */
export interface VolumeClaim {
  resource: RecordedResource;
  /** Where the claim is declared: the release or workload and the value's path. */
  where: string;
  storageClass: unknown;
}

type ChartClaims = (values: any) => Array<{ path: string; storageClass: unknown }>;

/** A claim template as the Prometheus operator's CRs take it (`storage.volumeClaimTemplate`), if one is set. */
const operatorStorage = (path: string, storage: any) =>
  storage?.volumeClaimTemplate ? [{ path, storageClass: storage.volumeClaimTemplate.spec?.storageClassName }] : [];

/**
 * Per chart the platform installs, at the pinned version, the volumes our values make it claim.
 * A chart missing here fails the walk: whoever adds one decides what it claims.
 */
const CHART_CLAIMS: Record<string, ChartClaims> = {
  // 65.8.1 passes storageSpec and alertmanagerSpec.storage to the operator as they are
  // (templates/prometheus/prometheus.yaml:265-267, templates/alertmanager/alertmanager.yaml:100-102);
  // Grafana 8.5.x claims only with persistence.enabled (templates/pvc.yaml:1), default false.
  "kube-prometheus-stack": (v) => [
    ...operatorStorage("prometheus.prometheusSpec.storageSpec", v.prometheus?.prometheusSpec?.storageSpec),
    ...operatorStorage("alertmanager.alertmanagerSpec.storage", v.alertmanager?.alertmanagerSpec?.storage),
    ...(v.grafana?.persistence?.enabled
      ? [{ path: "grafana.persistence.storageClassName", storageClass: v.grafana.persistence.storageClassName }]
      : []),
  ],
  // 6.18.0: singleBinary.persistence.enabled defaults to true; templates/single-binary/statefulset.yaml:267-268
  // writes storageClassName from singleBinary.persistence.storageClass.
  loki: (v) =>
    v.singleBinary?.persistence?.enabled === false
      ? []
      : [{ path: "singleBinary.persistence.storageClass", storageClass: v.singleBinary?.persistence?.storageClass }],
  // Elastic's 8.5.1 charts write volumeClaimTemplate as the claim's spec when persistence.enabled
  // (elasticsearch/templates/statefulset.yaml:25-43, default true; logstash/templates/statefulset.yaml:24-33, default false).
  elasticsearch: (v) =>
    v.persistence?.enabled === false
      ? []
      : [{ path: "volumeClaimTemplate.storageClassName", storageClass: v.volumeClaimTemplate?.storageClassName }],
  logstash: (v) =>
    v.persistence?.enabled
      ? [{ path: "volumeClaimTemplate.storageClassName", storageClass: v.volumeClaimTemplate?.storageClassName }]
      : [],
  // No volume claims in their templates at the pinned versions (Jaeger keeps traces in memory;
  // cert-manager keeps its state in the API server; cluster-autoscaler 9.59.0 is one Deployment
  // mounting host paths only for the magnum provider, templates/deployment.yaml).
  kong: () => [],
  promtail: () => [],
  jaeger: () => [],
  kibana: () => [],
  filebeat: () => [],
  "cert-manager": () => [],
  "cluster-autoscaler": () => [],
};

/** Every volume the program's Helm releases, StatefulSets, PersistentVolumeClaims and RabbitmqClusters ask for. */
export function volumeClaims(resources: RecordedResource[]): VolumeClaim[] {
  const fromCharts = ofType(resources, "kubernetes:helm.sh/v3:Release").flatMap((release) => {
    const chart = String(release.inputs.chart).split("/").pop()!;
    const claims = CHART_CLAIMS[chart];
    if (!claims) throw new Error(`chart ${chart}: say in CHART_CLAIMS which volumes it claims`);
    return claims(release.inputs.values).map(({ path, storageClass }) => ({
      resource: release,
      where: `${release.inputs.name}: ${path}`,
      storageClass,
    }));
  });
  const fromStatefulSets = ofType(resources, "kubernetes:apps/v1:StatefulSet").flatMap((set) =>
    (set.inputs.spec.volumeClaimTemplates ?? []).map((template: any) => ({
      resource: set,
      where: `StatefulSet ${set.inputs.metadata.name}: ${template.metadata.name}`,
      storageClass: template.spec.storageClassName,
    })),
  );
  const fromClaims = ofType(resources, "kubernetes:core/v1:PersistentVolumeClaim").map((claim) => ({
    resource: claim,
    where: `PersistentVolumeClaim ${claim.inputs.metadata?.name ?? claim.name}`,
    storageClass: claim.inputs.spec.storageClassName,
  }));
  // cluster-operator 2.22.3, internal/resource/statefulset.go:307: each node's claim "persistence"
  // takes spec.persistence.storageClassName (none when storage is 0, an emptyDir instead).
  const fromRabbitmqClusters = ofType(resources, "kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster")
    .filter((cluster) => !/^0[A-Za-z]*$/.test(String(cluster.inputs.spec.persistence?.storage ?? "10Gi")))
    .map((cluster) => ({
      resource: cluster,
      where: `RabbitmqCluster ${cluster.inputs.metadata.name}: persistence.storageClassName`,
      storageClass: cluster.inputs.spec.persistence?.storageClassName,
    }));
  return [...fromCharts, ...fromStatefulSets, ...fromClaims, ...fromRabbitmqClusters];
}
