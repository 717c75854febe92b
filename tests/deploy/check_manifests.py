#!/usr/bin/env python3
"""Checks deploy/kubernetes/ and deploy/kubernetes-autoscaling/ without a cluster.

Each is rendered as `kubectl apply -k <folder>` would render it (kustomization.yaml's
resources, folders of other kustomizations among them, namespace, labels, images and
JSON patches; and, when kubectl is on PATH, by `kubectl kustomize` too, which must
agree), then held to:

- the Kubernetes schemas, for every built-in kind (kubernetes-validate, strict: an
  unknown or misspelt field fails);
- SpinKube's SpinApp (core.spinkube.dev/v1alpha1): its documented fields only, the
  containerd-shim-spin executor, an image kustomize replaced that names the WASIp2
  build (the one SpinKube's shim runs), replicas, resources, a readiness check on a
  service's /healthz with a timeout longer than the database wait behind it, and a
  liveness check that a database outage doesn't fail (Spin's own
  /.well-known/spin/health, or a /healthz with a long enough grace);
- the SpinAppExecutor the SpinApp names, in its namespace: the shim's RuntimeClass and
  an OpenTelemetry exporter endpoint;
- the runtime config: a Secret the SpinApp loads, whose `default` key-value store is
  the Redis of the manifests (its Service, its port, the password it requires), so
  the replicas share the rate-limit counters;
- autoscaling: a HorizontalPodAutoscaler on the SpinApp's Deployment exactly when the
  SpinApp leaves its replicas to one, with at least 2 replicas and a CPU request to
  measure against;
- spin.toml: every variable the SpinApp sets is declared there, every required one is
  set, every secret one a component reads comes from the Secret (and no secret from a
  plain value), and so does every `*_db_url`, `jwt_secret` and `internal_secret`; a
  variable whose default points at localhost is set;
- PgBouncer: transaction pooling with prepared statements tracked, and room for
  Spin's pools (64 per service and replica, at the most replicas the autoscaler may
  run) within the server's connections;
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
# The variant with a HorizontalPodAutoscaler: the same manifests, patched.
AUTOSCALING = ROOT / "deploy" / "kubernetes-autoscaling"
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
SPINAPP_RUNTIME_CONFIG_FIELDS = {"loadFromSecret", "sqliteDatabases", "keyValueStores", "llmCompute"}
# The one key of a runtime-config Secret the operator mounts (at /runtime-config.toml).
RUNTIME_CONFIG_KEY = "runtime-config.toml"
# SpinAppExecutor fields, as spin-operator's API types define them.
EXECUTOR_SPEC_FIELDS = {"createDeployment", "deploymentConfig"}
EXECUTOR_DEPLOYMENT_FIELDS = {
    "runtimeClassName", "spinImage", "caCertSecret", "installDefaultCACerts", "otel",
}
EXECUTOR_OTEL_FIELDS = {
    "exporter_otlp_endpoint", "exporter_otlp_traces_endpoint",
    "exporter_otlp_metrics_endpoint", "exporter_otlp_logs_endpoint",
}
# The RuntimeClass SpinKube's installation creates for the Spin shim.
SPIN_RUNTIME_CLASS = "wasmtime-spin-v2"
# What the SpinApp image must carry: SpinKube's shim runs Spin 3.6, so WASIp2.
SHIM_BUILD = "wasip2"
# Fewer replicas than this, and one pod lost is an outage.
MIN_REPLICAS = 2
SPINAPP_VARIABLE_FIELDS = {"name", "value", "valueFrom"}
ENV_VAR_SOURCES = {"secretKeyRef", "configMapKeyRef", "fieldRef", "resourceFieldRef"}
KEY_SELECTOR_FIELDS = {"name", "key", "optional"}
RESOURCE_FIELDS = {"limits", "requests"}
# Spin variable names: lower-case letters, digits and underscores, from a letter.
SPIN_VARIABLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

# The Postgres behind PgBouncer is assumed to be a default one (docs/running.md's sizing).
SERVER_MAX_CONNECTIONS = 100
SUPERUSER_RESERVED_CONNECTIONS = 3
# PgBouncer tracks prepared statements from this release on.
PGBOUNCER_MIN_VERSION = (1, 21)
PLACEHOLDER = "change-me"

# Kustomization fields this renderer understands; any other one fails the check
# rather than being rendered wrong.
KUSTOMIZATION_FIELDS = {
    "apiVersion", "kind", "namespace", "labels", "resources", "configurations", "images",
    "patches",
}
JSON_PATCH_OPS = {"add", "remove", "replace"}
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
# How long /healthz may wait for the database before answering (crates/kit/src/pg/db.rs).
HEALTH_DB_WAIT_SECONDS = rust_constant(
    "crates/kit/src/pg/db.rs", r"const RETRY_BUDGET: Duration = Duration::from_secs\((\d+)\);"
)


@dataclass
class SpinManifest:
    variables: dict[str, dict[str, Any]]
    # component name -> the app variables its variables and outbound hosts name
    component_variables: dict[str, set[str]]
    # component name -> its route
    routes: dict[str, str]
    # the key-value stores some component opens, by label
    key_value_stores: set[str] = field(default_factory=set)

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
        stores = {
            store
            for component in manifest.get("component", {}).values()
            for store in component.get("key_value_stores", [])
        }
        return SpinManifest(manifest.get("variables", {}), component_variables, routes, stores)

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
    # the folder rendered, as `kubectl apply -k` is given it
    directory: Path = DEPLOY
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
        path = (base / resource).resolve()
        if path.is_dir() and (path / "kustomization.yaml").is_file():
            inner = yaml.safe_load((path / "kustomization.yaml").read_text())
            objects += render(inner, path)
        elif path.is_file():
            objects += load_yaml_documents(path)
        else:
            raise CheckFailed(f"{base.name}/kustomization.yaml: resource {resource} is neither a file nor a kustomization here")
    for patch in kustomization.get("patches", []):
        apply_patch(objects, patch)
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


def apply_patch(objects: list[dict[str, Any]], patch: dict[str, Any]) -> None:
    """A kustomize `patches` entry: an inline JSON patch (RFC 6902) on its target."""
    target = patch.get("target") or {}
    operations = yaml.safe_load(patch.get("patch", "")) if isinstance(patch.get("patch"), str) else None
    if set(patch) != {"target", "patch"} or not isinstance(operations, list):
        raise CheckFailed("kustomization.yaml: only inline JSON patches with a target are rendered here")
    matched = [
        obj for obj in objects
        if obj.get("kind") == target.get("kind")
        and name_of(obj) == target.get("name")
        and obj.get("apiVersion") == f"{target.get('group')}/{target.get('version')}"
    ]
    if len(matched) != 1:
        raise CheckFailed(f"kustomization.yaml: a patch's target matches {len(matched)} objects, not one")
    for operation in operations:
        op, path = operation.get("op"), operation.get("path", "")
        if op not in JSON_PATCH_OPS or not path.startswith("/"):
            raise CheckFailed(f"kustomization.yaml: patch operation {operation} is not rendered here")
        *parents, last = [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]
        parent = dig(matched[0], parents)
        if not isinstance(parent, dict) or (op != "add" and last not in parent):
            raise CheckFailed(f"kustomization.yaml: patch path {path} is not in {name_of(matched[0])}")
        if op == "remove":
            del parent[last]
        else:
            parent[last] = copy.deepcopy(operation.get("value"))


def dig(obj: Any, keys: Any) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def kubectl_render(directory: Path) -> list[dict[str, Any]] | None:
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return None
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise CheckFailed(f"kubectl kustomize {directory.name} failed: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def load_bundle(kubernetes_versions: tuple[str, ...], directory: Path = DEPLOY) -> Bundle:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    return Bundle(
        kustomization=kustomization,
        objects=render(kustomization, directory),
        secret_template=load_yaml_documents(DEPLOY / SECRET_TEMPLATE),
        spin=SpinManifest.load(SPIN_TOML),
        kubernetes_versions=kubernetes_versions,
        kubectl_objects=kubectl_render(directory),
        directory=directory,
    )


# ---------------------------------------------------------------------------------
# The checks: each returns what is wrong, in words


def check_kustomization(bundle: Bundle) -> list[str]:
    problems = []
    resources = bundle.kustomization.get("resources", [])
    if SECRET_TEMPLATE in resources:
        problems.append(f"kustomization.yaml applies {SECRET_TEMPLATE}, a template of placeholders")
    listed = set(resources) | set(bundle.kustomization.get("configurations", []))
    for path in sorted(bundle.directory.glob("*.yaml")):
        if path.name not in listed | {"kustomization.yaml", SECRET_TEMPLATE}:
            problems.append(f"{path.name} is in deploy/{bundle.directory.name} but not in its kustomization.yaml")
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
        # The patches, too, render as kubectl renders them.
        ours = [obj.get("spec") for obj in bundle.objects if obj.get("kind") == "SpinApp"]
        theirs = [obj.get("spec") for obj in bundle.kubectl_objects if obj.get("kind") == "SpinApp"]
        if ours != theirs:
            problems.append(f"kubectl kustomize renders the SpinApp as {theirs}, this check as {ours}")
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
    elif SHIM_BUILD not in image.rsplit("/", 1)[-1]:
        problems.append(
            f"SpinApp image {image!r} doesn't name the {SHIM_BUILD} build in its repository or tag: "
            "SpinKube's shim runs Spin 3.6, which runs no other"
        )
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
    runtime_config = spec.get("runtimeConfig") or {}
    if set(runtime_config) - SPINAPP_RUNTIME_CONFIG_FIELDS:
        problems.append(f"SpinApp runtimeConfig has fields SpinKube doesn't know: {sorted(set(runtime_config) - SPINAPP_RUNTIME_CONFIG_FIELDS)}")
    return problems


def check_executor(bundle: Bundle) -> list[str]:
    app = bundle.spinapp()
    wanted = dig(app, ("spec", "executor"))
    namespace = dig(app, ("metadata", "namespace"))
    executors = [
        obj for obj in bundle.of_kind("SpinAppExecutor")
        if name_of(obj) == wanted and dig(obj, ("metadata", "namespace")) == namespace
    ]
    if len(executors) != 1:
        return [
            f"no SpinAppExecutor {wanted!r} in namespace {namespace!r} among the manifests: the "
            "operator looks for the SpinApp's executor in the SpinApp's namespace"
        ]
    executor = executors[0]
    problems = []
    if executor.get("apiVersion") != SPINAPP_API_VERSION:
        problems.append(f"SpinAppExecutor apiVersion is {executor.get('apiVersion')!r}, not {SPINAPP_API_VERSION}")
    spec = executor.get("spec") or {}
    config = spec.get("deploymentConfig") or {}
    otel = config.get("otel") or {}
    for where, fields, known in (
        ("spec", spec, EXECUTOR_SPEC_FIELDS),
        ("deploymentConfig", config, EXECUTOR_DEPLOYMENT_FIELDS),
        ("otel", otel, EXECUTOR_OTEL_FIELDS),
    ):
        if set(fields) - known:
            problems.append(f"SpinAppExecutor {where} has fields spin-operator doesn't know: {sorted(set(fields) - known)}")
    if spec.get("createDeployment") is not True:
        problems.append("SpinAppExecutor must have createDeployment: true (the operator makes the pods)")
    if config.get("runtimeClassName") != SPIN_RUNTIME_CLASS or "spinImage" in config:
        problems.append(f"SpinAppExecutor must run the shim: runtimeClassName {SPIN_RUNTIME_CLASS}, no spinImage")
    endpoint = otel.get("exporter_otlp_endpoint") or otel.get("exporter_otlp_traces_endpoint")
    parsed = urlsplit(str(endpoint or ""))
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        problems.append(
            "SpinAppExecutor sets no OpenTelemetry exporter (deploymentConfig.otel.exporter_otlp_endpoint, "
            f"an http(s) URL): the pods export no traces (found {endpoint!r})"
        )
    return problems


def runtime_config_of(bundle: Bundle) -> tuple[str | None, str | None]:
    """The Secret the SpinApp loads its runtime config from, and that runtime config
    as the template holds it."""
    secret = dig(bundle.spinapp(), ("spec", "runtimeConfig", "loadFromSecret"))
    for obj in bundle.secret_template:
        if obj.get("kind") == "Secret" and name_of(obj) == secret:
            return secret, (obj.get("stringData") or {}).get(RUNTIME_CONFIG_KEY)
    return secret, None


def check_runtime_config(bundle: Bundle) -> list[str]:
    secret, text = runtime_config_of(bundle)
    if not secret:
        return [
            "the SpinApp loads no runtime config (runtimeConfig.loadFromSecret): each replica "
            "keeps its own key-value store, so each counts the rate limits alone"
        ]
    if text is None:
        return [f"{SECRET_TEMPLATE} has no Secret {secret} with a {RUNTIME_CONFIG_KEY} key"]
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        return [f"{secret}: {RUNTIME_CONFIG_KEY} is not TOML: {err}"]
    problems = []
    stores = config.get("key_value_store") or {}
    for label in sorted(bundle.spin.key_value_stores):
        if label not in stores:
            problems.append(f"{secret}: the runtime config has no [key_value_store.{label}], which the components open")
    store = stores.get("default") or {}
    if store.get("type") != "redis":
        return problems + [f"{secret}: [key_value_store.default] must be type \"redis\", shared by the replicas"]
    url = urlsplit(str(store.get("url", "")))
    if url.scheme not in ("redis", "rediss"):
        return problems + [f"{secret}: the Redis url must be redis:// or rediss://"]

    # The Redis it names is the one of the manifests, with the password it requires.
    service = bundle.one("Service", url.hostname or "")
    if not service or not any(p.get("port") == (url.port or 6379) for p in dig(service, ("spec", "ports")) or []):
        return problems + [f"{secret}: the Redis url names {url.hostname}:{url.port}, which no Service of the manifests serves"]
    selector = dig(service, ("spec", "selector")) or {}
    deployments = [
        obj for obj in bundle.of_kind("Deployment")
        if selector and all((dig(pod_template(obj), ("metadata", "labels")) or {}).get(k) == v for k, v in selector.items())
    ]
    if len(deployments) != 1:
        return problems + [f"the {name_of(service)} Service selects {len(deployments)} Deployments, not one"]
    container = (containers_of(deployments[0]) or [{}])[0]
    words = [str(w) for w in container.get("command", []) + container.get("args", [])]
    env = {e.get("name"): e for e in container.get("env", [])}
    password_ref = None
    if "--requirepass" in words[:-1]:
        found = re.fullmatch(r"\$\((\w+)\)", words[words.index("--requirepass") + 1])
        password_ref = dig(env.get(found.group(1)) if found else None, ("valueFrom", "secretKeyRef"))
    if not password_ref:
        problems.append(f"{name_of(deployments[0])} requires no password from a Secret (--requirepass $(VAR))")
    else:
        template = next(
            ((obj.get("stringData") or {}) for obj in bundle.secret_template
             if obj.get("kind") == "Secret" and name_of(obj) == password_ref.get("name")),
            {},
        )
        if url.password is None or url.password != template.get(password_ref.get("key")):
            problems.append(
                f"{secret}: the Redis url's password is not {password_ref.get('name')}/{password_ref.get('key')}, "
                f"the one {name_of(deployments[0])} requires"
            )
    ports = [p.get("containerPort") for p in container.get("ports", [])]
    target = next(p.get("targetPort") for p in dig(service, ("spec", "ports")) if p.get("port") == (url.port or 6379))
    named = {p.get("name"): p.get("containerPort") for p in container.get("ports", [])}
    if named.get(target, target) not in ports:
        problems.append(f"the {name_of(service)} Service targets port {target!r}, which {name_of(deployments[0])} doesn't open")
    return problems


def max_replicas(bundle: Bundle) -> int:
    """The most replicas the SpinApp may run: its count, or its autoscaler's maximum."""
    spec = bundle.spinapp().get("spec", {})
    if spec.get("enableAutoscaling"):
        return max((dig(hpa, ("spec", "maxReplicas")) or 1 for hpa in autoscalers_of(bundle)), default=1)
    return spec.get("replicas") or 1


def autoscalers_of(bundle: Bundle) -> list[dict[str, Any]]:
    """The HorizontalPodAutoscalers aimed at the SpinApp's Deployment (named as the SpinApp)."""
    app = bundle.spinapp()
    return [
        hpa for hpa in bundle.of_kind("HorizontalPodAutoscaler")
        if dig(hpa, ("spec", "scaleTargetRef", "name")) == name_of(app)
        and dig(hpa, ("spec", "scaleTargetRef", "kind")) == "Deployment"
        and dig(hpa, ("spec", "scaleTargetRef", "apiVersion")) == "apps/v1"
        and dig(hpa, ("metadata", "namespace")) == dig(app, ("metadata", "namespace"))
    ]


def check_autoscaling(bundle: Bundle) -> list[str]:
    app = bundle.spinapp()
    spec = app.get("spec", {})
    hpas = autoscalers_of(bundle)
    others = [name_of(h) for h in bundle.of_kind("HorizontalPodAutoscaler") if h not in hpas]
    if others:
        return [f"HorizontalPodAutoscaler {others} scales something else than the SpinApp's Deployment (apps/v1 Deployment {name_of(app)})"]
    if not spec.get("enableAutoscaling"):
        if hpas:
            return ["an autoscaler scales the SpinApp's Deployment, but the SpinApp sets replicas: the operator resets the count the autoscaler sets"]
        if (spec.get("replicas") or 1) < MIN_REPLICAS:
            return [f"the SpinApp runs {spec.get('replicas')} replica(s): fewer than {MIN_REPLICAS}, one pod lost is an outage"]
        return []
    if len(hpas) != 1:
        return [f"the SpinApp leaves its replicas to an autoscaler, and {len(hpas)} scale its Deployment"]
    hpa = hpas[0]["spec"]
    problems = []
    low, high = hpa.get("minReplicas", 1), hpa.get("maxReplicas")
    if not isinstance(low, int) or low < MIN_REPLICAS:
        problems.append(f"the autoscaler may go down to {low} replica(s): fewer than {MIN_REPLICAS}, one pod lost is an outage")
    if not isinstance(high, int) or not isinstance(low, int) or high <= low:
        problems.append(f"the autoscaler's maxReplicas {high} leaves nothing to scale above minReplicas {low}")
    requests = dig(spec, ("resources", "requests")) or {}
    metrics = hpa.get("metrics") or []
    if not metrics:
        problems.append("the autoscaler has no metrics")
    for metric in metrics:
        resource = metric.get("resource") or {}
        if metric.get("type") != "Resource":
            problems.append(f"the autoscaler's {metric.get('type')} metric needs an adapter this deployment doesn't bring")
            continue
        if resource.get("name") not in requests:
            problems.append(
                f"the autoscaler scales on {resource.get('name')} utilization, and the SpinApp requests no "
                f"{resource.get('name')}: utilization is measured against the request"
            )
        utilization = dig(resource, ("target", "averageUtilization"))
        if not isinstance(utilization, int) or not 10 <= utilization <= 95:
            problems.append(f"the autoscaler's target utilization {utilization!r} is not between 10 and 95 %")
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
    replicas = max_replicas(bundle)
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
    ("the SpinApp's executor is in its namespace, runs the shim and exports traces", check_executor),
    ("the runtime config puts the default key-value store in the manifests' Redis", check_runtime_config),
    ("an autoscaler scales the SpinApp exactly when it leaves its replicas to one", check_autoscaling),
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
    bundle.spinapp()["spec"]["replicas"] = 5


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


def image_without_the_build(bundle: Bundle) -> None:
    bundle.spinapp()["spec"]["image"] = "registry.example.com/spinshop:0.1.0"


def executor_left_out(bundle: Bundle) -> None:
    bundle.objects = [obj for obj in bundle.objects if obj.get("kind") != "SpinAppExecutor"]


def executor_elsewhere(bundle: Bundle) -> None:
    bundle.one("SpinAppExecutor")["metadata"]["namespace"] = "default"


def executor_of(bundle: Bundle) -> dict[str, Any]:
    return bundle.one("SpinAppExecutor")["spec"]["deploymentConfig"]


def no_traces(bundle: Bundle) -> None:
    del executor_of(bundle)["otel"]


def misspelt_otel_field(bundle: Bundle) -> None:
    otel = executor_of(bundle)["otel"]
    otel["exporter_otlp_endpoint_url"] = otel.pop("exporter_otlp_endpoint")


def spintainer_executor(bundle: Bundle) -> None:
    executor_of(bundle)["spinImage"] = "ghcr.io/spinframework/spin:v3.6.3"


def no_runtime_config(bundle: Bundle) -> None:
    del bundle.spinapp()["spec"]["runtimeConfig"]


def edit_runtime_config(old: str, new: str) -> Callable[[Bundle], None]:
    def mutate(bundle: Bundle) -> None:
        secret = dig(bundle.spinapp(), ("spec", "runtimeConfig", "loadFromSecret"))
        for obj in bundle.secret_template:
            if name_of(obj) == secret:
                text = obj["stringData"][RUNTIME_CONFIG_KEY]
                assert old in text, f"{old!r} is not in the runtime config"
                obj["stringData"][RUNTIME_CONFIG_KEY] = text.replace(old, new)
    return mutate


def redis_without_password(bundle: Bundle) -> None:
    container = containers_of(bundle.one("Deployment", "redis"))[0]
    at = container["command"].index("--requirepass")
    del container["command"][at:at + 2]


def redis_on_another_port(bundle: Bundle) -> None:
    bundle.one("Service", "redis")["spec"]["ports"][0]["port"] = 6380


def runtime_config_not_in_template(bundle: Bundle) -> None:
    secret = dig(bundle.spinapp(), ("spec", "runtimeConfig", "loadFromSecret"))
    bundle.secret_template = [obj for obj in bundle.secret_template if name_of(obj) != secret]


def the_hpa(bundle: Bundle) -> dict[str, Any]:
    return bundle.of_kind("HorizontalPodAutoscaler")[0]["spec"]


def hpa_on_another_deployment(bundle: Bundle) -> None:
    the_hpa(bundle)["scaleTargetRef"]["name"] = "pgbouncer"


def hpa_while_the_operator_sets_replicas(bundle: Bundle) -> None:
    spec = bundle.spinapp()["spec"]
    del spec["enableAutoscaling"]
    spec["replicas"] = 2


def autoscaling_with_replicas(bundle: Bundle) -> None:
    bundle.spinapp()["spec"]["replicas"] = 2


def hpa_down_to_one(bundle: Bundle) -> None:
    the_hpa(bundle)["minReplicas"] = 1


def hpa_beyond_pgbouncer(bundle: Bundle) -> None:
    the_hpa(bundle)["maxReplicas"] = 8


def hpa_without_a_cpu_request(bundle: Bundle) -> None:
    del bundle.spinapp()["spec"]["resources"]["requests"]["cpu"]


def autoscaling_without_hpa(bundle: Bundle) -> None:
    bundle.objects = [obj for obj in bundle.objects if obj.get("kind") != "HorizontalPodAutoscaler"]


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
    ("an image that doesn't name the WASIp2 build", image_without_the_build, check_spinapp),
    ("the executor left out", executor_left_out, check_executor),
    ("the executor in another namespace", executor_elsewhere, check_executor),
    ("no OpenTelemetry exporter", no_traces, check_executor),
    ("a misspelt OpenTelemetry field", misspelt_otel_field, check_executor),
    ("an executor that runs Spin in a container", spintainer_executor, check_executor),
    ("no runtime config", no_runtime_config, check_runtime_config),
    ("the key-value store under another label", edit_runtime_config("[key_value_store.default]", "[key_value_store.counters]"), check_runtime_config),
    ("the store in memory, each replica alone", edit_runtime_config('type = "redis"', 'type = "spin"'), check_runtime_config),
    ("a Redis the manifests don't run", edit_runtime_config("@redis:6379", "@redis-cache:6379"), check_runtime_config),
    ("a Redis URL without the password", edit_runtime_config(":change-me@", ""), check_runtime_config),
    ("a Redis that requires no password", redis_without_password, check_runtime_config),
    ("the Redis Service on another port", redis_on_another_port, check_runtime_config),
    ("a runtime config Secret the template lacks", runtime_config_not_in_template, check_secret_template),
]

# Broken on purpose in the autoscaling variant.
AUTOSCALING_MUTATIONS: list[tuple[str, Callable[[Bundle], None], Callable[[Bundle], list[str]]]] = [
    ("an autoscaler aimed at another Deployment", hpa_on_another_deployment, check_autoscaling),
    ("an autoscaler while the SpinApp sets replicas", hpa_while_the_operator_sets_replicas, check_autoscaling),
    ("enableAutoscaling with replicas still set", autoscaling_with_replicas, check_spinapp),
    ("enableAutoscaling and no autoscaler", autoscaling_without_hpa, check_autoscaling),
    ("an autoscaler down to one replica", hpa_down_to_one, check_autoscaling),
    ("an autoscaler up to more replicas than PgBouncer takes", hpa_beyond_pgbouncer, check_pgbouncer),
    ("CPU utilization without a CPU request", hpa_without_a_cpu_request, check_autoscaling),
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
        runtime_config = obj.get("loadFromSecret")
        if isinstance(runtime_config, str):
            found.add((runtime_config, RUNTIME_CONFIG_KEY))
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

    passed = failed = 0
    pristine: dict[Path, Bundle] = {}
    for directory in (DEPLOY, AUTOSCALING):
        where = f"deploy/{directory.name}"
        try:
            bundle = load_bundle(versions, directory)
        except CheckFailed as err:
            failed += 1
            print(f"FAIL loading {where}: {err}")
            continue
        renderer = "kubectl kustomize and this check's renderer" if bundle.kubectl_objects is not None else "this check's renderer (no kubectl here)"
        print(f"{where}, rendered by {renderer}; Kubernetes {', '.join(versions)}; "
              f"kubernetes-validate {kubernetes_validate.version.__version__}")
        clean = True
        for title, problems in run_checks(bundle):
            if problems:
                failed += 1
                clean = False
                print(f"FAIL {title}")
                for problem in problems:
                    print(f"       {problem}")
            else:
                passed += 1
                print(f"ok   {title}")
        for note in bundle.notes:
            print(f"note {note}")
        if clean:
            pristine[directory] = bundle

    # Each break must be caught, and only a working set of manifests is a fair base.
    for directory, mutations in ((DEPLOY, MUTATIONS), (AUTOSCALING, AUTOSCALING_MUTATIONS)):
        if directory not in pristine:
            continue
        print(f"deploy/{directory.name}, broken on purpose:")
        for title, mutate, check in mutations:
            broken = copy.deepcopy(pristine[directory])
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
