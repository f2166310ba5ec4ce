import { containersOf, WORKLOADS } from "../kubernetes/workloads";
import { ResourceRule } from "../rule";
import { T } from "../types";

/** An image reference that names a tag other than latest, or a digest. */
export function isPinnedImage(image: string): boolean {
  if (/@sha256:[a-f0-9]{64}$/.test(image)) return true;
  const tag = /:([A-Za-z0-9_][A-Za-z0-9._-]{0,127})$/.exec(image.split("/").pop() ?? "")?.[1];
  return tag !== undefined && tag !== "latest";
}

/** One exact version in any semver form: `2.47.0`, `v1.16.1`, `2.47.0-rc.1`, `1.0.0+build.5`; no range or wildcard. */
export function isExactVersion(version: string): boolean {
  return /^v?\d+\.\d+\.\d+(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/.test(version);
}

export const pinnedImages: ResourceRule = {
  kind: "resource",
  name: "pinned-images",
  description:
    "Images name an explicit tag (not latest) or digest, on every workload kind; Helm charts an exact version (any semver form: 1.2.3, v1.2.3, 1.2.3-rc.1).",
  severity: "high",
  remediation: "Pin the image tag or digest, and the chart version",
  types: [T.remoteImage, T.helmRelease, ...WORKLOADS],
  check: (props, type) => {
    if (type === T.remoteImage) return isPinnedImage(props.name ?? "") ? [] : [`image ${props.name} is not pinned`];
    if (type === T.helmRelease)
      return isExactVersion(String(props.version ?? "")) ? [] : [`chart ${props.chart} has no exact version`];
    return containersOf(props, type)
      .filter(({ container }) => !isPinnedImage(String(container.image ?? "")))
      .map(({ container }) => `container ${container.name}: image ${container.image} is not pinned`);
  },
};
