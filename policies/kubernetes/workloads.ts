/** The containers of a workload's pod template, init containers first. */
export function podContainers(props: Record<string, any>): any[] {
  const spec = props.spec?.template?.spec ?? {};
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}
