/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" } }] },
  // Synth, s3rver and PGlite tests are I/O-heavy; two workers match the machines this runs on.
  maxWorkers: 2,
  testTimeout: 60000,
  // cdktf's stack trace per token, source-mapped by jest, was most of a synth's time: see helpers/no-stack-trace.js.
  moduleNameMapper: { "^\\./(private/|tokens/private/)?stack-trace$": "<rootDir>/__tests__/helpers/no-stack-trace.js" },
  reporters: ["default", "<rootDir>/scripts/summary-reporter.js"],
};
