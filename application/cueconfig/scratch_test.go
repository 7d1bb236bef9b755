package cueconfig

import (
	"fmt"
	"testing"
	"testing/fstest"
)

const repoCue = `package repo

forgeVersion: "v1.0.0"
tagging: strategy: "monorepo"
phases: {
	build: {group: 1, description: "Build", timeout: "10m"}
	test: {group: 2, required: true, timeout: "15m"}
}
publishers: docker: {
	type: "docker"
	registry: "registry.local"
	credentials: {provider: "aws", path: "docker/creds"}
}
`

func TestScratch(t *testing.T) {
	fsys := fstest.MapFS{
		".forge/repo.cue": {Data: []byte(repoCue)},
		"svc/.forge/project.cue": {Data: []byte(`package project

name: "web"
ci: phases: test: unit: {
	action: "script"
	run: "go test"
	timeout: @repo(path="phases.test.timeout")
}
ci: phases: build: b: {action: "earthly", target: "+build", priority: 3}
deployment: resources: [{apiVersion: "v1", kind: "Pod", metadata: name: "x", spec: image:@artifact("web.uri"), other: @artifact("web.digest")}]
artifacts: web: {type: "container", producer: earthly: target: "+img", publishers: docker: tags: ["x"]}
release: on: [{branch: "main"}]
`)},
		"bad/.forge/project.cue": {Data: []byte(`package project

name: "Bad_Name"
ci: phases: lint: x: {action: "script", run: "x", target: "y"}
ci: phases: build: b: {action: "earthly"}
bogus: 1
deployment: resources: [{apiVersion: "v1", kind: "Pod", metadata: name: "x", spec: image: @artifact("nope.uri")}]

`)},
	}
	l := NewLoader()
	rc, ps := l.LoadRepo(fsys)
	fmt.Println(ps)
	fmt.Printf("%+v\n", rc.Repo)
	for _, dir := range []string{"svc", "bad"} {
		p, ps := l.LoadProject(fsys, dir, rc)
		fmt.Println(ps)
		if p != nil {
			fmt.Printf("%+v\n", *p)
		}
	}
}
