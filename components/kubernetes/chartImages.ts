import { hasRegistryHost } from "../../services/schema";
/**
 * An image of the engine table (components/engines.ts, IMAGES) in the fields a chart composes its
 * image from. Charts split a reference differently, and some drop the tag when given a digest; the
 * test that every rendered chart image comes from the table (test/chart-workloads.test.ts) composes
 * them back as each chart's template does.
 */

interface ImageReference {
  /** The registry host; Docker Hub's for a reference that names none. */
  registry: string;
  /** The path under the registry (`grafana/loki`, `kong`). */
  repository: string;
  tag: string;
  /** `sha256:<hex>`, or "" for an image awaiting a digest (AWAITING_DIGEST). */
  digest: string;
}

const DOCKER_HUB = "docker.io";

export function imageReference(image: string): ImageReference {
  const [name, digest = ""] = image.split("@");
  const tagAt = name.lastIndexOf(":");
  if (tagAt < name.lastIndexOf("/") || tagAt < 0) throw new Error(`${image} names no tag`);
  const path = name.slice(0, tagAt);
  const [first, ...rest] = path.split("/");
  const hosted = hasRegistryHost(path);
  return {
    registry: hosted ? first : DOCKER_HUB,
    repository: hosted ? rest.join("/") : path,
    tag: name.slice(tagAt + 1),
    digest,
  };
}

/**
 * `{registry, repository, tag, sha}` with the bare hex: kube-prometheus-stack and Grafana write
 * `<registry>/<repository>:<tag>@sha256:<sha>`.
 */
export function shaHexImage(image: string) {
  const { digest, ...parts } = imageReference(image);
  return { ...parts, sha: digest.replace(/^sha256:/, "") };
}

/** `{registry, repository, tag, sha}` with `sha256:` kept: kube-state-metrics writes `...:<tag>@<sha>`. */
export function shaImage(image: string) {
  const { digest, ...parts } = imageReference(image);
  return { ...parts, sha: digest };
}

/** `{registry, repository, tag, digest}`: node-exporter, Loki, Jaeger and Bitnami's common helper. */
export function digestImage(image: string) {
  return imageReference(image);
}

/**
 * `{registry, repository, tag}` where the chart has no digest field but writes the tag as given
 * (`<registry>/<repository>:<tag>`): the tag carries the digest.
 */
export function taggedDigestImage(image: string) {
  const { digest, ...parts } = imageReference(image);
  return { ...parts, tag: digest ? `${parts.tag}@${digest}` : parts.tag };
}

/** Elastic's charts write `<image>:<imageTag>`: the tag carries the digest. */
export function elasticImage(image: string): { image: string; imageTag: string } {
  const at = image.lastIndexOf(":", image.includes("@") ? image.indexOf("@") : image.length);
  return { image: image.slice(0, at), imageTag: image.slice(at + 1) };
}
