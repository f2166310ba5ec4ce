import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import { Service, buildDockerfile, hasRegistryHost, imageTagOrDigest } from "../../services/schema";
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
 * - an image with a registry host (`ghcr.io/org/x:1.2`): as it is;
 * - `org/x:1.2`: that tag (or digest) in the service's ECR repository, where CI pushed it.
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
  if (hasRegistryHost(image!)) return pulumi.output(image!);
  return pulumi.interpolate`${repository}${imageTagOrDigest(image!)}`;
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
