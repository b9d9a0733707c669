#!/usr/bin/env bash
# Writes the configuration of every test-cloud service (idempotent: rewrites
# the same files every time). Everything binds to 127.0.0.1.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$HERE/credentials.env"

DB="mysql+pymysql://$DB_USER:$DB_PASS@127.0.0.1"
RABBIT="rabbit://guest:guest@127.0.0.1:5672/"
KS="http://127.0.0.1:5000"

authtoken() {  # the [keystone_authtoken]-style block every service shares
  cat <<INI
auth_url = $KS/v3
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $SERVICE_USER
password = $SERVICE_PASS
region_name = $REGION
INI
}
middleware() {
  echo "[keystone_authtoken]"
  echo "www_authenticate_uri = $KS"
  echo "service_token_roles_required = true"
  authtoken
}

# write FILE: stdin to FILE, leaving FILE (and its mtime) alone when unchanged,
# so start_daemon restarts only daemons whose configuration changed.
write() {
  mkdir -p "$(dirname "$1")"
  local tmp; tmp="$(mktemp)"; cat > "$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else cat "$tmp" > "$1"; rm -f "$tmp"; fi
}

write /etc/mysql/mariadb.conf.d/99-terrane.cnf <<INI
[mysqld]
bind-address = 127.0.0.1
innodb_flush_log_at_trx_commit = 0
innodb_buffer_pool_size = 128M
max_connections = 1000
skip-name-resolve
INI

write /etc/keystone/keystone.conf <<INI
[DEFAULT]
use_stderr = true
[database]
connection = $DB/keystone
[token]
provider = fernet
expiration = 3600
[fernet_tokens]
key_repository = /etc/keystone/fernet-keys/
[credential]
key_repository = /etc/keystone/credential-keys/
INI

write /etc/placement/placement.conf <<INI
[DEFAULT]
use_stderr = true
[api]
auth_strategy = keystone
[placement_database]
connection = $DB/placement
$(middleware)
INI

write /etc/nova/nova.conf <<INI
[DEFAULT]
use_stderr = true
host = ostest
my_ip = 127.0.0.1
compute_driver = fake.FakeDriver
# One compute host: a resize lands on the same host.
allow_resize_to_same_host = true
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_workers = 1
transport_url = $RABBIT
state_path = /var/lib/nova
vif_plugging_is_fatal = false
vif_plugging_timeout = 0
[api]
auth_strategy = keystone
[wsgi]
api_paste_config = /etc/nova/api-paste.ini
[api_database]
connection = $DB/nova_api
[database]
connection = $DB/nova
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 5
[filter_scheduler]
enabled_filters = ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter
[quota]
instances = 200
cores = 2000
ram = 4096000
key_pairs = 1000
server_groups = 100
[vnc]
enabled = false
[glance]
region_name = $REGION
[cinder]
os_region_name = $REGION
# Cinder (since OSSA-2023-003) lets only Nova, proven by a service token, detach.
[service_user]
send_service_user_token = true
$(authtoken)
[oslo_concurrency]
lock_path = /var/lib/nova/tmp
$(middleware)
[placement]
$(authtoken)
[neutron]
$(authtoken)
service_metadata_proxy = false
[cinder]
os_region_name = $REGION
INI

write /etc/neutron/neutron.conf <<INI
[DEFAULT]
use_stderr = true
bind_host = 127.0.0.1
bind_port = 9696
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = $RABBIT
state_path = /var/lib/neutron
allow_overlapping_ips = true
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 1
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
dhcp_agent_notification = false
[quotas]
quota_network = 1000
quota_subnet = 1000
quota_port = 5000
quota_router = 500
quota_floatingip = 500
quota_security_group = 1000
quota_security_group_rule = 10000
[database]
connection = $DB/neutron
[oslo_concurrency]
lock_path = /var/lib/neutron/tmp
$(middleware)
[nova]
$(authtoken)
INI

write /etc/neutron/plugins/ml2/ml2_conf.ini <<INI
[ml2]
type_drivers = flat,vxlan
tenant_network_types = vxlan
mechanism_drivers = openvswitch
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
[ml2_type_vxlan]
vni_ranges = 1:10000
INI

write /etc/glance/glance-api.conf <<INI
[DEFAULT]
use_stderr = true
bind_host = 127.0.0.1
bind_port = 9292
workers = 1
enabled_backends = fs:file
[database]
connection = $DB/glance
[paste_deploy]
flavor = keystone
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = /var/lib/glance/images/
[os_glance_staging_store]
filesystem_store_datadir = /var/lib/glance/staging/
[os_glance_tasks_store]
filesystem_store_datadir = /var/lib/glance/tasks_work_dir/
[oslo_concurrency]
lock_path = /var/lib/glance/tmp
[import_filtering_opts]
# web-download from any port: the tests serve images on a loopback port...
allowed_ports = []
# ...and from loopback, which Glance refuses unless the host is allow-listed.
allowed_hosts = [127.0.0.1]
$(middleware)
INI
mkdir -p /var/lib/glance/images /var/lib/glance/staging /var/lib/glance/tasks_work_dir /var/lib/glance/tmp

# Cinder with the fake volume driver its own functional tests use (shipped in
# python3-cinder): volumes reach "available" and attach to servers of Nova's
# fake driver, nothing touches a disk, LVM or an iSCSI target.
write /etc/cinder/cinder.conf <<INI
[DEFAULT]
use_stderr = true
transport_url = $RABBIT
auth_strategy = keystone
host = ostest
my_ip = 127.0.0.1
osapi_volume_listen = 127.0.0.1
osapi_volume_workers = 1
enabled_backends = fake
glance_api_servers = http://127.0.0.1:9292
state_path = /var/lib/cinder
[database]
connection = $DB/cinder
[oslo_concurrency]
lock_path = /var/lib/cinder/tmp
[fake]
volume_driver = cinder.tests.fake_driver.FakeLoggingVolumeDriver
volume_backend_name = fake
[nova]
$(authtoken)
$(middleware)
INI
mkdir -p /var/lib/cinder/tmp

write /etc/designate/designate.conf <<INI
[DEFAULT]
use_stderr = true
transport_url = $RABBIT
[service:api]
listen = 127.0.0.1:9001
auth_strategy = keystone
enable_api_v2 = true
enable_api_admin = true
enabled_extensions_admin = quotas
workers = 1
[service:central]
workers = 1
[service:worker]
workers = 1
poll_delay = 1
poll_retry_interval = 2
poll_max_retries = 30
[service:producer]
workers = 1
[service:mdns]
listen = 127.0.0.1:5354
workers = 1
[storage:sqlalchemy]
connection = $DB/designate
[oslo_concurrency]
lock_path = /var/lib/designate/tmp
$(middleware)
INI

write /etc/designate/pools.yaml <<YAML
- name: default
  description: the local bind9
  attributes: {}
  ns_records:
    - hostname: ns1.terrane.test.
      priority: 1
  nameservers:
    - host: 127.0.0.1
      port: 53
  targets:
    - type: bind9
      description: local bind9
      masters:
        - host: 127.0.0.1
          port: 5354
      options:
        host: 127.0.0.1
        port: 53
        rndc_host: 127.0.0.1
        rndc_port: 953
        rndc_key_file: /etc/bind/rndc.key
YAML

[ -f /etc/bind/rndc.key ] || rndc-confgen -a -c /etc/bind/rndc.key
write /etc/bind/named.conf.options <<CONF
include "/etc/bind/rndc.key";
options {
  directory "/var/cache/bind";
  listen-on port 53 { 127.0.0.1; };
  listen-on-v6 { none; };
  allow-new-zones yes;
  allow-query { any; };
  recursion no;
  dnssec-validation no;
  pid-file "$RUN_DIR/named.own.pid";
};
controls {
  inet 127.0.0.1 port 953 allow { 127.0.0.1; } keys { "rndc-key"; };
};
CONF
chmod 0644 /etc/bind/rndc.key
log "configuration written"
