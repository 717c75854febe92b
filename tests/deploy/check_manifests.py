#!/usr/bin/env python3
"""Checks deploy/kubernetes/ without a cluster.

The manifests are rendered as `kubectl apply -k deploy/kubernetes` would render them
(kustomization.yaml's resources, namespace, labels and images; and, when kubectl is on
PATH, by `kubectl kustomize` too, which must agree), then held to:

- the Kubernetes schemas, for every built-in kind (kubernetes-validate, strict: an
  unknown or misspelt field fails);
- SpinKube's SpinApp (core.spinkube.dev/v1alpha1): its documented fields only, the
  containerd-shim-spin executor, an image kustomize replaced, replicas, resources, a
  readiness check on a service's /healthz with a timeout longer than the database wait
  behind it, and a liveness check that a database outage doesn't fail (Spin's own
  /.well-known/spin/health, or a /healthz with a long enough grace);
- spin.toml: every variable the SpinApp sets is declared there, every required one is
  set, every secret one a component reads comes from the Secret (and no secret from a
  plain value), and so does every `*_db_url`, `jwt_secret` and `internal_secret`; a
  variable whose default points at localhost is set;
- PgBouncer: transaction pooling with prepared statements tracked, and room for
  Spin's pools (64 per service and replica) within the server's connections;
- the dispatch CronJob: every minute, to the SpinApp's Service, with the key the app
  reads as `dispatch_key`;
- secret.example.yaml: never applied, placeholders only, and every key the manifests
  read, in the shape the manifests need (URLs through PgBouncer, one role each).

Then it breaks the manifests on purpose, one way at a time, and makes sure each break
is caught. Usage: tests/deploy/check_manifests.py [--kubernetes-version X.Y ...]
"""

from __future__ import annotations

import argparse
import configparser
import copy
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kubernetes"
SPIN_TOML = ROOT / "spin.toml"
SECRET_TEMPLATE = "secret.example.yaml"

# The Kubernetes versions the built-in kinds are validated against: the oldest one a
# cluster running SpinKube is likely to have, and the newest kubernetes-validate knows.
DEFAULT_KUBERNETES_VERSIONS = ("1.28",)

SPINAPP_API_VERSION = "core.spinkube.dev/v1alpha1"
SPIN_EXECUTOR = "containerd-shim-spin"
# The operator's Service for a SpinApp listens on port 80.
SPINAPP_SERVICE_PORT = 80
# Spin answers this itself (200 while it serves HTTP), without running a component.
SPIN_HEALTH_PATH = "/.well-known/spin/health"
# SpinApp fields, as SpinKube's CRD reference documents them.
SPINAPP_SPEC_FIELDS = {
    "executor", "image", "imagePullSecrets", "checks", "replicas", "enableAutoscaling",
    "runtimeConfig", "volumes", "volumeMounts", "variables", "serviceAnnotations",
    "deploymentAnnotations", "podAnnotations", "podLabels", "resources", "components",
    "serviceAccountName", "invocationLimits",
}
SPINAPP_CHECKS = {"readiness", "liveness"}
SPINAPP_PROBE_FIELDS = {
    "httpGet", "initialDelaySeconds", "timeoutSeconds", "periodSeconds",
    "successThreshold", "failureThreshold",
}
SPINAPP_HTTP_GET_FIELDS = {"path", "httpHeaders"}
SPINAPP_VARIABLE_FIELDS = {"name", "value", "valueFrom"}
ENV_VAR_SOURCES = {"secretKeyRef", "configMapKeyRef", "fieldRef", "resourceFieldRef"}
KEY_SELECTOR_FIELDS = {"name", "key", "optional"}
RESOURCE_FIELDS = {"limits", "requests"}
# Spin variable names: lower-case letters, digits and underscores, from a letter.
SPIN_VARIABLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

# The Postgres behind PgBouncer is assumed to be a default one (the README's sizing).
SERVER_MAX_CONNECTIONS = 100
SUPERUSER_RESERVED_CONNECTIONS = 3
# PgBouncer tracks prepared statements from this release on.
PGBOUNCER_MIN_VERSION = (1, 21)
PLACEHOLDER = "change-me"

# Kustomization fields this renderer understands; any other one fails the check
# rather than being rendered wrong.
KUSTOMIZATION_FIELDS = {
    "apiVersion", "kind", "namespace", "labels", "resources", "configurations", "images",
}
# Where the images of built-in kinds live.
BUILTIN_IMAGE_PATHS = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}


def rust_constant(path: str, pattern: str) -> int:
    """A number spinshop's Rust code defines, so the limits here can't drift from it."""
    text = (ROOT / path).read_text()
    found = re.search(pattern, text)
    if not found:
        raise SystemExit(f"check_manifests: {path} no longer matches {pattern!r}")
    return int(found.group(1))


# Spin's pool per component and connection string, and the connections kept for
# migrate, psql and monitoring (crates/cli/src/migrate.rs).
SPIN_POOL_SIZE = rust_constant(
    "crates/cli/src/migrate.rs", r"const SPIN_POOL_SIZE: u32 = (\d+);"
)
TOOL_CONNECTIONS = rust_constant(
    "crates/cli/src/migrate.rs", r"const TOOL_CONNECTIONS: u32 = (\d+);"
)
# How long /healthz may wait for the database before answering (crates/kit/src/db.rs).
HEALTH_DB_WAIT_SECONDS = rust_constant(
    "crates/kit/src/db.rs", r"const RETRY_BUDGET: Duration = Duration::from_secs\((\d+)\);"
)


@dataclass
class SpinManifest:
    variables: dict[str, dict[str, Any]]
    # component name -> the app variables its variables and outbound hosts name
    component_variables: dict[str, set[str]]
    # component name -> its route
    routes: dict[str, str]

    @staticmethod
    def load(path: Path) -> "SpinManifest":
        manifest = tomllib.loads(path.read_text())
        template = re.compile(r"\{\{\s*([a-z0-9_]+)\s*\}\}")
        component_variables = {}
        for name, component in manifest.get("component", {}).items():
            texts = list(component.get("variables", {}).values())
            texts += component.get("allowed_outbound_hosts", [])
            component_variables[name] = {
                found for text in texts for found in template.findall(str(text))
            }
        routes = {
            trigger["component"]: trigger["route"]
            for trigger in manifest.get("trigger", {}).get("http", [])
        }
        return SpinManifest(manifest.get("variables", {}), component_variables, routes)

    def used(self) -> set[str]:
        """The app variables some component reads."""
        return set().union(*self.component_variables.values())

    def is_secret(self, name: str) -> bool:
        return bool(self.variables.get(name, {}).get("secret"))

    def is_required(self, name: str) -> bool:
        return bool(self.variables.get(name, {}).get("required"))

    def db_url_variables(self) -> set[str]:
        return {name for name in self.variables if name.endswith("_db_url")}


@dataclass
class Bundle:
    """Everything the checks read, so a test can break any of it."""

    kustomization: dict[str, Any]
    objects: list[dict[str, Any]]
    secret_template: list[dict[str, Any]]
    spin: SpinManifest
    kubernetes_versions: tuple[str, ...]
    # what `kubectl kustomize` rendered, when kubectl is there
    kubectl_objects: list[dict[str, Any]] | None = None
    notes: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [obj for obj in self.objects if obj.get("kind") == kind]

    def one(self, kind: str, name: str | None = None) -> dict[str, Any] | None:
        found = [
            obj for obj in self.of_kind(kind)
            if name is None or obj.get("metadata", {}).get("name") == name
        ]
        return found[0] if len(found) == 1 else None

    def spinapp(self) -> dict[str, Any]:
        apps = self.of_kind("SpinApp")
        if len(apps) != 1:
            raise CheckFailed(f"expected one SpinApp, found {len(apps)}")
        return apps[0]


class CheckFailed(Exception):
    pass


def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    with path.open() as file:
        return [doc for doc in yaml.safe_load_all(file) if doc]


# ---------------------------------------------------------------------------------
# Rendering, as kustomize does for the fields kustomization.yaml uses


def split_image(image: str) -> tuple[str, str]:
    """`name[:tag|@digest]` -> (name, the rest with its separator)."""
    if "@" in image:
        name, digest = image.split("@", 1)
        return name, "@" + digest
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon:]
    return image, ""


def renamed_image(image: str, images: list[dict[str, Any]]) -> str:
    name, rest = split_image(image)
    for entry in images:
        if entry.get("name") == name:
            new_name = entry.get("newName", name)
            if "digest" in entry:
                return f"{new_name}@{entry['digest']}"
            if "newTag" in entry:
                return f"{new_name}:{entry['newTag']}"
            return new_name + rest
    return image


def render(kustomization: dict[str, Any], base: Path) -> list[dict[str, Any]]:
    unknown = set(kustomization) - KUSTOMIZATION_FIELDS
    if unknown:
        raise CheckFailed(f"kustomization.yaml: fields this check can't render: {sorted(unknown)}")
    objects = []
    for resource in kustomization.get("resources", []):
        path = base / resource
        if not path.is_file():
            raise CheckFailed(f"kustomization.yaml: resource {resource} is not a file here")
        objects += load_yaml_documents(path)
    extra_paths = []
    for configuration in kustomization.get("configurations", []):
        config = yaml.safe_load((base / configuration).read_text()) or {}
        extra_paths += config.get("images", [])
    images = kustomization.get("images", [])
    for obj in objects:
        metadata = obj.setdefault("metadata", {})
        if "namespace" in kustomization:
            metadata["namespace"] = kustomization["namespace"]
        for entry in kustomization.get("labels", []):
            metadata.setdefault("labels", {}).update(entry.get("pairs", {}))
        pod_path = BUILTIN_IMAGE_PATHS.get(obj.get("kind"))
        if pod_path:
            pod = dig(obj, pod_path) or {}
            for container in pod.get("containers", []) + pod.get("initContainers", []):
                container["image"] = renamed_image(container["image"], images)
        for extra in extra_paths:
            if extra.get("kind") == obj.get("kind"):
                keys = extra["path"].split("/")
                parent = dig(obj, keys[:-1])
                if isinstance(parent, dict) and keys[-1] in parent:
                    parent[keys[-1]] = renamed_image(parent[keys[-1]], images)
    return objects


def dig(obj: Any, keys: Any) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def kubectl_render() -> list[dict[str, Any]] | None:
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return None
    result = subprocess.run(
        [kubectl, "kustomize", str(DEPLOY)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise CheckFailed(f"kubectl kustomize failed: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def load_bundle(kubernetes_versions: tuple[str, ...]) -> Bundle:
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    return Bundle(
        kustomization=kustomization,
        objects=render(kustomization, DEPLOY),
        secret_template=load_yaml_documents(DEPLOY / SECRET_TEMPLATE),
        spin=SpinManifest.load(SPIN_TOML),
        kubernetes_versions=kubernetes_versions,
        kubectl_objects=kubectl_render(),
    )


# ---------------------------------------------------------------------------------
# The checks: each returns what is wrong, in words


def check_kustomization(bundle: Bundle) -> list[str]:
    problems = []
    resources = bundle.kustomization.get("resources", [])
    if SECRET_TEMPLATE in resources:
        problems.append(f"kustomization.yaml applies {SECRET_TEMPLATE}, a template of placeholders")
    listed = set(resources) | set(bundle.kustomization.get("configurations", []))
    for path in sorted(DEPLOY.glob("*.yaml")):
        if path.name not in listed | {"kustomization.yaml", SECRET_TEMPLATE}:
            problems.append(f"{path.name} is in deploy/kubernetes but not in kustomization.yaml")
    if not bundle.kustomization.get("namespace"):
        problems.append("kustomization.yaml names no namespace")
    for obj in bundle.objects:
        if obj.get("kind") == "Secret":
            problems.append(f"kustomization.yaml applies Secret {name_of(obj)}")
        for image in images_of(obj):
            if not split_image(image)[1]:
                problems.append(f"{obj.get('kind')} {name_of(obj)}: image {image!r} has no tag or digest")
    if bundle.kubectl_objects is not None:
        ours = {identity(obj): images_of(obj) for obj in bundle.objects}
        theirs = {identity(obj): images_of(obj) for obj in bundle.kubectl_objects}
        if ours != theirs:
            problems.append(
                f"kubectl kustomize renders {sorted(theirs.items())}, this check {sorted(ours.items())}"
            )
    return problems


def check_schemas(bundle: Bundle) -> list[str]:
    problems = []
    documents = [(obj, "rendered") for obj in bundle.objects]
    documents += [(obj, SECRET_TEMPLATE) for obj in bundle.secret_template]
    for obj, source in documents:
        api_version = obj.get("apiVersion", "")
        if api_version == SPINAPP_API_VERSION:
            continue
        group = api_version.split("/")[0] if "/" in api_version else ""
        if "." in group and not group.endswith(".k8s.io"):
            problems.append(f"{source}: {obj.get('kind')} of {api_version} is neither built in nor checked here")
            continue
        for version in bundle.kubernetes_versions:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as err:
                where = ".".join(str(part) for part in err.path)
                problems.append(
                    f"{source}: {obj.get('kind')} {name_of(obj)} (Kubernetes {version}): {where}: {err.message}"
                )
            except kubernetes_validate.SchemaNotFoundError as err:
                problems.append(f"{source}: {err.message}")
    return problems


def check_spinapp(bundle: Bundle) -> list[str]:
    app = bundle.spinapp()
    spec = app.get("spec", {})
    problems = []
    if app.get("apiVersion") != SPINAPP_API_VERSION:
        problems.append(f"SpinApp apiVersion is {app.get('apiVersion')!r}, not {SPINAPP_API_VERSION}")
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", str(name_of(app))):
        problems.append(f"SpinApp name {name_of(app)!r} is not a DNS label")
    unknown = set(spec) - SPINAPP_SPEC_FIELDS
    if unknown:
        problems.append(f"SpinApp spec has fields SpinKube doesn't know: {sorted(unknown)}")
    if spec.get("executor") != SPIN_EXECUTOR:
        problems.append(f"SpinApp executor is {spec.get('executor')!r}, not {SPIN_EXECUTOR}")
    image = spec.get("image")
    if not isinstance(image, str) or not image:
        problems.append("SpinApp has no image")
    elif split_image(image)[0] == "spinshop":
        problems.append("SpinApp image is still the placeholder: kustomization.yaml's images entry must replace it")
    replicas = spec.get("replicas")
    if spec.get("enableAutoscaling"):
        if replicas is not None:
            problems.append("SpinApp sets replicas and enableAutoscaling")
    elif not isinstance(replicas, int) or replicas < 1:
        problems.append(f"SpinApp replicas is {replicas!r}, not a count of 1 or more")
    resources = spec.get("resources")
    if not isinstance(resources, dict) or not resources.get("requests") or not resources.get("limits"):
        problems.append("SpinApp resources need requests and limits")
    elif set(resources) - RESOURCE_FIELDS:
        problems.append(f"SpinApp resources has fields SpinKube doesn't know: {sorted(set(resources) - RESOURCE_FIELDS)}")
    return problems


def check_probes(bundle: Bundle) -> list[str]:
    spec = bundle.spinapp().get("spec", {})
    checks = spec.get("checks") or {}
    problems = []
    unknown = set(checks) - SPINAPP_CHECKS
    if unknown:
        problems.append(f"SpinApp checks has fields SpinKube doesn't know: {sorted(unknown)}")
    # Services with a database answer GET <route>/healthz.
    health_paths = {
        bundle.spin.routes[name].removesuffix("/...") + "/healthz"
        for name, used in bundle.spin.component_variables.items()
        if name in bundle.spin.routes and used & bundle.spin.db_url_variables()
    }
    # Readiness must ask a service (and so its database); liveness may ask Spin alone.
    allowed_paths = {"readiness": health_paths, "liveness": health_paths | {SPIN_HEALTH_PATH}}
    for which in sorted(SPINAPP_CHECKS):
        probe = checks.get(which)
        if not isinstance(probe, dict):
            problems.append(f"SpinApp has no {which} check")
            continue
        unknown = set(probe) - SPINAPP_PROBE_FIELDS
        if unknown:
            problems.append(f"SpinApp {which} check has fields SpinKube doesn't know: {sorted(unknown)}")
        http_get = probe.get("httpGet") or {}
        if set(http_get) - SPINAPP_HTTP_GET_FIELDS:
            problems.append(f"SpinApp {which} httpGet has fields SpinKube doesn't know: {sorted(set(http_get) - SPINAPP_HTTP_GET_FIELDS)}")
        path = http_get.get("path")
        if path not in allowed_paths[which]:
            problems.append(f"SpinApp {which} check asks {path!r}, not one of {sorted(allowed_paths[which])}")
        # SpinKube's defaults where a field is left out.
        timeout = probe.get("timeoutSeconds", 1)
        period = probe.get("periodSeconds", 10)
        failures = probe.get("failureThreshold", 3)
        for key in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
            value = probe.get(key)
            if value is not None and (not isinstance(value, int) or value < (0 if key == "initialDelaySeconds" else 1)):
                problems.append(f"SpinApp {which} {key} is {value!r}")
        if path in health_paths and (not isinstance(timeout, int) or timeout <= HEALTH_DB_WAIT_SECONDS):
            problems.append(
                f"SpinApp {which} timeoutSeconds is {timeout!r}: /healthz may wait "
                f"{HEALTH_DB_WAIT_SECONDS} s for the database, so it must be longer"
            )
        if isinstance(timeout, int) and isinstance(period, int) and timeout > period:
            problems.append(f"SpinApp {which} times out after {timeout} s but runs every {period} s")
        if which == "liveness":
            if probe.get("successThreshold", 1) != 1:
                problems.append("SpinApp liveness successThreshold must be 1")
            if path in health_paths and isinstance(period, int) and isinstance(failures, int) and period * failures < 60:
                problems.append(
                    f"SpinApp liveness restarts a pod after {period * failures} s of failing "
                    "/healthz: a database outage that short should not restart the app"
                )
    return problems


def check_variables(bundle: Bundle) -> list[str]:
    spec = bundle.spinapp().get("spec", {})
    spin = bundle.spin
    problems = []
    names = []
    for variable in spec.get("variables") or []:
        name = variable.get("name")
        names.append(name)
        if set(variable) - SPINAPP_VARIABLE_FIELDS:
            problems.append(f"SpinApp variable {name}: fields SpinKube doesn't know: {sorted(set(variable) - SPINAPP_VARIABLE_FIELDS)}")
        if not isinstance(name, str) or not SPIN_VARIABLE_NAME.fullmatch(name):
            problems.append(f"SpinApp variable name {name!r} is not a Spin variable name")
            continue
        if name not in spin.variables:
            problems.append(f"SpinApp sets {name}, which spin.toml doesn't declare")
        if ("value" in variable) == ("valueFrom" in variable):
            problems.append(f"SpinApp variable {name} needs a value or a valueFrom, not both or neither")
        source = variable.get("valueFrom")
        if source is not None:
            if not isinstance(source, dict) or len(source) != 1 or not set(source) <= ENV_VAR_SOURCES:
                problems.append(f"SpinApp variable {name}: valueFrom must be one of {sorted(ENV_VAR_SOURCES)}")
            elif set(next(iter(source.values()))) - KEY_SELECTOR_FIELDS:
                problems.append(f"SpinApp variable {name}: unknown fields in valueFrom")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        problems.append(f"SpinApp sets {duplicates} more than once")

    by_name = {v.get("name"): v for v in spec.get("variables") or []}
    must_be_secret = {
        name for name in spin.variables
        if (spin.is_secret(name) and name in spin.used())
        or name.endswith("_db_url")
        or name in ("jwt_secret", "internal_secret")
    }
    for name in sorted(spin.variables):
        variable = by_name.get(name)
        if variable is None:
            if spin.is_required(name):
                problems.append(f"spin.toml requires {name}, and the SpinApp doesn't set it")
            elif name in must_be_secret:
                problems.append(f"the SpinApp doesn't set {name}: a secret a component reads, it must come from the Secret")
            elif name in spin.used() and re.search(r"127\.0\.0\.1|localhost", str(spin.variables[name].get("default", ""))):
                problems.append(f"the SpinApp doesn't set {name}, whose default points at the pod itself")
            continue
        from_secret = dig(variable, ("valueFrom", "secretKeyRef"))
        if (name in must_be_secret or spin.is_secret(name)) and not from_secret:
            problems.append(f"SpinApp variable {name} is secret and must come from a Secret (valueFrom.secretKeyRef)")
        if from_secret and from_secret.get("key") != name:
            problems.append(f"SpinApp variable {name} reads Secret key {from_secret.get('key')!r}; the keys are named as the variables")
        if from_secret and from_secret.get("optional"):
            problems.append(f"SpinApp variable {name} reads an optional Secret key")
    return problems


def check_pgbouncer(bundle: Bundle) -> list[str]:
    problems = []
    config_map = bundle.one("ConfigMap", "pgbouncer")
    deployment = bundle.one("Deployment", "pgbouncer")
    service = bundle.one("Service", "pgbouncer")
    if not (config_map and deployment and service):
        return ["PgBouncer needs a ConfigMap, a Deployment and a Service named pgbouncer"]
    ini = configparser.ConfigParser(inline_comment_prefixes=None, comment_prefixes=(";", "#"))
    try:
        ini.read_string(config_map.get("data", {}).get("pgbouncer.ini", ""))
    except configparser.Error as err:
        return [f"pgbouncer.ini doesn't parse: {err}"]
    if not ini.has_section("pgbouncer") or not ini.has_section("databases"):
        return ["pgbouncer.ini needs [databases] and [pgbouncer] sections"]
    settings = ini["pgbouncer"]

    def number(key: str) -> int | None:
        try:
            return int(settings.get(key, ""))
        except ValueError:
            problems.append(f"pgbouncer.ini: {key} is {settings.get(key)!r}, not a number")
            return None

    if settings.get("pool_mode") != "transaction":
        problems.append(f"pgbouncer.ini: pool_mode is {settings.get('pool_mode')!r}, not transaction")
    prepared = number("max_prepared_statements")
    if prepared is not None and prepared <= 0:
        problems.append("pgbouncer.ini: max_prepared_statements must be above 0 (Spin prepares every statement)")

    app = bundle.spinapp()
    replicas = dig(app, ("spec", "replicas")) or 1
    services = len(bundle.spin.db_url_variables() & bundle.spin.used())
    pool_size = number("default_pool_size")
    client_conn = number("max_client_conn")
    db_connections = number("max_db_connections")
    bouncers = dig(deployment, ("spec", "replicas")) or 1
    needed_clients = SPIN_POOL_SIZE * services * replicas + TOOL_CONNECTIONS
    if client_conn is not None and client_conn < needed_clients:
        problems.append(
            f"pgbouncer.ini: max_client_conn {client_conn} < {SPIN_POOL_SIZE} x {services} services "
            f"x {replicas} replicas + {TOOL_CONNECTIONS} = {needed_clients}"
        )
    if pool_size is not None and db_connections is not None and services * pool_size > db_connections:
        problems.append(
            f"pgbouncer.ini: {services} services x default_pool_size {pool_size} > max_db_connections {db_connections}"
        )
    budget = SERVER_MAX_CONNECTIONS - SUPERUSER_RESERVED_CONNECTIONS - TOOL_CONNECTIONS
    if db_connections is not None and bouncers * db_connections > budget:
        problems.append(
            f"PgBouncer: {bouncers} instance(s) x max_db_connections {db_connections} > {budget}, "
            f"what a default server ({SERVER_MAX_CONNECTIONS} connections) leaves"
        )

    pod = dig(deployment, ("spec", "template", "spec")) or {}
    containers = pod.get("containers", [])
    if len(containers) != 1:
        return problems + ["the pgbouncer Deployment needs one container"]
    container = containers[0]
    image_tag = split_image(container.get("image", ""))[1].lstrip(":")
    version = tuple(int(part) for part in re.findall(r"\d+", image_tag)[:2])
    if len(version) < 2 or version < PGBOUNCER_MIN_VERSION:
        problems.append(
            f"PgBouncer image {container.get('image')!r}: pin a release of "
            f"{'.'.join(map(str, PGBOUNCER_MIN_VERSION))} or newer"
        )
    mounts = {m.get("mountPath"): m for m in container.get("volumeMounts", [])}
    if settings.get("auth_file") not in mounts:
        problems.append(f"pgbouncer.ini: auth_file {settings.get('auth_file')} is not mounted")
    ports = {p.get("name"): p.get("containerPort") for p in container.get("ports", [])}
    listen_port = int(settings.get("listen_port", "6432"))
    if listen_port not in ports.values():
        problems.append(f"pgbouncer.ini: listen_port {listen_port} is not a container port")
    labels = dig(pod_template(deployment), ("metadata", "labels")) or {}
    selector = dig(service, ("spec", "selector")) or {}
    if not selector or any(labels.get(k) != v for k, v in selector.items()):
        problems.append("the pgbouncer Service selects no pgbouncer pod")
    service_ports = dig(service, ("spec", "ports")) or []

    db_host = next(
        (v.get("value") for v in dig(app, ("spec", "variables")) or [] if v.get("name") == "db_host"),
        None,
    )
    host, _, port = str(db_host).partition(":")
    if host != name_of(service) or not any(str(p.get("port")) == port for p in service_ports):
        problems.append(f"the SpinApp's db_host {db_host!r} is not the pgbouncer Service's host:port")
    for service_port in service_ports:
        target = service_port.get("targetPort", service_port.get("port"))
        if target not in ports and target not in ports.values():
            problems.append(f"the pgbouncer Service targets port {target!r}, which the container doesn't open")
    return problems


def check_dispatch(bundle: Bundle) -> list[str]:
    jobs = bundle.of_kind("CronJob")
    if len(jobs) != 1:
        return [f"expected one CronJob (the outbox dispatch), found {len(jobs)}"]
    job = jobs[0]
    problems = []
    spec = job.get("spec", {})
    if spec.get("schedule") != "* * * * *":
        problems.append(f"the dispatch CronJob runs on {spec.get('schedule')!r}, not every minute")
    if spec.get("concurrencyPolicy") != "Forbid":
        problems.append("the dispatch CronJob must not run twice at once (concurrencyPolicy: Forbid)")
    containers = containers_of(job)
    if len(containers) != 1:
        return problems + ["the dispatch CronJob needs one container"]
    container = containers[0]
    words = [str(w) for w in container.get("command", []) + container.get("args", [])]
    app = bundle.spinapp()
    url = f"http://{name_of(app)}/api/notifications/dispatch"
    ports = (f"http://{name_of(app)}:{SPINAPP_SERVICE_PORT}/api/notifications/dispatch",)
    if url not in words and not set(ports) & set(words):
        problems.append(f"the dispatch CronJob doesn't POST to {url} (the SpinApp's Service)")
    if "POST" not in words:
        problems.append("the dispatch CronJob doesn't POST")
    env = {e.get("name"): e for e in container.get("env", [])}
    header = next((w for w in words if w.lower().startswith("x-dispatch-key:")), None)
    reference = re.fullmatch(r"x-dispatch-key:\s*\$\((\w+)\)", header or "", re.IGNORECASE)
    if not reference or reference.group(1) not in env:
        problems.append("the dispatch CronJob must send x-dispatch-key: $(VAR) with VAR from its env")
        return problems
    key_ref = dig(env[reference.group(1)], ("valueFrom", "secretKeyRef"))
    if not key_ref:
        problems.append("the dispatch CronJob's key must come from a Secret")
        return problems
    if "dispatch_key" in bundle.spin.variables:
        app_ref = next(
            (dig(v, ("valueFrom", "secretKeyRef")) for v in dig(app, ("spec", "variables")) or []
             if v.get("name") == "dispatch_key"),
            None,
        )
        if not app_ref or (app_ref.get("name"), app_ref.get("key")) != (key_ref.get("name"), key_ref.get("key")):
            problems.append("the dispatch CronJob's key and the SpinApp's dispatch_key come from different Secret keys")
    else:
        bundle.notes.append("spin.toml declares no dispatch_key yet: the dispatch CronJob is refused until it does")
    return problems


def check_secret_template(bundle: Bundle) -> list[str]:
    problems = []
    template: dict[str, dict[str, str]] = {}
    for obj in bundle.secret_template:
        if obj.get("kind") != "Secret":
            problems.append(f"{SECRET_TEMPLATE} holds a {obj.get('kind')}; only Secrets belong there")
            continue
        if obj.get("data"):
            problems.append(f"{SECRET_TEMPLATE}: Secret {name_of(obj)} uses data; use stringData placeholders")
        values = obj.get("stringData") or {}
        template[name_of(obj)] = values
        for key, value in values.items():
            if PLACEHOLDER not in str(value):
                problems.append(f"{SECRET_TEMPLATE}: {name_of(obj)}.{key} is not a {PLACEHOLDER} placeholder")

    read = set()
    for obj in bundle.objects:
        for ref in secret_key_refs(obj):
            read.add(ref)
            if ref[1] not in template.get(ref[0], {}):
                problems.append(f"{obj.get('kind')} {name_of(obj)} reads Secret key {ref[0]}/{ref[1]}, which {SECRET_TEMPLATE} lacks")
    for secret, values in template.items():
        for key in values:
            if (secret, key) not in read:
                problems.append(f"{SECRET_TEMPLATE}: nothing reads {secret}/{key}")

    # The URLs go through PgBouncer, each as the role spin.toml's default names, and
    # PgBouncer knows each role.
    app = bundle.spinapp()
    db_host = next(
        (v.get("value") for v in dig(app, ("spec", "variables")) or [] if v.get("name") == "db_host"),
        None,
    )
    roles = set()
    for variable in dig(app, ("spec", "variables")) or []:
        name = variable.get("name", "")
        ref = dig(variable, ("valueFrom", "secretKeyRef")) or {}
        if not name.endswith("_db_url") or not ref:
            continue
        example = urlsplit(str(template.get(ref.get("name"), {}).get(ref.get("key"), "")))
        default = urlsplit(str(bundle.spin.variables.get(name, {}).get("default", "")))
        roles.add(example.username)
        if example.username != default.username or example.path != default.path:
            problems.append(f"{SECRET_TEMPLATE}: {name} must connect as {default.username} to {default.path}")
        if f"{example.hostname}:{example.port}" != db_host:
            problems.append(f"{SECRET_TEMPLATE}: {name} must go to {db_host} (the SpinApp's db_host)")
        if parse_qs(example.query).get("sslmode") != ["disable"]:
            problems.append(f"{SECRET_TEMPLATE}: {name} needs sslmode=disable (PgBouncer takes plain text inside the cluster)")
    userlist = template.get("spinshop-pgbouncer", {}).get("userlist.txt", "")
    listed = set(re.findall(r'^"([^"]+)"', userlist, re.MULTILINE))
    if listed != roles:
        problems.append(f"{SECRET_TEMPLATE}: userlist.txt lists {sorted(listed)}, the URLs' roles are {sorted(roles)}")
    return problems


CHECKS: list[tuple[str, Callable[[Bundle], list[str]]]] = [
    ("kustomization.yaml renders every manifest and applies no Secret", check_kustomization),
    ("built-in kinds match the Kubernetes schemas", check_schemas),
    ("the SpinApp uses SpinKube's fields, executor, image, replicas, resources", check_spinapp),
    ("readiness asks a /healthz past its database wait; liveness survives a database outage", check_probes),
    ("the SpinApp's variables match spin.toml, secrets from the Secret", check_variables),
    ("PgBouncer pools transactions and has room for Spin's pools", check_pgbouncer),
    ("the dispatch CronJob calls the app every minute with its key", check_dispatch),
    ("secret.example.yaml has every key the manifests read, placeholders only", check_secret_template),
]


# ---------------------------------------------------------------------------------
# Broken on purpose: each mutation must be caught by the check named


def variables_of(bundle: Bundle) -> list[dict[str, Any]]:
    return bundle.spinapp()["spec"]["variables"]


def drop_variable(name: str) -> Callable[[Bundle], None]:
    def mutate(bundle: Bundle) -> None:
        bundle.spinapp()["spec"]["variables"] = [
            v for v in variables_of(bundle) if v.get("name") != name
        ]
    return mutate


def set_pgbouncer(key: str, value: str) -> Callable[[Bundle], None]:
    def mutate(bundle: Bundle) -> None:
        config_map = bundle.one("ConfigMap", "pgbouncer")
        ini = config_map["data"]["pgbouncer.ini"]
        config_map["data"]["pgbouncer.ini"] = re.sub(
            rf"^{key} = .*$", f"{key} = {value}", ini, flags=re.MULTILINE
        )
    return mutate


def inline_secret(bundle: Bundle) -> None:
    for variable in variables_of(bundle):
        if variable["name"] == "jwt_secret":
            variable.pop("valueFrom")
            variable["value"] = "not-so-secret"


def undeclared_variable(bundle: Bundle) -> None:
    variables_of(bundle).append({"name": "jwt_secert", "value": "x"})


def new_secret_in_spin_toml(bundle: Bundle) -> None:
    bundle.spin.variables["search_db_url"] = {"default": "postgres://x@127.0.0.1/y", "secret": True}
    bundle.spin.component_variables["search"] = {"search_db_url"}


def misspelt_field(bundle: Bundle) -> None:
    pod = bundle.one("Deployment", "pgbouncer")["spec"]["template"]["spec"]
    pod["containers"][0]["readinessprobe"] = pod["containers"][0].pop("readinessProbe")


def short_probe_timeout(bundle: Bundle) -> None:
    bundle.spinapp()["spec"]["checks"]["readiness"]["timeoutSeconds"] = 1


def missing_liveness(bundle: Bundle) -> None:
    del bundle.spinapp()["spec"]["checks"]["liveness"]


def readiness_without_the_database(bundle: Bundle) -> None:
    bundle.spinapp()["spec"]["checks"]["readiness"]["httpGet"]["path"] = SPIN_HEALTH_PATH


def impatient_liveness_on_healthz(bundle: Bundle) -> None:
    liveness = bundle.spinapp()["spec"]["checks"]["liveness"]
    liveness.update(httpGet={"path": "/api/users/healthz"}, timeoutSeconds=5, periodSeconds=10, failureThreshold=3)


def probe_elsewhere(bundle: Bundle) -> None:
    bundle.spinapp()["spec"]["checks"]["readiness"]["httpGet"]["path"] = "/"


def unknown_spinapp_field(bundle: Bundle) -> None:
    bundle.spinapp()["spec"]["replica"] = bundle.spinapp()["spec"].pop("replicas")


def wrong_executor(bundle: Bundle) -> None:
    bundle.spinapp()["spec"]["executor"] = "spintainer"


def placeholder_image(bundle: Bundle) -> None:
    bundle.spinapp()["spec"]["image"] = "spinshop"


def more_replicas(bundle: Bundle) -> None:
    bundle.spinapp()["spec"]["replicas"] = 4


def real_looking_secret(bundle: Bundle) -> None:
    bundle.secret_template[0]["stringData"]["jwt_secret"] = "3f2a9c0d4e5b6a7f8091a2b3c4d5e6f7"


def applied_template(bundle: Bundle) -> None:
    bundle.kustomization["resources"].append(SECRET_TEMPLATE)


def forgotten_secret_key(bundle: Bundle) -> None:
    del bundle.secret_template[0]["stringData"]["dispatch_key"]


def cronjob_without_key(bundle: Bundle) -> None:
    container = containers_of(bundle.of_kind("CronJob")[0])[0]
    container["command"] = [w for w in container["command"] if not w.startswith("x-dispatch-key")]


def cronjob_hourly(bundle: Bundle) -> None:
    bundle.of_kind("CronJob")[0]["spec"]["schedule"] = "0 * * * *"


def db_url_to_the_server(bundle: Bundle) -> None:
    data = bundle.secret_template[0]["stringData"]
    data["users_db_url"] = data["users_db_url"].replace("@pgbouncer:5432", "@postgres:5432")


MUTATIONS: list[tuple[str, Callable[[Bundle], None], Callable[[Bundle], list[str]]]] = [
    ("a *_db_url left out", drop_variable("orders_db_url"), check_variables),
    ("internal_secret left out", drop_variable("internal_secret"), check_variables),
    ("db_host left at its localhost default", drop_variable("db_host"), check_variables),
    ("a secret set as a plain value", inline_secret, check_variables),
    ("a variable spin.toml doesn't declare", undeclared_variable, check_variables),
    ("a new secret variable in spin.toml", new_secret_in_spin_toml, check_variables),
    ("a misspelt field in a Deployment", misspelt_field, check_schemas),
    ("a probe that gives up before /healthz can answer", short_probe_timeout, check_probes),
    ("no liveness check", missing_liveness, check_probes),
    ("readiness that ignores the database", readiness_without_the_database, check_probes),
    ("a liveness check that restarts pods in a short database outage", impatient_liveness_on_healthz, check_probes),
    ("a probe on a path that isn't /healthz", probe_elsewhere, check_probes),
    ("a misspelt SpinApp field", unknown_spinapp_field, check_spinapp),
    ("another executor", wrong_executor, check_spinapp),
    ("the image placeholder left in place", placeholder_image, check_spinapp),
    ("session pooling", set_pgbouncer("pool_mode", "session"), check_pgbouncer),
    ("prepared statements untracked", set_pgbouncer("max_prepared_statements", "0"), check_pgbouncer),
    ("more replicas than PgBouncer takes clients for", more_replicas, check_pgbouncer),
    ("pools larger than the server", set_pgbouncer("default_pool_size", "40"), check_pgbouncer),
    ("a real-looking value in the template", real_looking_secret, check_secret_template),
    ("the template applied", applied_template, check_kustomization),
    ("a key the CronJob reads missing from the template", forgotten_secret_key, check_secret_template),
    ("a database URL around PgBouncer", db_url_to_the_server, check_secret_template),
    ("a dispatch without the key", cronjob_without_key, check_dispatch),
    ("an hourly dispatch", cronjob_hourly, check_dispatch),
]


# ---------------------------------------------------------------------------------
# Helpers and the run


def name_of(obj: dict[str, Any]) -> str:
    return str(dig(obj, ("metadata", "name")))


def identity(obj: dict[str, Any]) -> tuple[str, str, str]:
    return (str(obj.get("kind")), dig(obj, ("metadata", "namespace")) or "", name_of(obj))


def pod_template(obj: dict[str, Any]) -> dict[str, Any]:
    path = BUILTIN_IMAGE_PATHS.get(obj.get("kind"))
    return dig(obj, path[:-1]) if path and len(path) > 1 else {}


def containers_of(obj: dict[str, Any]) -> list[dict[str, Any]]:
    path = BUILTIN_IMAGE_PATHS.get(obj.get("kind"))
    pod = dig(obj, path) if path else None
    return (pod or {}).get("containers", []) + (pod or {}).get("initContainers", [])


def images_of(obj: dict[str, Any]) -> tuple[str, ...]:
    images = [c.get("image", "") for c in containers_of(obj)]
    if obj.get("kind") == "SpinApp":
        images.append(dig(obj, ("spec", "image")) or "")
    return tuple(images)


def secret_key_refs(obj: Any) -> set[tuple[str, str]]:
    """Every (Secret, key) an object reads: secretKeyRef anywhere, and secret volumes."""
    found = set()
    if isinstance(obj, dict):
        ref = obj.get("secretKeyRef")
        if isinstance(ref, dict):
            found.add((ref.get("name"), ref.get("key")))
        secret = obj.get("secret")
        if isinstance(secret, dict) and "secretName" in secret:
            for item in secret.get("items", []):
                found.add((secret["secretName"], item.get("key")))
        for value in obj.values():
            found |= secret_key_refs(value)
    elif isinstance(obj, list):
        for value in obj:
            found |= secret_key_refs(value)
    return found


def run_checks(bundle: Bundle) -> list[tuple[str, list[str]]]:
    results = []
    for title, check in CHECKS:
        try:
            problems = check(bundle)
        except CheckFailed as err:
            problems = [str(err)]
        results.append((title, problems))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--kubernetes-version", action="append", dest="versions",
        help="validate against this Kubernetes version (repeatable; default: "
        f"{', '.join(DEFAULT_KUBERNETES_VERSIONS)} and the newest kubernetes-validate knows)",
    )
    args = parser.parse_args()
    versions = tuple(args.versions or DEFAULT_KUBERNETES_VERSIONS) or ()
    if not args.versions:
        versions += (kubernetes_validate.utils.latest_version(),)

    try:
        bundle = load_bundle(versions)
    except CheckFailed as err:
        print(f"FAIL loading deploy/kubernetes: {err}")
        print("manifests: 0 passed, 1 failed")
        return 1
    renderer = "kubectl kustomize and this check's renderer" if bundle.kubectl_objects is not None else "this check's renderer (no kubectl here)"
    print(f"deploy/kubernetes, rendered by {renderer}; Kubernetes {', '.join(versions)}; "
          f"kubernetes-validate {kubernetes_validate.version.__version__}")
    passed = failed = 0
    for title, problems in run_checks(bundle):
        if problems:
            failed += 1
            print(f"FAIL {title}")
            for problem in problems:
                print(f"       {problem}")
        else:
            passed += 1
            print(f"ok   {title}")
    for note in bundle.notes:
        print(f"note {note}")

    # Each break must be caught, and only a working set of manifests is a fair base.
    if failed == 0:
        pristine = load_bundle(versions)
        for title, mutate, check in MUTATIONS:
            broken = copy.deepcopy(pristine)
            broken.kubectl_objects = None
            mutate(broken)
            try:
                problems = check(broken)
            except CheckFailed as err:
                problems = [str(err)]
            if problems:
                passed += 1
                print(f"ok   caught: {title} ({problems[0]})")
            else:
                failed += 1
                print(f"FAIL not caught: {title}")
    print(f"manifests: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
