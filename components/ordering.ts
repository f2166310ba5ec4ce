import * as pulumi from "@pulumi/pulumi";

/**
 * `value`, known only once everything in `waitFor` is: Pulumi orders a resource after the resources
 * its inputs come from, so whatever takes `value` from here is created after those. A secret stays one.
 */
export function after<T>(value: pulumi.Input<T>, ...waitFor: pulumi.Input<unknown>[]): pulumi.Output<T> {
  return pulumi.all([value, ...waitFor]).apply(([known]) => known as T);
}
