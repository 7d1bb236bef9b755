#!/bin/sh
# Writes a container image of hello-api as an OCI image layout in
# $FORGE_STAGING_DIR/image, without a Docker daemon: one layer holding
# /hello-api, its config and manifest, each stored under its sha256.
# The layer's entries have fixed owners, modes and times, so the same
# source gives the same image digest.
set -eu
out="$FORGE_STAGING_DIR/image"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/blobs/sha256" "$work/root"

cat ../../libs/greeting/greeting.sh server.sh > "$work/root/hello-api"
chmod 0755 "$work/root/hello-api"
tar -C "$work/root" --sort=name --mtime='@0' --owner=0 --group=0 --numeric-owner \
	-cf "$work/layer.tar" hello-api

# put FILE: stores FILE as a blob and prints its digest and size.
put() {
	d=$(sha256sum "$1" | cut -d' ' -f1)
	cp "$1" "$out/blobs/sha256/$d"
	printf 'sha256:%s %s' "$d" "$(wc -c < "$1" | tr -d ' ')"
}

set -- $(put "$work/layer.tar")
layer=$1 layer_size=$2
printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/bin/sh","/hello-api"]},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
	"$layer" > "$work/config.json"
set -- $(put "$work/config.json")
config=$1 config_size=$2
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
	"$config" "$config_size" "$layer" "$layer_size" > "$work/manifest.json"
set -- $(put "$work/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s}]}' "$1" "$2" > "$out/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' > "$out/oci-layout"
