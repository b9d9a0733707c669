"""Seeds the test cloud (idempotent: finds before it creates).

  seed.py catalog  CLOUDS_YAML   services, endpoints, the service user
  seed.py content  CLOUDS_YAML   projects and users, flavors, external network, image

Reads the credentials from credentials.env's variables in the environment.
Run with Debian's /usr/bin/python3.
"""
import os
import sys

import openstack

E = os.environ
KS = "http://127.0.0.1:5000/v3"
SERVICES = [
    # name, type, url
    ("keystone", "identity", "http://127.0.0.1:5000/v3"),
    ("placement", "placement", "http://127.0.0.1:8778"),
    ("nova", "compute", "http://127.0.0.1:8774/v2.1"),
    ("neutron", "network", "http://127.0.0.1:9696"),
    ("glance", "image", "http://127.0.0.1:9292"),
    ("designate", "dns", "http://127.0.0.1:9001"),
    ("cinderv3", "volumev3", "http://127.0.0.1:8776/v3/%(project_id)s"),
]


def admin():
    return openstack.connect(
        auth_url=KS, username="admin", password=E["ADMIN_PASS"], project_name="admin",
        user_domain_name="Default", project_domain_name="Default", region_name=E["REGION"],
        identity_interface="public",
    )


def catalog():
    c = admin()
    ident = c.identity
    services = {s.type: s for s in ident.services()}
    endpoints = list(ident.endpoints())
    for name, typ, url in SERVICES:
        svc = services.get(typ) or ident.create_service(name=name, type=typ, is_enabled=True)
        for iface in ("public", "internal", "admin"):
            if not any(e.service_id == svc.id and e.interface == iface for e in endpoints):
                ident.create_endpoint(service_id=svc.id, interface=iface, url=url, region_id=E["REGION"])
    service_project = ensure_project(c, "service")
    user = ensure_user(c, E["SERVICE_USER"], E["SERVICE_PASS"], service_project)
    grant(c, user, service_project, "admin")
    grant(c, user, service_project, "service")


def ensure_project(c, name):
    return c.identity.find_project(name, domain_id="default") or c.identity.create_project(
        name=name, domain_id="default", description=f"{name} (test ground)")


def ensure_user(c, name, password, project):
    u = c.identity.find_user(name, domain_id="default")
    if u:
        return c.identity.update_user(u, password=password)
    return c.identity.create_user(name=name, password=password, domain_id="default",
                                  default_project_id=project.id)


def grant(c, user, project, role_name):
    role = c.identity.find_role(role_name) or c.identity.create_role(name=role_name)
    c.identity.assign_project_role_to_user(project, user, role)


def content(clouds_yaml):
    c = admin()
    demo = ensure_project(c, E["DEMO_PROJECT"])
    user = ensure_user(c, E["DEMO_USER"], E["DEMO_PASS"], demo)
    grant(c, user, demo, "member")
    grant(c, user, demo, "reader")
    admin_project = c.identity.find_project("admin", domain_id="default")

    for name, vcpus, ram, disk in (("m1.tiny", 1, 512, 1), ("m1.small", 1, 2048, 20),
                                   ("m1.medium", 2, 4096, 40)):
        if not c.compute.find_flavor(name):
            c.compute.create_flavor(name=name, vcpus=vcpus, ram=ram, disk=disk, is_public=True)

    net = c.network.find_network("public")
    if not net:
        net = c.network.create_network(
            name="public", is_router_external=True, is_shared=False,
            provider_network_type="flat", provider_physical_network="physnet1")
    if not c.network.find_subnet("public-subnet"):
        c.network.create_subnet(
            name="public-subnet", network_id=net.id, ip_version=4, cidr="172.24.4.0/24",
            gateway_ip="172.24.4.1", enable_dhcp=False,
            allocation_pools=[{"start": "172.24.4.10", "end": "172.24.4.250"}])

    if not c.image.find_image("tiny-raw"):
        path = os.path.join(E["STATE_DIR"], "tiny.raw")
        with open(path, "wb") as f:
            f.truncate(1024 * 1024)
        c.image.create_image(name="tiny-raw", filename=path, disk_format="raw",
                             container_format="bare", visibility="public", wait=True)

    with open(clouds_yaml, "w") as f:
        f.write(clouds(admin_project.id, demo.id))
    os.chmod(clouds_yaml, 0o600)


def clouds(admin_project_id, demo_project_id):
    def entry(name, user, password, project, project_id):
        return f"""  {name}:
    auth:
      auth_url: {KS}
      username: {user}
      password: {password}
      project_name: {project}
      project_id: {project_id}
      user_domain_name: Default
      project_domain_name: Default
    region_name: {E['REGION']}
    interface: public
    identity_api_version: 3
"""
    return ("clouds:\n"
            + entry("admin", "admin", E["ADMIN_PASS"], "admin", admin_project_id)
            + entry("demo", E["DEMO_USER"], E["DEMO_PASS"], E["DEMO_PROJECT"], demo_project_id))


if __name__ == "__main__":
    {"catalog": lambda: catalog(), "content": lambda: content(sys.argv[2])}[sys.argv[1]]()
