import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { MANAGED_POLICIES, assetFiles, gatewayPathPatterns, renderSpaRewrite, wafRules } from "./webFrontendConfig";

export interface WebFrontendArgs {
  namePrefix: string;
  /** The gateway's DNS name, covered by its load balancer's certificate: the API origin. */
  gatewayDomain: pulumi.Input<string>;
  /** Path prefixes the gateway answers; every other path is the app's. */
  gatewayPaths: string[];
  /** The built app, uploaded when given; otherwise the bucket is filled by the app's own pipeline. */
  assetsDir?: string;
  /** Viewer certificate (us-east-1) for `aliases`; CloudFront's default certificate and domain without. */
  certificateArn?: string;
  aliases: string[];
  rateLimitPer5Minutes: number;
  priceClass: string;
}

const S3_ORIGIN = "app";
const GATEWAY_ORIGIN = "gateway";
/** CloudFront-scoped web ACLs live in us-east-1 whatever the stack's region. */
const CLOUDFRONT_WAF_REGION = "us-east-1";

/**
 * The web front end in prod: the built app in a private, encrypted, versioned S3 bucket that only
 * this CloudFront distribution can read (origin access control), the gateway's paths forwarded
 * uncached to the gateway over verified TLS, HTTPS only with the managed security headers, and an
 * AWS WAF web ACL (rate limit per address, common exploits incl. XSS, known bad inputs, SQL injection).
 */
export class WebFrontend extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly bucketName: pulumi.Output<string>;
  readonly distributionId: pulumi.Output<string>;

  constructor(name: string, args: WebFrontendArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:WebFrontend", name, {}, opts);
    const assets = createAssetsBucket(name, args.namePrefix, this);
    const edge = createEdgeControls(name, args, this);
    const distribution = createDistribution(name, args, assets.bucket, edge, this);
    createBucketPolicy(name, assets, distribution, this);
    // Without assetsDir the app's own pipeline fills the bucket (README: the prod front end).
    if (args.assetsDir) uploadAssets(name, args.assetsDir, assets, this);

    this.url = pulumi.interpolate`https://${args.aliases[0] ?? distribution.domainName}/`;
    this.bucketName = assets.bucket.bucket;
    this.distributionId = distribution.id;
    this.registerOutputs({ url: this.url, bucketName: this.bucketName, distributionId: this.distributionId });
  }
}

interface AssetsBucket {
  bucket: aws.s3.Bucket;
  /** Objects are uploaded once the bucket owner owns them. */
  ownership: aws.s3.BucketOwnershipControls;
  /** The bucket policy is set once public access is blocked. */
  publicAccess: aws.s3.BucketPublicAccessBlock;
}

/** The private, encrypted, versioned bucket that holds the built app. */
function createAssetsBucket(name: string, namePrefix: string, parent: pulumi.Resource): AssetsBucket {
  const bucket = new aws.s3.Bucket(`${name}-assets`, { bucketPrefix: `${namePrefix}-web-` }, { parent });
  const ownership = new aws.s3.BucketOwnershipControls(
    `${name}-ownership`,
    { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
    { parent },
  );
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    `${name}-public-access`,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    { parent },
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-encryption`,
    {
      bucket: bucket.id,
      // SSE-S3: CloudFront's origin access control reads it without a KMS key grant.
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
    },
    { parent },
  );
  new aws.s3.BucketVersioning(
    `${name}-versioning`,
    { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
    { parent },
  );
  return { bucket, ownership, publicAccess };
}

interface EdgeControls {
  originAccess: aws.cloudfront.OriginAccessControl;
  spaRewrite: aws.cloudfront.Function;
  firewall: aws.wafv2.WebAcl;
}

/** What the distribution attaches: the bucket's origin access control, the SPA rewrite and the WAF web ACL. */
function createEdgeControls(name: string, args: WebFrontendArgs, parent: pulumi.Resource): EdgeControls {
  const originAccess = new aws.cloudfront.OriginAccessControl(
    `${name}-oac`,
    {
      name: `${args.namePrefix}-web`,
      originAccessControlOriginType: "s3",
      signingBehavior: "always",
      signingProtocol: "sigv4",
    },
    { parent },
  );
  const spaRewrite = new aws.cloudfront.Function(
    `${name}-spa-rewrite`,
    {
      name: `${args.namePrefix}-spa-rewrite`,
      runtime: "cloudfront-js-2.0",
      code: renderSpaRewrite(),
      publish: true,
    },
    { parent },
  );
  const firewall = new aws.wafv2.WebAcl(
    `${name}-waf`,
    {
      name: `${args.namePrefix}-web`,
      scope: "CLOUDFRONT",
      region: CLOUDFRONT_WAF_REGION,
      defaultAction: { allow: {} },
      rules: wafRules(args.namePrefix, args.rateLimitPer5Minutes),
      visibilityConfig: {
        cloudwatchMetricsEnabled: true,
        sampledRequestsEnabled: true,
        metricName: `${args.namePrefix}-web`,
      },
    },
    { parent },
  );
  return { originAccess, spaRewrite, firewall };
}

function createDistribution(
  name: string,
  args: WebFrontendArgs,
  bucket: aws.s3.Bucket,
  edge: EdgeControls,
  parent: pulumi.Resource,
): aws.cloudfront.Distribution {
  return new aws.cloudfront.Distribution(
    `${name}-cdn`,
    {
      enabled: true,
      comment: `${args.namePrefix} web front end`,
      aliases: args.aliases,
      defaultRootObject: "index.html",
      httpVersion: "http2and3",
      isIpv6Enabled: true,
      priceClass: args.priceClass,
      webAclId: edge.firewall.arn,
      origins: [
        {
          originId: S3_ORIGIN,
          domainName: bucket.bucketRegionalDomainName,
          originAccessControlId: edge.originAccess.id,
        },
        {
          originId: GATEWAY_ORIGIN,
          domainName: args.gatewayDomain,
          customOriginConfig: {
            httpPort: 80,
            httpsPort: 443,
            originProtocolPolicy: "https-only",
            originSslProtocols: ["TLSv1.2"],
          },
        },
      ],
      defaultCacheBehavior: {
        targetOriginId: S3_ORIGIN,
        viewerProtocolPolicy: "redirect-to-https",
        allowedMethods: ["GET", "HEAD", "OPTIONS"],
        cachedMethods: ["GET", "HEAD"],
        compress: true,
        cachePolicyId: MANAGED_POLICIES.cachingOptimized,
        responseHeadersPolicyId: MANAGED_POLICIES.securityHeaders,
        functionAssociations: [{ eventType: "viewer-request", functionArn: edge.spaRewrite.arn }],
      },
      orderedCacheBehaviors: gatewayCacheBehaviors(args.gatewayPaths),
      restrictions: { geoRestriction: { restrictionType: "none" } },
      viewerCertificate: viewerCertificate(args.certificateArn),
    },
    { parent },
  );
}

/** The gateway's paths, forwarded uncached with everything the viewer sent but Host. */
function gatewayCacheBehaviors(gatewayPaths: string[]): aws.types.input.cloudfront.DistributionOrderedCacheBehavior[] {
  return gatewayPathPatterns(gatewayPaths).map((pathPattern) => ({
    pathPattern,
    targetOriginId: GATEWAY_ORIGIN,
    viewerProtocolPolicy: "https-only",
    allowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
    cachedMethods: ["GET", "HEAD"],
    compress: true,
    cachePolicyId: MANAGED_POLICIES.cachingDisabled,
    originRequestPolicyId: MANAGED_POLICIES.allViewerExceptHostHeader,
    responseHeadersPolicyId: MANAGED_POLICIES.securityHeaders,
  }));
}

function viewerCertificate(
  certificateArn: string | undefined,
): aws.types.input.cloudfront.DistributionViewerCertificate {
  return certificateArn
    ? { acmCertificateArn: certificateArn, sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" }
    : { cloudfrontDefaultCertificate: true };
}

function createBucketPolicy(
  name: string,
  assets: AssetsBucket,
  distribution: aws.cloudfront.Distribution,
  parent: pulumi.Resource,
): aws.s3.BucketPolicy {
  return new aws.s3.BucketPolicy(
    `${name}-policy`,
    {
      bucket: assets.bucket.id,
      policy: pulumi
        .all([assets.bucket.arn, distribution.arn])
        .apply(([bucketArn, distributionArn]) => bucketPolicyDocument(bucketArn, distributionArn)),
    },
    { parent, dependsOn: [assets.publicAccess] },
  );
}

/** Reads through this distribution only, and nothing over plain HTTP. */
function bucketPolicyDocument(bucketArn: string, distributionArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "CloudFrontReadsThroughOriginAccessControl",
        Effect: "Allow",
        Principal: { Service: "cloudfront.amazonaws.com" },
        Action: "s3:GetObject",
        Resource: `${bucketArn}/*`,
        Condition: { StringEquals: { "AWS:SourceArn": distributionArn } },
      },
      {
        Sid: "TlsOnly",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  });
}

function uploadAssets(name: string, assetsDir: string, assets: AssetsBucket, parent: pulumi.Resource): void {
  for (const file of assetFiles(assetsDir)) {
    new aws.s3.BucketObjectv2(
      `${name}-asset-${file.key}`,
      {
        bucket: assets.bucket.id,
        key: file.key,
        source: new pulumi.asset.FileAsset(file.source),
        contentType: file.contentType,
        cacheControl: file.cacheControl,
      },
      { parent, dependsOn: [assets.ownership] },
    );
  }
}
