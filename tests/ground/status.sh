#!/usr/bin/env bash
# Reports the health of the test ground: each API answering. Exits 1 if any is down.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
rc=0
check() {  # NAME CMD...
  if "${@:2}" >/dev/null 2>&1; then printf '  %-20s up\n' "$1"; else printf '  %-20s DOWN\n' "$1"; rc=1; fi
}
echo "kubernetes:"
kc="$GROUND_DIR/kube/kubeconfig"
check kube-apiserver sh -c "[ -f '$kc' ] && curl -fsS --max-time 5 --cacert '$GROUND_DIR/kube/ca.crt' -H \"Authorization: Bearer \$(cat '$GROUND_DIR/kube/admin.token')\" https://127.0.0.1:\$(cat '$GROUND_DIR/kube/port')/readyz"
echo "openstack:"
check mariadb mysqladmin --protocol=socket ping
check rabbitmq port_open 5672
check keystone http_ok http://127.0.0.1:5000/v3
check placement http_ok http://127.0.0.1:8778/
check nova http_ok http://127.0.0.1:8774/
check neutron http_ok http://127.0.0.1:9696/
check glance http_ok http://127.0.0.1:9292/versions
check designate http_ok http://127.0.0.1:9001/
check cinder http_ok http://127.0.0.1:8776/
check bind9 dig +short +time=2 @127.0.0.1 version.bind chaos txt
for d in nova-conductor nova-scheduler nova-compute fake-ovs-agent designate-central designate-worker designate-producer designate-mdns; do
  check "$d" daemon_alive "$d"
done
exit $rc
