import { ResourceRule, unmet } from "../rule";
import { containersOf, podSpec, WORKLOADS } from "./workloads";

/** The one capability a container may add: binding a port below 1024. */
const ALLOWED_CAPABILITIES = new Set(["NET_BIND_SERVICE"]);
const CONFINED_SECCOMP = new Set(["RuntimeDefault", "Localhost"]);

/** What the pod as a whole may not do: share the node's namespaces or mount its files. */
function podProblems(spec: Record<string, any>): string[] {
  return unmet([
    [!spec.hostNetwork, "pod uses the host network"],
    [!spec.hostPID, "pod shares the host's process namespace (hostPID)"],
    [!spec.hostIPC, "pod shares the host's IPC namespace (hostIPC)"],
    ...(spec.volumes ?? [])
      .filter((v: any) => v.hostPath)
      .map((v: any): [boolean, string] => [false, `pod mounts host path ${v.hostPath.path} (volume ${v.name})`]),
  ]);
}

/** A container's own settings, where set, override the pod's (the API's precedence). */
function containerProblems(container: Record<string, any>, pod: Record<string, any>): string[] {
  const sc = container.securityContext ?? {};
  const runAsUser = sc.runAsUser ?? pod.runAsUser;
  const runAsNonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
  const seccomp = (sc.seccompProfile ?? pod.seccompProfile)?.type;
  const added = (sc.capabilities?.add ?? []).filter((c: string) => !ALLOWED_CAPABILITIES.has(c));
  return unmet([
    [runAsUser !== 0, "runs as root (runAsUser 0)"],
    [runAsUser === 0 || runAsNonRoot === true, "may run as root"],
    [sc.readOnlyRootFilesystem === true, "writable root filesystem"],
    [sc.allowPrivilegeEscalation === false, "privilege escalation allowed"],
    [!sc.privileged, "privileged"],
    [added.length === 0, `adds capabilities ${added.join(", ")}`],
    [(sc.capabilities?.drop ?? []).includes("ALL"), "does not drop ALL capabilities"],
    [CONFINED_SECCOMP.has(seccomp), `seccomp profile ${seccomp ?? "unset"} (not RuntimeDefault)`],
  ]).map((problem) => `container ${container.name}: ${problem}`);
}

export const podSecurity: ResourceRule = {
  kind: "resource",
  name: "pod-security",
  description:
    "Pods of every workload kind (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod) run as non-root (no runAsUser 0), with a read-only root filesystem, no privilege escalation, not privileged, dropping ALL capabilities and adding none but NET_BIND_SERVICE, under the RuntimeDefault seccomp profile, without the host's network, PID or IPC namespaces or host paths; a container's settings override its pod's.",
  severity: "critical",
  remediation:
    "Set runAsNonRoot (and a non-zero runAsUser), seccompProfile RuntimeDefault, readOnlyRootFilesystem, allowPrivilegeEscalation: false, capabilities.drop [ALL]; drop privileged, hostNetwork/hostPID/hostIPC and hostPath volumes",
  types: WORKLOADS,
  check: (props, type) => {
    const spec = podSpec(props, type);
    return [
      ...podProblems(spec),
      ...containersOf(props, type).flatMap(({ container }) => containerProblems(container, spec.securityContext ?? {})),
    ];
  },
};
