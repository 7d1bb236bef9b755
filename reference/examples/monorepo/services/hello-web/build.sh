set -eu
mkdir -p dist
cat > dist/index.html <<'HTML'
<!doctype html>
<html><head><title>hello</title></head>
<body><p>hello, world</p></body></html>
HTML
echo "built dist/index.html"
