#!/usr/bin/env bash
# Stops exactly the daemons start-openstack.sh recorded, services before their backends.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
for d in terrane-controller fake-ovs-agent designate-producer designate-worker designate-mdns designate-api designate-central \
         cinder-volume cinder-scheduler cinder-api glance-api neutron-server nova-compute nova-scheduler nova-conductor nova-api placement keystone \
         named rabbitmq rabbitmq-wrapper epmd mariadb; do
  stop_daemon "$d" &
done
wait
log "openstack stopped"
