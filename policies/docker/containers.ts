import { ResourceRule, unmet } from "../rule";
import { T } from "../types";

export const portsOnLoopbackOnly: ResourceRule = {
  kind: "resource",
  name: "ports-on-loopback-only",
  description: "Docker containers publish ports on 127.0.0.1 only, never on 0.0.0.0.",
  severity: "critical",
  remediation: "Set ip: 127.0.0.1 on every published port",
  types: [T.container],
  check: (props) =>
    (props.ports ?? [])
      .filter((p: any) => p.external !== undefined && !["127.0.0.1", "::1"].includes(p.ip))
      .map((p: any) => `port ${p.external} is published on ${p.ip ?? "0.0.0.0"}`),
};

export const noPrivilegedContainers: ResourceRule = {
  kind: "resource",
  name: "no-privileged-containers",
  description: "Docker containers are not privileged and do not share the host network.",
  severity: "critical",
  remediation: "Remove privileged and networkMode: host",
  types: [T.container],
  check: (props) =>
    unmet([
      [!props.privileged, "container is privileged"],
      [props.networkMode !== "host", "container uses the host network"],
    ]),
};
