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

/** How often Docker runs a healthcheck and how many failures make the container unhealthy. */
export type HealthTiming = Pick<
  docker.types.input.ContainerHealthcheck,
  "interval" | "timeout" | "retries" | "startPeriod"
>;

const HEALTH_TIMING: HealthTiming = { interval: "10s", timeout: "5s", retries: 6, startPeriod: "10s" };

/**
 * A healthcheck that runs `command` in exec form: the image needs the command, not a shell. It is
 * the image's own binary, or an HTTP client the image ships (each caller says which and why).
 */
export function healthcheck(
  command: string[],
  timing: Partial<HealthTiming> = {},
): docker.types.input.ContainerHealthcheck {
  return { tests: ["CMD", ...command], ...HEALTH_TIMING, ...timing };
}

/** The same through the image's shell, for a check that needs a pipe or a variable of the container's env. */
export function shellHealthcheck(
  commandLine: string,
  timing: Partial<HealthTiming> = {},
): docker.types.input.ContainerHealthcheck {
  return { tests: ["CMD-SHELL", commandLine], ...HEALTH_TIMING, ...timing };
}

/** The HTTP client a healthcheck calls: busybox or GNU `wget`, or `curl`. */
export type HttpClient = "wget" | "curl";

/** A GET on the container's own loopback that fails on no answer or a 4xx/5xx (both clients exit non-zero then). */
export function httpGet(client: HttpClient, port: number, path: string): string[] {
  const url = `http://127.0.0.1:${port}${path}`;
  return client === "wget" ? ["wget", "-q", "-O", "/dev/null", url] : ["curl", "-fsS", "-o", "/dev/null", url];
}
