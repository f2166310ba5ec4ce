// Kubernetes restarts no pod when a Secret or ConfigMap it reads changes: a hash of the content in
// the pod template's annotations makes a changed content a changed template, which rolls the pods.
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";

/** The pod annotation holding the hash of the Secret a catalog service reads as env. */
export const SECRET_CHECKSUM_ANNOTATION = "platform/secret-checksum";

export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/**
 * The SHA-256 of a text, secret or not. The hash is one-way, so it is unsecreted (only after
 * hashing): an annotation shows no secret, and a plan shows that it changed.
 */
export function contentChecksum(content: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.unsecret(pulumi.output(content).apply(sha256));
}

/** The SHA-256 of a Secret's or ConfigMap's data: its entries by key, so the order they were listed in counts not. */
export function dataChecksum(data: pulumi.Input<Record<string, pulumi.Input<string>>>): pulumi.Output<string> {
  return contentChecksum(
    pulumi
      .output(data)
      .apply((entries) => JSON.stringify(Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))),
  );
}
