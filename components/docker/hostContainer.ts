import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { CONTAINER_DEFAULTS, PlatformLabels, platformLabels } from "./containerDefaults";

/** What most platform containers need: an image, networks with an alias, config files. */
export interface PlatformContainerArgs {
  host: string;
  image: string;
  namePrefix: string;
  networks: docker.Network[];
  labels: PlatformLabels;
  extraLabels?: Record<string, string>;
  /** Files rendered by the platform, path -> content (may be secret). */
  files?: Record<string, pulumi.Input<string>>;
  settings?: Omit<docker.ContainerArgs, "image" | "name" | "hostname" | "networksAdvanced" | "uploads" | "labels">;
}

/** What the containers of one component share: name prefix, networks and labels. */
export type SharedContainerArgs = Pick<PlatformContainerArgs, "namePrefix" | "networks" | "labels">;

/**
 * One infrastructure container with the platform defaults (restart, log rotation,
 * no-new-privileges), reachable by `host` on each of its networks.
 */
export function platformContainer(
  name: string,
  args: PlatformContainerArgs,
  opts: pulumi.CustomResourceOptions,
): docker.Container {
  const image = new docker.RemoteImage(
    `${name}-image`,
    { name: args.image, keepLocally: true },
    { parent: opts.parent },
  );
  return new docker.Container(
    name,
    {
      ...CONTAINER_DEFAULTS,
      ...args.settings,
      name: `${args.namePrefix}-${args.host}`,
      hostname: args.host,
      image: image.imageId,
      networksAdvanced: args.networks.map((network) => ({ name: network.name, aliases: [args.host] })),
      uploads: Object.entries(args.files ?? {}).map(([file, content]) => ({ file, content })),
      labels: platformLabels(args.labels, args.extraLabels),
    },
    opts,
  );
}

/** A container that runs once to completion (a schema bootstrap, a replica-set initiation, a login setup). */
export interface OneShot {
  container: docker.Container;
  /**
   * The container once it exited 0: what dependents put in `dependsOn`. `attach` makes `pulumi up`
   * wait for the exit, but the provider records a non-zero code (`exitCode`) without failing, so
   * this output fails the update instead, naming the container and its last log line, and nothing
   * that depends on it is created.
   */
  succeeded: pulumi.Output<docker.Container>;
}

/**
 * A one-shot container with the platform defaults, except that it runs once (no restart, not kept
 * running) and `pulumi up` waits for it to exit; `memory` comes from the caller's settings.
 */
export function oneShotContainer(
  name: string,
  args: PlatformContainerArgs & { settings: { memory: number } },
  opts: pulumi.CustomResourceOptions,
): OneShot {
  const container = platformContainer(
    name,
    { ...args, settings: { ...args.settings, restart: "no", mustRun: false, attach: true, logs: true } },
    opts,
  );
  const succeeded = pulumi.all([container.exitCode, container.containerLogs]).apply(([exitCode, logs]) => {
    const failure = oneShotFailure(args.host, exitCode, logs);
    if (failure) throw new pulumi.ResourceError(failure, container, true);
    return container;
  });
  return { container, succeeded };
}

/** Why a one-shot container failed, from its exit code and logs; undefined when it exited 0. */
export function oneShotFailure(
  host: string,
  exitCode: number | undefined,
  logs: string | undefined,
): string | undefined {
  if (exitCode === 0) return undefined;
  const lastLine = (logs ?? "").trim().split("\n").pop()?.trim();
  return `${host} exited with code ${exitCode ?? "unknown"}${lastLine ? `: ${lastLine}` : ""}`;
}

/**
 * A one-shot container's command: each step in order through `sh`; the first that fails ends the
 * run with one line naming it (`{what}: {label} failed (exit N)`), the line `pulumi up` quotes.
 */
export function stepsCommand(what: string, steps: Array<{ label: string; run: string }>): string[] {
  const fail = `fail() { code=$?; echo "${what}: $1 failed (exit $code)" >&2; exit $code; }`;
  return ["sh", "-c", [fail, ...steps.map((step) => `${step.run} || fail '${step.label}'`)].join("\n")];
}
