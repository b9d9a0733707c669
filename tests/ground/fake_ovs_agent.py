"""Reports a live Open vSwitch agent on host `ostest` to neutron-server.

There is no Open vSwitch on the test ground. ML2's openvswitch mechanism
driver binds a port only when an alive OVS agent is registered for the port's
host, so this sends neutron's normal report_state RPC every 20 s. Ports then
bind (vif_type ovs) and Nova servers reach ACTIVE; no packet ever flows.
Run with Debian's /usr/bin/python3, which has neutron's libraries.
"""
import sys
import time

from neutron.agent import rpc as agent_rpc
from neutron.common import config as common_config
from neutron.conf.agent import common as agent_conf
from neutron_lib import constants, context
from neutron_lib import rpc as n_rpc
from neutron_lib.agent import topics
from oslo_config import cfg

HOST = "ostest"


def main():
    agent_conf.register_agent_state_opts_helper(cfg.CONF)
    common_config.register_common_config_options()
    cfg.CONF(sys.argv[1:], project="neutron")
    common_config.setup_logging()
    n_rpc.init(cfg.CONF)
    state_rpc = agent_rpc.PluginReportStateAPI(topics.REPORTS)
    state = {
        "binary": "neutron-openvswitch-agent",
        "host": HOST,
        "topic": constants.L2_AGENT_TOPIC,
        "agent_type": constants.AGENT_TYPE_OVS,
        "start_flag": True,
        "configurations": {
            "tunnel_types": ["vxlan"],
            "tunneling_ip": "127.0.0.1",
            "bridge_mappings": {"physnet1": "br-ex"},
            "integration_bridge": "br-int",
            "l2_population": False,
            "arp_responder_enabled": False,
            "enable_distributed_routing": False,
            "ovs_hybrid_plug": False,
            "devices": 0,
        },
    }
    ctx = context.get_admin_context_without_session()
    while True:
        try:
            state_rpc.report_state(ctx, state, use_call=True)
            state.pop("start_flag", None)
            print("reported state", flush=True)
        except Exception as exc:  # neutron-server may not be up yet
            print(f"report_state failed: {exc}", flush=True)
        time.sleep(20)


if __name__ == "__main__":
    main()
