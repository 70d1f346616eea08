#!/bin/sh
# numasim's two set-up commands (see README.md):
#   ./run.sh demo   install what is missing, build, run the main job
#   ./run.sh test   install what is missing, build, run every test (ctest)
# BUILD_DIR (default: build) and JOBS (default: nproc) may be set in the environment.
set -eu
cd "$(dirname "$0")"
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

build() {
	.ci/deps.sh
	cmake -S . -B "$BUILD_DIR" -DNUMASIM_WERROR=ON "$@" >/dev/null
	cmake --build "$BUILD_DIR" -j "$JOBS"
}

case "${1:-}" in
demo)
	build
	exec docs/examples/demo.sh "$BUILD_DIR/client/numasim"
	;;
test)
	build
	cd "$BUILD_DIR" && exec ctest --output-on-failure
	;;
*)
	echo "usage: ./run.sh demo|test" >&2
	exit 2
	;;
esac
