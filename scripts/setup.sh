#!/usr/bin/env bash
# One-step set-up for tinyml-ci on Debian 12 / Ubuntu 24.04 (and CI):
# system packages with apt, Python packages into ./.venv (PEP 668 forbids
# pip in the system Python). Works as root (CI) and as a user with sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  gcc-arm-none-eabi libnewlib-arm-none-eabi   # ARM GNU toolchain + C library
  qemu-system-arm                             # the packaged emulator
  cmake ninja-build make gcc                  # firmware build, host C tests
  python3 python3-venv python3-dev            # the virtual environment
)

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  "${SUDO[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: system packages already installed"
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating virtual environment .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
echo "setup: installing Python packages (requirements.lock: every package pinned, with hashes) into .venv"
.venv/bin/python -m pip install -q --require-hashes -r requirements.lock

# Renode (optional): installed from a Renode 1.15.1 bundle (install.sh + tarball, see
# docs/renode.md) when one is given with RENODE_BUNDLE or lies next to the checkout,
# as on the project's machines and in CI. Its renode-test Python requirements go into
# their own virtual environment (PREFIX/venv), never into .venv.
RENODE_BUNDLE=${RENODE_BUNDLE:-../shared/renode-1.15.1-mono}
RENODE_PREFIX=${RENODE_PREFIX:-/opt/renode-1.15.1}
if [ -x "$RENODE_BUNDLE/install.sh" ] || [ -f "$RENODE_BUNDLE/install.sh" ]; then
  echo "setup: installing Renode from $RENODE_BUNDLE into $RENODE_PREFIX"
  bash "$RENODE_BUNDLE/install.sh" --with-tests "$RENODE_PREFIX" | sed 's/^/  renode: /'
  for launcher in renode renode-test; do   # on PATH for every shell: the launchers follow links
    "${SUDO[@]}" ln -sfn "$RENODE_PREFIX/$launcher" "/usr/local/bin/$launcher"
  done
  echo "setup: $(renode --version 2>/dev/null | head -n1) on PATH ($(command -v renode))"
elif command -v renode >/dev/null 2>&1; then
  echo "setup: using the Renode already on PATH: $(command -v renode)"
else
  echo "setup: Renode not installed (optional): the Renode tests will not run; see docs/renode.md"
fi
echo "setup: done. Activate with: . .venv/bin/activate"
