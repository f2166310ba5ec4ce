import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";

/**
 * The reference service (docs/env-contract.md): the environment contract as running code, which dev
 * runs in place of the catalog's images with `platform:docker.referenceService`. Its directory is
 * found from this file, as the built-in catalogs are, whatever directory Pulumi runs in.
 */
export const REFERENCE_SERVICE_DIR = path.join(__dirname, "..", "..", "reference-service");

export interface LocalBuild {
  /** Name and tag the built image gets in the local engine. */
  imageName: string;
  context: string;
  /** Absolute path. */
  dockerfile: string;
}

/**
 * An image built by the local Docker engine and kept there: no registry, no push. `pulumi preview`
 * does not build (the provider's default); `pulumi up` builds again when the context's content
 * changes. Its `repoDigest` is the local image ID, so containers running it are replaced by a new build.
 */
export function localBuild(name: string, build: LocalBuild, opts: pulumi.CustomResourceOptions): docker.Image {
  return new docker.Image(
    name,
    { imageName: build.imageName, build: { context: build.context, dockerfile: build.dockerfile }, skipPush: true },
    opts,
  );
}

/** What a service container runs: an image pulled by name, one built for it, or one the stack built already. */
export type ServiceImage = { pull: string } | { build: LocalBuild } | { built: pulumi.Output<string> };

/** The image ID or reference a container is created from, declaring the pull or build it needs. */
export function containerImage(name: string, image: ServiceImage, parent: pulumi.Resource): pulumi.Output<string> {
  if ("built" in image) return image.built;
  if ("build" in image) return localBuild(name, image.build, { parent }).repoDigest;
  return new docker.RemoteImage(name, { name: image.pull, keepLocally: true }, { parent }).imageId;
}
