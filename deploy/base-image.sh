#!/bin/sh
# shellcheck disable=SC2086,SC2048,SC2013
# base-image.sh - make the two Debian 12 base images that deploy/Dockerfile starts from,
# locally, from Debian's packages, for machines that cannot pull from a container registry.
#
#   deploy/base-image.sh [--force] [--refresh] [--cache-dir DIR]
#
# It makes
#   debian:bookworm       the build stage's base: minbase + the compilers and -dev packages
#   debian:bookworm-slim  the runtime stage's base: minbase + the three runtime libraries
# under the tags a machine with a registry would pull, so the Dockerfile is the same on both
# kinds of machine. The packages the stages need are already in these images, so the
# Dockerfile's apt-get steps are skipped and the image build needs no network. On a machine
# that can pull images, skip this script.
#
# How, per image: `debootstrap --make-tarball` downloads its .debs once into a tarball in the
# cache (the first run needs Debian's package mirror, found as apt on this machine finds it);
# `debootstrap --variant=minbase --unpack-tarball` installs from that tarball with no network;
# the tree is trimmed and tarred (also cached), and `docker import` tags it. A re-run with
# both tags present takes a second; --force with a warm cache only imports again.
#
#   --force          import the images again even if the tags exist (from the cache: seconds)
#   --refresh        forget the cache: download the packages and install them again (implies
#                    --force)
#   --cache-dir DIR  where the tarballs go (default $NUMASIM_CACHE_DIR, else
#                    ${XDG_CACHE_HOME:-~/.cache}/numasim/base-image)
#
# Idempotent: a tag that exists is left alone unless --force. Needs root (debootstrap and
# chroot), installs debootstrap with apt-get if it is missing. Exit status 0 when both tags
# exist at the end.
set -eu

SUITE=bookworm
BUILD_TAG=debian:bookworm
RUNTIME_TAG=debian:bookworm-slim
# What each stage of deploy/Dockerfile needs (keep the two lists in step with it).
RUNTIME_PKGS="libuv1 libprotobuf-c1 libinih1"
BUILD_PKGS="$RUNTIME_PKGS build-essential cmake pkg-config libuv1-dev libprotobuf-c-dev
protobuf-c-compiler libcunit1-dev libinih-dev python3-minimal"

force=0
refresh=0
cache_dir=${NUMASIM_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/numasim/base-image}

usage() {
	echo "usage: deploy/base-image.sh [--force] [--refresh] [--cache-dir DIR]" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--force) force=1 ;;
	--refresh) force=1 refresh=1 ;;
	--cache-dir)
		[ $# -ge 2 ] || usage
		cache_dir=$2
		shift
		;;
	--cache-dir=*) cache_dir=${1#--cache-dir=} ;;
	-h | --help)
		sed -n '3,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "base-image.sh: unknown argument '$1'" >&2
		usage
		;;
	esac
	shift
done

log() { echo "base-image: $*"; }
die() {
	echo "base-image: $*" >&2
	exit 1
}

docker info >/dev/null 2>&1 || die "the Docker engine does not answer (docker info failed)"

have_tag() { docker image inspect "$1" >/dev/null 2>&1; }

need_build=1 need_runtime=1
if [ "$force" -eq 0 ]; then
	have_tag "$BUILD_TAG" && need_build=0
	have_tag "$RUNTIME_TAG" && need_runtime=0
	if [ "$need_build" -eq 0 ] && [ "$need_runtime" -eq 0 ]; then
		log "$BUILD_TAG and $RUNTIME_TAG exist; nothing to do (--force imports them again)"
		exit 0
	fi
fi

[ "$(id -u)" -eq 0 ] || die "debootstrap needs root: run it as root (or with sudo)"

if ! command -v debootstrap >/dev/null 2>&1; then
	log "installing debootstrap"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

arch=$(dpkg --print-architecture)
mkdir -p "$cache_dir"
if [ "$refresh" -eq 1 ]; then
	rm -f "$cache_dir/$SUITE-$arch-"*.debs.tgz "$cache_dir/$SUITE-$arch-"*.rootfs.tar
fi

work=$(mktemp -d "${TMPDIR:-/var/tmp}/numasim-base.XXXXXX")
cleanup() {
	# A debootstrap that failed half way may leave /proc and /sys mounted in its chroot.
	for m in $(awk -v w="$work" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

comma() { echo $* | tr ' ' ','; }

# debootstrap_logged NAME ARGS...: debootstrap, its output in $work/NAME.log, shown on failure.
debootstrap_logged() {
	name=$1
	shift
	if ! debootstrap "$@" >"$work/$name.log" 2>&1; then
		tail -20 "$work/$name.log" >&2
		die "debootstrap ($name) failed: the last 20 lines of its log are above"
	fi
}

# make_image TAG FLAVOUR PACKAGES: the flavour's .debs (cached), its root file system
# (cached), then docker import. Each cache file is named after a hash of the suite, the
# architecture and the package list, so another list makes new files.
make_image() {
	tag=$1 flavour=$2 pkgs=$3
	key=$(printf '%s\n' "$SUITE" "$arch" $pkgs | sort -u | sha256sum | cut -c1-12)
	debs="$cache_dir/$SUITE-$arch-$flavour-$key.debs.tgz"
	rootfs_tar="$cache_dir/$SUITE-$arch-$flavour-$key.rootfs.tar"
	if [ ! -s "$rootfs_tar" ]; then
		if [ ! -s "$debs" ]; then
			log "$flavour: downloading minbase and $(echo $pkgs | wc -w) packages with their dependencies (once)"
			started=$(date +%s)
			debootstrap_logged "$flavour-download" --variant=minbase --arch="$arch" \
				--include="$(comma $pkgs)" --make-tarball="$work/debs.tgz" "$SUITE" \
				"$work/$flavour-download"
			mv "$work/debs.tgz" "$debs"
			log "$flavour: downloaded in $(($(date +%s) - started)) s into $debs ($(du -h "$debs" | cut -f1))"
		fi
		started=$(date +%s)
		root="$work/$flavour"
		debootstrap_logged "$flavour" --variant=minbase --arch="$arch" \
			--include="$(comma $pkgs)" --unpack-tarball="$debs" "$SUITE" "$root"
		trim_rootfs "$root" "$flavour"
		npkgs=$(dpkg-query --admindir="$root/var/lib/dpkg" -W | wc -l)
		tar --numeric-owner -C "$root" -cf "$rootfs_tar.tmp" --exclude='./dev/*' \
			--exclude='./proc/*' --exclude='./sys/*' --exclude='./run/*' --exclude='./tmp/*' .
		mv "$rootfs_tar.tmp" "$rootfs_tar"
		rm -rf "$root"
		log "$flavour: installed offline in $(($(date +%s) - started)) s ($npkgs packages)"
	else
		log "$flavour: reusing $rootfs_tar"
	fi
	old_id=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
	docker import \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'CMD ["bash"]' \
		--change "LABEL org.numasim.base-image=debootstrap-$SUITE-minbase-$flavour" \
		--change "LABEL org.numasim.base-image.packages=$(comma $pkgs)" \
		--message "deploy/base-image.sh: debootstrap --variant=minbase $SUITE ($flavour)" \
		"$rootfs_tar" "$tag" >/dev/null
	# The image the tag left: removed unless something still uses it (then the engine says no).
	if [ -n "$old_id" ] && [ "$old_id" != "$(docker image inspect -f '{{.Id}}' "$tag")" ]; then
		docker rmi "$old_id" >/dev/null 2>&1 || true
	fi
	log "tagged $tag ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
}

# trim_rootfs DIR FLAVOUR: what a container image has no use for, as Debian's own images do.
trim_rootfs() {
	r=$1
	rm -f "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/*.bin
	rm -rf "$r"/var/lib/apt/lists/* "$r"/var/log/bootstrap.log "$r"/debootstrap
	: >"$r/etc/hostname"
	rm -f "$r/etc/resolv.conf" # the engine provides it
	# apt in a container: drop downloaded .debs, skip translations (as the official images).
	cat >"$r/etc/apt/apt.conf.d/docker-clean" <<-'EOF'
		DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
		APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
		Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
	EOF
	echo 'Acquire::Languages "none";' >"$r/etc/apt/apt.conf.d/docker-no-languages"
	echo 'APT::Install-Recommends "false";' >"$r/etc/apt/apt.conf.d/docker-no-recommends"
	if [ "$2" = runtime ]; then
		# The slim flavour: no manuals, documentation or translations (copyrights stay).
		cat >"$r/etc/dpkg/dpkg.cfg.d/docker-slim" <<-'EOF'
			path-exclude /usr/share/doc/*
			path-include /usr/share/doc/*/copyright
			path-exclude /usr/share/man/*
			path-exclude /usr/share/info/*
			path-exclude /usr/share/locale/*
			path-exclude /usr/share/lintian/*
		EOF
		find "$r/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
		find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
		rm -rf "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/locale/* \
			"$r"/usr/share/lintian/*
	fi
}

[ "$need_build" -eq 0 ] || make_image "$BUILD_TAG" build "$BUILD_PKGS"
[ "$need_runtime" -eq 0 ] || make_image "$RUNTIME_TAG" runtime "$RUNTIME_PKGS"
have_tag "$BUILD_TAG" && have_tag "$RUNTIME_TAG"
