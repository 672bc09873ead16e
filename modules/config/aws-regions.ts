/**
 * The AWS region codes a deployment may name, as data: a typo such as `eu-wset-2` is refused at synth instead of at
 * the first API call of `cdktf deploy`.
 *
 * Source: the endpoint partitions the AWS SDK for JavaScript v3 ships (`@aws-sdk/core` 3.981.0,
 * dist-cjs/submodules/client/index.js, the `partitions` list also published as @aws-sdk/util-endpoints'
 * partitions.json): every region of the partitions `aws` (commercial), `aws-us-gov` (GovCloud), `aws-cn` (China) and
 * `aws-eusc` (European Sovereign Cloud). The isolated partitions (aws-iso*) are left out: this stack is not built for
 * them. When AWS opens a region, add its code here (the SDK's list is the place to look).
 */
export const AWS_REGIONS: readonly string[] = [
  // aws (commercial)
  "af-south-1",
  "ap-east-1",
  "ap-east-2",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ap-south-1",
  "ap-south-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-southeast-3",
  "ap-southeast-4",
  "ap-southeast-5",
  "ap-southeast-6",
  "ap-southeast-7",
  "ca-central-1",
  "ca-west-1",
  "eu-central-1",
  "eu-central-2",
  "eu-north-1",
  "eu-south-1",
  "eu-south-2",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "il-central-1",
  "me-central-1",
  "me-south-1",
  "me-west-1",
  "mx-central-1",
  "sa-east-1",
  "sa-west-1",
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
  // aws-us-gov (GovCloud)
  "us-gov-east-1",
  "us-gov-west-1",
  // aws-cn (China)
  "cn-north-1",
  "cn-northwest-1",
  // aws-eusc (European Sovereign Cloud)
  "eusc-de-east-1",
];
