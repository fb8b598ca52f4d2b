#!/usr/bin/env bash
# Install the Terraform the kit is tested with (TERRAFORM_VERSION below) into a user folder, checksum-verified.
# Microsoft-hosted ubuntu-24.04 agents ship no Terraform, and `cdktf diff/deploy` run it.
#   scripts/install_terraform.sh [DEST]     (default: ~/.local/bin)
# The zip's SHA-256 is pinned here (from releases.hashicorp.com/terraform/<v>/terraform_<v>_SHA256SUMS): a
# mirror (TERRAFORM_RELEASES_URL) may serve the file, it cannot change it. Linux x86_64 only (hosted agents).
# On Azure Pipelines (TF_BUILD) and GitHub Actions (GITHUB_PATH) later steps find it on PATH.
set -euo pipefail
TERRAFORM_VERSION=1.11.4
SHA256_LINUX_AMD64=1ce994251c00281d6845f0f268637ba50c0005657eb3cf096b92f753b42ef4dc
base=${TERRAFORM_RELEASES_URL:-https://releases.hashicorp.com/terraform}
dest=${1:-$HOME/.local/bin}
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] \
  || { echo "error: install_terraform.sh supports Linux x86_64 only (found $(uname -s)-$(uname -m)). Fix: install Terraform $TERRAFORM_VERSION yourself" >&2; exit 2; }
if [ -x "$dest/terraform" ] && [ "$("$dest/terraform" version -json | python3 -c 'import json, sys; print(json.load(sys.stdin)["terraform_version"])')" = "$TERRAFORM_VERSION" ]; then
  echo "terraform $TERRAFORM_VERSION already in $dest"
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  zip="terraform_${TERRAFORM_VERSION}_linux_amd64.zip"
  curl -fsSL --retry 3 --proto '=https,http' -o "$tmp/$zip" "$base/$TERRAFORM_VERSION/$zip"
  echo "$SHA256_LINUX_AMD64  $tmp/$zip" | sha256sum --check --status \
    || { echo "error: $zip from $base does not have the pinned SHA-256; refusing to install it" >&2; exit 1; }
  mkdir -p "$dest"
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("terraform", sys.argv[2])' "$tmp/$zip" "$dest"
  chmod 0755 "$dest/terraform"
fi
if [ -n "${TF_BUILD:-}" ]; then echo "##vso[task.prependpath]$dest"; fi
if [ -n "${GITHUB_PATH:-}" ]; then echo "$dest" >> "$GITHUB_PATH"; fi
"$dest/terraform" version
