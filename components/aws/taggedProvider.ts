import * as aws from "@pulumi/aws";
import { AwsSettings, requiredTags } from "./settings";

/** The AWS provider of both layers: the stack's region, and the required tags on every resource it creates. */
export function taggedProvider(
  name: string,
  args: { aws: AwsSettings; environment: string; catalog: { name: string } },
): aws.Provider {
  return new aws.Provider(`${name}-aws`, {
    region: args.aws.region as aws.Region,
    defaultTags: { tags: requiredTags(args.aws, args.environment, args.catalog.name) },
  });
}
