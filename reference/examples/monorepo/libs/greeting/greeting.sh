# greeting prints a greeting for its first argument (default: world).
greeting() {
	printf 'hello, %s\n' "${1:-world}"
}
