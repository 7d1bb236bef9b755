set -eu
cat ../../libs/greeting/greeting.sh server.sh > /tmp/hello-api-test.$$
trap 'rm -f /tmp/hello-api-test.$$' EXIT
[ "$(sh /tmp/hello-api-test.$$ health)" = "ok" ] || { echo "health route failed"; exit 1; }
[ "$(sh /tmp/hello-api-test.$$ hello forge)" = "hello, forge" ] || { echo "hello route failed"; exit 1; }
if sh /tmp/hello-api-test.$$ nope 2>/dev/null; then echo "unknown route did not fail"; exit 1; fi
echo "hello-api: 3 tests passed"
