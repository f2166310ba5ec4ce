import { DEPLOYMENT, firstContainer, goodPod, pod, resource, RuleCase } from "./fixtures";

const CONTAINER = "docker:index/container:Container";
const RELEASE = "kubernetes:helm.sh/v3:Release";
/** The good Deployment's pod spec under another workload kind. */
const asKind = (kind: string, spec: (podSpec: any) => void) => {
  const template = structuredClone(goodPod.spec.template);
  spec(template.spec);
  if (kind === "kubernetes:batch/v1:CronJob")
    return resource(kind, { metadata: goodPod.metadata, spec: { jobTemplate: { spec: { template } } } }, "nightly");
  return resource(kind, { metadata: goodPod.metadata, spec: { template } }, kind.split(":").pop());
};
const security = (edit: (sc: any) => void) => pod((p) => edit(firstContainer(p).securityContext));

export const WORKLOAD_CASES: Record<string, RuleCase> = {
  "ports-on-loopback-only": {
    bad: [
      {
        why: "a port on every interface",
        resources: [resource(CONTAINER, { ports: [{ internal: 5432, external: 5432 }] })],
        says: ["port 5432 is published on 0.0.0.0"],
      },
    ],
    good: [
      {
        why: "loopback",
        resources: [resource(CONTAINER, { ports: [{ internal: 5432, external: 15432, ip: "127.0.0.1" }] })],
      },
    ],
  },
  "no-privileged-containers": {
    bad: [
      {
        why: "privileged on the host network",
        resources: [resource(CONTAINER, { privileged: true, networkMode: "host" })],
        says: ["container is privileged", "container uses the host network"],
      },
    ],
    good: [{ why: "its own network", resources: [resource(CONTAINER, { networkMode: "shop-edge" })] }],
  },
  "pinned-images": {
    bad: [
      {
        why: "latest, a bare name, a chart range",
        resources: [
          resource("docker:index/remoteImage:RemoteImage", { name: "prom/prometheus:latest" }, "a"),
          resource(
            DEPLOYMENT,
            pod((p) => (firstContainer(p).image = "repo/orders")),
            "b",
          ),
          resource(RELEASE, { chart: "kong", version: "^2" }, "c"),
          resource(RELEASE, { chart: "loki", version: "6.x" }, "d"),
        ],
        says: [
          "image prom/prometheus:latest is not pinned",
          "container orders: image repo/orders is not pinned",
          "chart kong has no exact version",
          "chart loki has no exact version",
        ],
      },
      {
        why: "a Job's image",
        resources: [asKind("kubernetes:batch/v1:Job", (spec) => (spec.containers[0].image = "postgres"))],
        says: ["container orders: image postgres is not pinned"],
      },
    ],
    good: [
      {
        why: "tags, digests, exact versions in any semver form",
        resources: [
          resource("docker:index/remoteImage:RemoteImage", { name: "localhost:5000/orders:1.0" }, "a"),
          resource(RELEASE, { chart: "kong", version: "2.47.0" }, "b"),
          resource(RELEASE, { chart: "cert-manager", version: "v1.16.1" }, "c"),
          resource(RELEASE, { chart: "kong", version: "2.47.0-rc.1" }, "d"),
          resource(RELEASE, { chart: "kong", version: "1.0.0+build.5" }, "e"),
        ],
      },
    ],
  },
  "container-resource-limits": {
    bad: [
      {
        why: "a container without memory, a StatefulSet without limits",
        resources: [
          resource(CONTAINER, { mustRun: false }, "a"),
          asKind("kubernetes:apps/v1:StatefulSet", (spec) => delete spec.containers[0].resources),
        ],
        says: ["no memory limit", "container orders: no cpu/memory limits"],
      },
    ],
    good: [
      {
        why: "limits set",
        resources: [resource(CONTAINER, { mustRun: false, memory: 256 }), resource(DEPLOYMENT, goodPod)],
      },
    ],
  },
  "health-checks": {
    bad: [
      {
        why: "a service container without a healthcheck, a DaemonSet without readiness",
        resources: [
          resource(CONTAINER, { labels: [{ label: "platform.component", value: "service" }] }, "a"),
          asKind("kubernetes:apps/v1:DaemonSet", (spec) => delete spec.containers[0].readinessProbe),
        ],
        says: ["container without healthcheck", "container orders: missing liveness or readiness probe"],
      },
    ],
    good: [
      {
        why: "healthchecks; a one-shot container and a Job need none",
        resources: [
          resource(CONTAINER, { healthcheck: { tests: ["CMD", "true"] } }, "a"),
          resource(CONTAINER, { mustRun: false }, "b"),
          asKind("kubernetes:batch/v1:Job", (spec) => delete spec.containers[0].livenessProbe),
        ],
      },
    ],
  },
  "pod-security": {
    bad: [
      {
        why: "no pod security context at all",
        resources: [
          resource(
            DEPLOYMENT,
            pod((p) => delete p.spec.template.spec.securityContext),
          ),
        ],
        says: ["container orders: may run as root", "container orders: seccomp profile unset (not RuntimeDefault)"],
      },
      {
        why: "a container's runAsUser 0 overrides the pod's runAsNonRoot",
        resources: [
          resource(
            DEPLOYMENT,
            security((sc) => (sc.runAsUser = 0)),
          ),
        ],
        says: ["container orders: runs as root (runAsUser 0)"],
      },
      {
        why: "a container's runAsNonRoot false overrides the pod's",
        resources: [
          resource(
            DEPLOYMENT,
            security((sc) => (sc.runAsNonRoot = false)),
          ),
        ],
        says: ["container orders: may run as root"],
      },
      {
        why: "privileged, escalating, writable, capabilities added and kept, seccomp off",
        resources: [
          resource(
            DEPLOYMENT,
            security((sc) =>
              Object.assign(sc, {
                privileged: true,
                allowPrivilegeEscalation: true,
                readOnlyRootFilesystem: false,
                capabilities: { add: ["SYS_ADMIN", "NET_BIND_SERVICE"] },
                seccompProfile: { type: "Unconfined" },
              }),
            ),
          ),
        ],
        says: [
          "container orders: writable root filesystem",
          "container orders: privilege escalation allowed",
          "container orders: privileged",
          "container orders: adds capabilities SYS_ADMIN",
          "container orders: does not drop ALL capabilities",
          "container orders: seccomp profile Unconfined (not RuntimeDefault)",
        ],
      },
      {
        why: "the host's namespaces and files, on a StatefulSet",
        resources: [
          asKind("kubernetes:apps/v1:StatefulSet", (spec) =>
            Object.assign(spec, {
              hostNetwork: true,
              hostPID: true,
              hostIPC: true,
              volumes: [{ name: "sock", hostPath: { path: "/var/run/docker.sock" } }],
            }),
          ),
        ],
        says: [
          "pod uses the host network",
          "pod shares the host's process namespace (hostPID)",
          "pod shares the host's IPC namespace (hostIPC)",
          "pod mounts host path /var/run/docker.sock (volume sock)",
        ],
      },
      {
        why: "a CronJob's init container as root",
        resources: [
          asKind("kubernetes:batch/v1:CronJob", (spec) => {
            spec.initContainers = [{ ...structuredClone(spec.containers[0]), name: "migrate" }];
            spec.initContainers[0].securityContext.runAsUser = 0;
          }),
        ],
        says: ["container migrate: runs as root (runAsUser 0)"],
      },
    ],
    good: [
      {
        why: "the hardened pod on every kind, NET_BIND_SERVICE added",
        resources: [
          resource(
            DEPLOYMENT,
            security((sc) => (sc.capabilities.add = ["NET_BIND_SERVICE"])),
          ),
          ...["apps/v1:StatefulSet", "apps/v1:DaemonSet", "batch/v1:Job", "batch/v1:CronJob"].map((kind) =>
            asKind(`kubernetes:${kind}`, () => undefined),
          ),
        ],
      },
    ],
  },
  "service-account-token-not-mounted": {
    bad: [
      {
        why: "a pod mounting the token, and a pod whose account does not refuse it",
        resources: [
          resource(
            DEPLOYMENT,
            pod((p) => (p.spec.template.spec.automountServiceAccountToken = true)),
            "a",
          ),
          asKind("kubernetes:batch/v1:Job", (spec) => {
            delete spec.automountServiceAccountToken;
            spec.serviceAccountName = "migrations";
          }),
        ],
        says: [
          "orders mounts the API token of service account default, which no RoleBinding grants anything",
          "orders mounts the API token of service account migrations, which no RoleBinding grants anything",
        ],
      },
    ],
    good: [
      {
        why: "refused by the pod or its account; mounted where a RoleBinding grants the account something",
        resources: [
          resource(DEPLOYMENT, goodPod, "a"),
          asKind("kubernetes:apps/v1:StatefulSet", (spec) => {
            delete spec.automountServiceAccountToken;
            spec.serviceAccountName = "quiet";
          }),
          resource("kubernetes:core/v1:ServiceAccount", {
            metadata: { name: "quiet", namespace: "shop" },
            automountServiceAccountToken: false,
          }),
          asKind("kubernetes:apps/v1:DaemonSet", (spec) => {
            spec.automountServiceAccountToken = true;
            spec.serviceAccountName = "operator";
          }),
          resource("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", {
            metadata: { name: "operator", namespace: "shop" },
            subjects: [{ kind: "ServiceAccount", name: "operator" }],
          }),
        ],
      },
    ],
  },
};
