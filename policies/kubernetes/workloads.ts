import { T } from "../types";

/** Every kind of object that runs pods, and where its pod spec sits. */
const POD_SPEC_PATHS: Record<string, string[]> = {
  [T.pod]: ["spec"],
  [T.deployment]: ["spec", "template", "spec"],
  [T.statefulSet]: ["spec", "template", "spec"],
  [T.daemonSet]: ["spec", "template", "spec"],
  [T.job]: ["spec", "template", "spec"],
  [T.cronJob]: ["spec", "jobTemplate", "spec", "template", "spec"],
};

export const WORKLOADS = Object.keys(POD_SPEC_PATHS);
/** The kinds whose pods run until stopped (a Job's exit code says how it went, not a probe). */
export const LONG_RUNNING = [T.pod, T.deployment, T.statefulSet, T.daemonSet];

export interface PodContainer {
  container: Record<string, any>;
  /** Where the container sits in the object's props. */
  path: Array<string | number>;
}

/** The pod spec of a workload (empty when the object runs no pods). */
export function podSpec(props: Record<string, any>, type: string): Record<string, any> {
  return (POD_SPEC_PATHS[type] ?? []).reduce((value: any, key) => value?.[key], props) ?? {};
}

/** The containers of a workload's pods, init containers first, each with its path. */
export function containersOf(props: Record<string, any>, type: string): PodContainer[] {
  const spec = podSpec(props, type);
  const base = POD_SPEC_PATHS[type] ?? [];
  return (["initContainers", "containers"] as const).flatMap((list) =>
    ((spec[list] ?? []) as Array<Record<string, any>>).map((container, i) => ({
      container,
      path: [...base, list, i],
    })),
  );
}

/** `kind name` of an object, for messages. */
export function objectName(props: Record<string, any>, type: string): string {
  return `${type.split(":").pop()} ${props.metadata?.name ?? "(unnamed)"}`;
}
