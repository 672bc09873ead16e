/**
 * Shared facts (see facts/README.md; new shared facts go in this folder): the downloader's multipart upload limits,
 * checked by the config (modules/config.ts) and again by the downloader's environment reader.
 *
 * lib-storage buffers one part per upload slot plus the part being read: memory is about
 * partSizeMiB x (uploadQueueSize + 1). S3 takes parts from 5 MiB to 5 GiB
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html), but a Lambda has at most 10,240 MiB, so a
 * 5 GiB part could never be buffered twice: the upper limits are what fits a function, 512 MiB x (16 + 1) + 128 MiB
 * of runtime = 8,832 MiB. (The downloader used to accept up to 5,120 MiB and 32 parts, which no function can hold.)
 */
export const PART_SIZE_MIB = { min: 5, max: 512 } as const;
export const UPLOAD_QUEUE_SIZE = { min: 1, max: 16 } as const;
