package gitcache

// Redact exposes redact to the tests of package gitcache_test.
var Redact = redact
