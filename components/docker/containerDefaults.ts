import * as docker from "@pulumi/docker";

/** Settings every platform container shares: log rotation, restart policy, no privilege escalation. */
export const CONTAINER_DEFAULTS = {
  restart: "unless-stopped",
  logDriver: "json-file",
  logOpts: { "max-size": "10m", "max-file": "3" },
  securityOpts: ["no-new-privileges:true"],
  mustRun: true,
} satisfies Partial<docker.ContainerArgs>;

export interface PlatformLabels {
  stack: string;
  catalog: string;
  component: string;
  service?: string;
}

/** Labels that tell tools (Promtail, `docker ps --filter`) what a container is. */
export function platformLabels(
  labels: PlatformLabels,
  extra: Record<string, string> = {},
): docker.types.input.ContainerLabel[] {
  const all: Record<string, string> = {
    "platform.stack": labels.stack,
    "platform.catalog": labels.catalog,
    "platform.component": labels.component,
    ...(labels.service ? { "platform.service": labels.service } : {}),
    ...extra,
  };
  return Object.entries(all).map(([label, value]) => ({ label, value }));
}

/** A port reachable from the developer's machine only. */
export function loopbackPort(internal: number, external: number): docker.types.input.ContainerPort {
  return { internal, external, ip: "127.0.0.1", protocol: "tcp" };
}
