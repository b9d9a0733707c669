#!/usr/bin/env bash
# Installs the Debian packages of the local OpenStack test cloud (idempotent).
# Daemons are not started here: start-openstack.sh does that.
set -euo pipefail

PACKAGES=(
  mariadb-server rabbitmq-server
  keystone placement-api
  nova-api nova-conductor nova-scheduler nova-compute nova-compute-ironic
  neutron-server
  glance-api
  cinder-api cinder-scheduler cinder-volume
  designate-api designate-central designate-worker designate-producer designate-mdns
  bind9 bind9utils bind9-dnsutils
  python3-openstackclient python3-designateclient python3-pymysql
  qemu-utils uwsgi-core uwsgi-plugin-python3 iproute2 curl openssl
  git python3
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "openstack packages: already installed"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# No init system here: keep package scripts from starting daemons.
printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
$SUDO chmod +x /usr/sbin/policy-rc.d
export DEBIAN_FRONTEND=noninteractive
# Keep downloaded .debs across runs.
APT_CACHE="${HOME}/.cache/terrane/apt-archives"
mkdir -p "$APT_CACHE/partial"
$SUDO apt-get -o APT::Sandbox::User=root -o Dir::Cache::archives="$APT_CACHE" update -qq
$SUDO apt-get -o APT::Sandbox::User=root -o Dir::Cache::archives="$APT_CACHE" install -y -qq --no-install-recommends "${missing[@]}"
echo "openstack packages: installed ${#missing[@]} packages"
