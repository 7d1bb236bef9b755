# build.sh [OUT]: writes the site into OUT (default dist).
set -eu
out="${1:-dist}"
mkdir -p "$out"
cat > "$out/index.html" <<'HTML'
<!doctype html>
<html><head><title>hello</title></head>
<body><p>hello, world</p></body></html>
HTML
echo "built $out/index.html"
