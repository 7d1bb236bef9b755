# hello-api answers one request: its arguments are the path segments.
# It is built by concatenating libs/greeting/greeting.sh in front of it.
main() {
	case "${1:-}" in
	hello) greeting "${2:-}" ;;
	health) echo ok ;;
	*) echo "unknown route: ${1:-}" >&2; return 2 ;;
	esac
}
main "$@"
