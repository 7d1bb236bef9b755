package redact

import "testing"

func TestURLs(t *testing.T) {
	for in, want := range map[string]string{
		"nats://forge:s3cret@nats-1:4222, nats://nats-2:4222":        "nats://xxxxx@nats-1:4222,nats://nats-2:4222",
		"https://x-access-token:ghp_abc@github.com/{repository}.git": "https://xxxxx@github.com/{repository}.git",
		"file:///srv/git/{name}":                                     "file:///srv/git/{name}",
		"postgres://root@db:5432/forge":                              "postgres://xxxxx@db:5432/forge",
	} {
		if got := URLs(in); got != want {
			t.Errorf("URLs(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Scrub("dial nats://forge:s3cret@nats-1: refused", "nats://forge:s3cret@nats-1:4222"); got != "dial nats://xxxxx:xxxxx@nats-1: refused" {
		t.Errorf("Scrub = %q", got)
	}
}
