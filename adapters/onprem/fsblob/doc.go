// Package fsblob is the filesystem adapter of the ObjectStore port
// (ports.ObjectStore). It is in the adapters/onprem layer and is the object
// store of the local profile: step logs, large job results and artifacts
// kept in one directory on the machine that runs the platform.
//
// The package owns the layout of that directory:
//
//	<dir>/signing.key   the HMAC key of signed links (0600, made on first use)
//	<dir>/objects/...   one file per object, in directories per key segment
//
// Every key segment but the last names a directory "<segment>.d" and the
// last names a file "<segment>.o", so "a/b" (objects/a.d/b.o) and "a/b/c"
// (objects/a.d/b.d/c.o) live side by side, and no key can name anything
// else in the tree: temporary files end in ".tmp", and a segment too long
// for a file name (over 253 bytes) is stored under its SHA-256 as
// "<hex>.hd" or "<hex>.ho". Keys are validated as the port says before any
// path is made, every path is opened through an os.Root on <dir>/objects
// (so nothing outside it can be reached, even by a symlink), and a symlink
// inside the tree is refused rather than followed.
//
// An object file starts with a small header — a magic string, a length and
// a JSON record of the key and content type — followed by the content.
// Keeping the content type in the same file as the content makes Put
// atomic for both: the file is written under a temporary name in the
// target directory, fsynced, and renamed over the old one, then the
// directory is fsynced. Readers that opened the old file keep reading it
// whole; readers after the rename see the new one whole.
//
// List walks the tree in key order rather than directory-name order
// ("a/b!" comes before "a/b/c"), skipping subtrees outside the prefix and
// before `after`, and stops after limit+1 objects.
//
// PresignGet makes links to the platform's own API:
// baseURL + "/v1/objects/" + escaped key + "?expires=<unix>&sig=<hex>",
// where sig is the HMAC-SHA256 of the key and expiry under the store's key.
// SignedHandler serves them; the API mounts it at /v1/objects/.
package fsblob
