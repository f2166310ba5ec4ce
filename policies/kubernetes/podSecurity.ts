import { ResourceRule } from "../rule";
import { T } from "../types";
import { podContainers } from "./workloads";

export const podSecurity: ResourceRule = {
  kind: "resource",
  name: "pod-security",
  description:
    "Pods run as non-root with a read-only root filesystem, no privilege escalation, not privileged, no host network.",
  severity: "critical",
  remediation:
    "Set runAsNonRoot, readOnlyRootFilesystem, allowPrivilegeEscalation: false; drop privileged and hostNetwork",
  types: [T.deployment],
  check: (props) => {
    const spec = props.spec?.template?.spec ?? {};
    const problems: string[] = [];
    if (spec.hostNetwork) problems.push("pod uses the host network");
    for (const c of podContainers(props)) {
      const sc = c.securityContext ?? {};
      if (!(spec.securityContext?.runAsNonRoot || sc.runAsNonRoot))
        problems.push(`container ${c.name}: may run as root`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`container ${c.name}: writable root filesystem`);
      if (sc.allowPrivilegeEscalation !== false) problems.push(`container ${c.name}: privilege escalation allowed`);
      if (sc.privileged) problems.push(`container ${c.name}: privileged`);
    }
    return problems;
  },
};
