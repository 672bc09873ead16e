// Stands in for cdktf's and constructs' captureStackTrace in tests (jest.config.js, moduleNameMapper). They record a
// full stack trace for every token and construct, only to print it when a token fails to resolve; under jest each
// trace goes through source-map-support, which made a 63-table synth take 3 to 4 s instead of 1 s. Tests assert on
// the synthesized JSON, which does not contain these traces.
exports.captureStackTrace = () => [];
