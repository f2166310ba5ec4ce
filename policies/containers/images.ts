import { podContainers } from "../kubernetes/workloads";
import { ResourceRule } from "../rule";
import { T } from "../types";

/** An image reference that names a tag other than latest, or a digest. */
export function isPinnedImage(image: string): boolean {
  if (/@sha256:[a-f0-9]{64}$/.test(image)) return true;
  const tag = /:([A-Za-z0-9_][A-Za-z0-9._-]{0,127})$/.exec(image.split("/").pop() ?? "")?.[1];
  return tag !== undefined && tag !== "latest";
}

export const pinnedImages: ResourceRule = {
  kind: "resource",
  name: "pinned-images",
  description: "Images name an explicit tag (not latest) or digest; Helm charts an exact version.",
  severity: "high",
  remediation: "Pin the image tag or digest, and the chart version",
  types: [T.remoteImage, T.deployment, T.helmRelease],
  check: (props, type) => {
    if (type === T.remoteImage) return isPinnedImage(props.name ?? "") ? [] : [`image ${props.name} is not pinned`];
    if (type === T.helmRelease)
      return /^\d+\.\d+\.\d+$/.test(props.version ?? "") ? [] : [`chart ${props.chart} has no exact version`];
    return podContainers(props)
      .filter((c) => !isPinnedImage(String(c.image ?? "")))
      .map((c) => `container ${c.name}: image ${c.image} is not pinned`);
  },
};
