import { ResourceRule } from "../rule";
import { T } from "../types";

const EBS_PROVISIONERS = new Set(["ebs.csi.aws.com", "kubernetes.io/aws-ebs"]);

export const encryptedStorageClasses: ResourceRule = {
  kind: "resource",
  name: "encrypted-storage-classes",
  description: 'EBS StorageClasses encrypt their volumes (parameter encrypted: "true").',
  severity: "high",
  remediation: 'Set parameters.encrypted: "true" (and kmsKeyId to the platform key)',
  types: [T.storageClass],
  check: (props) =>
    EBS_PROVISIONERS.has(props.provisioner) && props.parameters?.encrypted !== "true"
      ? [`StorageClass ${props.metadata?.name} provisions unencrypted EBS volumes`]
      : [],
};
