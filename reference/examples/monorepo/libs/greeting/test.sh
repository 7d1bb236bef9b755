set -eu
. ./greeting.sh
[ "$(greeting)" = "hello, world" ] || { echo "default greeting is wrong: $(greeting)"; exit 1; }
[ "$(greeting forge)" = "hello, forge" ] || { echo "named greeting is wrong: $(greeting forge)"; exit 1; }
echo "greeting: 2 tests passed"
