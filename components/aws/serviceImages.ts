import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import { Catalog, Service, buildDockerfile, hasRegistryHost, imageTagOrDigest } from "../../services/schema";
import { Problem, error } from "../../services/problems";
import { CONFIG_NAMESPACE } from "../platform";
import { NODE_PLATFORM } from "./EksCluster";

/** What pushes to the stack's ECR repositories: the registry's login for the Docker engine (password secret). */
export interface EcrLogin {
  username: pulumi.Output<string>;
  password: pulumi.Output<string>;
}

/** A short-lived ECR login of the deploying identity, for the registry the infrastructure layer made the repositories in. */
export function ecrLogin(parent: pulumi.Resource): EcrLogin {
  const token = aws.ecr.getAuthorizationTokenOutput({}, { parent });
  return { username: token.userName, password: pulumi.secret(token.password) };
}

/**
 * The image a service's Deployment runs:
 * - with `build`: built by the deploying machine's Docker engine for the nodes' platform, pushed to
 *   the service's ECR repository, and run by the digest the push reported;
 * - else a full reference with its registry host (`ghcr.io/org/x:1.2`, the service's ECR repository
 *   with a tag CI pushed), as it is: validation (unpublishedImageProblems) refused any other.
 * `image` is the catalog's, or the stack's override of it.
 */
export function workloadImage(
  name: string,
  service: Service,
  image: string | undefined,
  repository: pulumi.Output<string>,
  /** Made once per stack when a service builds. */
  login: EcrLogin | undefined,
  parent: pulumi.Resource,
): pulumi.Output<string> {
  if (service.build) return pushedBuild(name, service.build, image, repository, login!, parent).repoDigest;
  return pulumi.output(image!);
}

/**
 * The services prod could not pull: no `build`, and an image without a registry host
 * (`shop/orders:1.2`). Nothing pushes such a name anywhere the nodes pull from, so the Deployment
 * would wait in ImagePullBackOff until `pulumi up` times out.
 */
export function unpublishedServices(catalog: Catalog, images: Record<string, string>): Service[] {
  return catalog.services.filter((s) => !s.build && !hasRegistryHost(images[s.name] ?? s.image!));
}

/**
 * The platform layer's refusal of those services, before any resource: one problem per service at
 * the key that fixes it, saying where the image came from and the two ways to give it one.
 */
export function unpublishedImageProblems(
  catalog: Catalog,
  images: Record<string, string>,
  /** How problems name the catalog's fields (`catalog bookings`). */
  catalogPrefix: string,
  region: string,
): Problem[] {
  return unpublishedServices(catalog, images).map((service) => {
    const index = catalog.services.indexOf(service);
    const image = images[service.name] ?? service.image!;
    const from = images[service.name] ? "set here" : `${catalogPrefix}.services[${index}].image`;
    return error(
      `${CONFIG_NAMESPACE}:images.${service.name}`,
      `'${image}' (${from}) names no registry, and nothing pushes it to one: set a full reference ` +
        `(the service's ECR repository <account>.dkr.ecr.${region}.amazonaws.com/${catalog.name}/${service.name}` +
        `${imageTagOrDigest(image)} once pushed there, or another registry's host/name:tag), ` +
        `or give the service a build (${catalogPrefix}.services[${index}].build) for this layer to build and push`,
    );
  });
}

function pushedBuild(
  name: string,
  build: NonNullable<Service["build"]>,
  image: string | undefined,
  repository: pulumi.Output<string>,
  login: EcrLogin,
  parent: pulumi.Resource,
): docker.Image {
  // ECR repositories are immutable: a build without a tag of its own gets one per content.
  const tag = image ? imageTagOrDigest(image) : `:src-${contextDigest(build.context).slice(0, 16)}`;
  return new docker.Image(
    name,
    {
      imageName: pulumi.interpolate`${repository}${tag}`,
      build: { context: build.context, dockerfile: buildDockerfile(build), platform: NODE_PLATFORM },
      registry: {
        server: repository.apply((url) => url.split("/")[0]),
        username: login.username,
        password: login.password,
      },
    },
    { parent },
  );
}

/** Directories a build context's digest leaves out: the VCS's, and dependencies installed on the host. */
const UNHASHED_DIRECTORIES = new Set([".git", "node_modules"]);

/** SHA-256 over the relative path and content of every file of a build context (but UNHASHED_DIRECTORIES). */
export function contextDigest(context: string): string {
  const hash = createHash("sha256");
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!UNHASHED_DIRECTORIES.has(entry.name)) walk(file);
      } else if (entry.isFile()) {
        hash
          .update(`${path.relative(context, file)}\0`)
          .update(fs.readFileSync(file))
          .update("\0");
      }
    }
  };
  walk(context);
  return hash.digest("hex");
}
