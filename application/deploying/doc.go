// Package deploying is the use case of promotion: deploy a release to an
// environment under that environment's policy, roll back, show what an
// environment runs, and approve (or revoke approval of) releases for
// environments that need it. It is in the application layer.
package deploying
