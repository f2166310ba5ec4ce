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
