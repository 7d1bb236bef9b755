package gitcache

// Redact exposes redact to the tests of package gitcache_test.
var Redact = redact

// JobChanges exposes jobChanges to the tests of package gitcache_test.
var JobChanges = jobChanges

// GitlinkID is gitlinkID for the tests of package gitcache_test.
const GitlinkID = gitlinkID
