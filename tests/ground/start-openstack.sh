#!/usr/bin/env bash
# Starts the test cloud on 127.0.0.1 (idempotent: leaves running daemons be),
# creating databases, syncing schemas and seeding content on first start.
# Writes $GROUND_DIR/clouds.yaml with the clouds "admin" and "demo".
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$HERE/credentials.env"
export ADMIN_PASS SERVICE_USER SERVICE_PASS DEMO_USER DEMO_PASS DEMO_PROJECT REGION STATE_DIR
t0=$(date +%s)

"$HERE/configure-openstack.sh"

# --- MariaDB and RabbitMQ --------------------------------------------------
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
start_daemon mariadb /usr/sbin/mariadbd --user=mysql
wait_for "mariadb" 60 mysqladmin --protocol=socket ping
mysql --protocol=socket <<SQL
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
$(for d in keystone placement nova_api nova nova_cell0 neutron glance designate cinder; do
  echo "CREATE DATABASE IF NOT EXISTS $d;"
  echo "GRANT ALL PRIVILEGES ON $d.* TO '$DB_USER'@'127.0.0.1';"
  echo "GRANT ALL PRIVILEGES ON $d.* TO '$DB_USER'@'localhost';"
done)
FLUSH PRIVILEGES;
SQL

export ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODENAME=rabbit@localhost
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
if ! port_open 5672; then
  epmd -address 127.0.0.1 -daemon
  start_daemon rabbitmq-wrapper rabbitmq-server
  wait_for "rabbitmq" 90 port_open 5672
fi
# Debian's wrapper su's to rabbitmq, which puts beam in a new session: record beam itself.
ss -ltnpH 'sport = :5672' | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1 > "$RUN_DIR/rabbitmq.pid"
pgrep -x epmd | head -1 > "$RUN_DIR/epmd.pid" || true

# --- bind9 -----------------------------------------------------------------
mkdir -p /var/cache/bind && chown -R bind:bind /var/cache/bind
start_daemon named /usr/sbin/named -f -u bind -c /etc/bind/named.conf
wait_for "bind9" 30 port_open 953

# --- schemas (once per installed package version) ---------------------------
stamp="$STATE_DIR/schemas.$(dpkg-query -W -f='${Version}' keystone nova-common neutron-common glance-common designate-common | md5sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  log "syncing database schemas"
  {
  keystone-manage db_sync
  keystone-manage fernet_setup --keystone-user root --keystone-group root
  keystone-manage credential_setup --keystone-user root --keystone-group root
  } >"$LOG_DIR/keystone-db.log" 2>&1
  placement-manage db sync >"$LOG_DIR/placement-db.log" 2>&1 &
  p1=$!
  neutron-db-manage --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/ml2_conf.ini upgrade head >"$LOG_DIR/neutron-db.log" 2>&1 &
  p2=$!
  glance-manage db_sync >"$LOG_DIR/glance-db.log" 2>&1 &
  p3=$!
  designate-manage database sync >"$LOG_DIR/designate-db.log" 2>&1 &
  p4=$!
  {
  nova-manage api_db sync
  nova-manage cell_v2 list_cells | grep -q ' cell0 ' || nova-manage cell_v2 map_cell0 --database_connection "mysql+pymysql://$DB_USER:$DB_PASS@127.0.0.1/nova_cell0"
  nova-manage cell_v2 list_cells | grep -q ' cell1 ' || nova-manage cell_v2 create_cell --name cell1
  nova-manage db sync
  } >"$LOG_DIR/nova-db.log" 2>&1
  for p in $p1 $p2 $p3 $p4; do wait "$p" || die "a schema sync failed (see $LOG_DIR/*-db.log)"; done
  keystone-manage bootstrap --bootstrap-password "$ADMIN_PASS" \
    --bootstrap-admin-url http://127.0.0.1:5000/v3/ --bootstrap-internal-url http://127.0.0.1:5000/v3/ \
    --bootstrap-public-url http://127.0.0.1:5000/v3/ --bootstrap-region-id "$REGION" >>"$LOG_DIR/keystone-db.log" 2>&1
  touch "$stamp"
fi

cinder_stamp="$STATE_DIR/schema-cinder.$(dpkg-query -W -f='${Version}' cinder-common)"
if [ ! -f "$cinder_stamp" ]; then
  cinder-manage --config-file /etc/cinder/cinder.conf db sync >"$LOG_DIR/cinder-db.log" 2>&1 || die "cinder schema sync failed (see $LOG_DIR/cinder-db.log)"
  touch "$cinder_stamp"
fi

# --- Keystone, then the catalog ----------------------------------------------
uwsgi_app() {  # NAME PORT WSGI_FILE
  # One thread per worker: with several, keystone's eventlet hub was seen to
  # wedge for good ("greenlet.error: cannot switch to a different thread").
  start_daemon "$1" uwsgi --plugin python3 --http11-socket "127.0.0.1:$2" --wsgi-file "$3" \
    --master --processes 4 --threads 1 --die-on-term --need-app --buffer-size 65535 --enable-threads
}
uwsgi_app keystone 5000 /usr/bin/keystone-wsgi-public
wait_for "keystone" 60 http_ok http://127.0.0.1:5000/v3
# Again whenever seed.py changed (a service added): it finds before it creates.
[ "$STATE_DIR/catalog.done" -nt "$HERE/seed.py" ] || { $SYS_PY "$HERE/seed.py" catalog && touch "$STATE_DIR/catalog.done"; }

# --- the other services --------------------------------------------------------
uwsgi_app placement 8778 /usr/bin/placement-api
start_daemon nova-api nova-api --config-file /etc/nova/nova.conf
start_daemon nova-conductor nova-conductor --config-file /etc/nova/nova.conf
start_daemon nova-scheduler nova-scheduler --config-file /etc/nova/nova.conf
start_daemon nova-compute nova-compute --config-file /etc/nova/nova.conf
start_daemon neutron-server neutron-server --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/ml2_conf.ini
start_daemon fake-ovs-agent $SYS_PY "$HERE/fake_ovs_agent.py" --config-file /etc/neutron/neutron.conf
start_daemon glance-api glance-api --config-file /etc/glance/glance-api.conf
for d in api scheduler volume; do
  start_daemon "cinder-$d" "cinder-$d" --config-file /etc/cinder/cinder.conf
done
for d in central api worker producer mdns; do
  start_daemon "designate-$d" "designate-$d" --config-file /etc/designate/designate.conf
done

wait_for "placement" 90 http_ok http://127.0.0.1:8778/
wait_for "nova-api" 120 http_ok http://127.0.0.1:8774/
wait_for "neutron-server" 120 http_ok http://127.0.0.1:9696/
wait_for "glance-api" 120 http_ok http://127.0.0.1:9292/versions
wait_for "designate-api" 120 http_ok http://127.0.0.1:9001/
wait_for "designate-mdns" 60 port_open 5354
wait_for "cinder-api" 120 http_ok http://127.0.0.1:8776/
if [ ! -f "$STATE_DIR/pool.done" ]; then
  wait_for "designate pool update" 120 designate-manage pool update --file /etc/designate/pools.yaml
  touch "$STATE_DIR/pool.done"
fi
$SYS_PY "$HERE/seed.py" content "$GROUND_DIR/clouds.yaml"
export OS_CLIENT_CONFIG_FILE="$GROUND_DIR/clouds.yaml" OS_CLOUD=admin
wait_for "nova-compute host mapped (hypervisor up)" 180 sh -c \
  'openstack hypervisor list -f value -c State | grep -q up && nova-manage cell_v2 discover_hosts >/dev/null && openstack compute service list --service nova-compute -f value -c State | grep -q up'
wait_for "cinder-volume up" 120 sh -c 'openstack volume service list --service cinder-volume -f value -c State | grep -q up'
wait_for "OVS agent alive" 60 sh -c 'openstack network agent list -f value -c Alive | grep -q True'
log "openstack up in $(( $(date +%s) - t0 ))s; clouds.yaml: $GROUND_DIR/clouds.yaml"
