"""The accounts `./dev api-check` runs schemathesis as, printed as shell assignments,
and the orders it starts from.

Waits for the app at the URL given, logs in the first admin (`spinshop migrate` creates
it from the manifest's `admin_email` / `admin_password`, or `SPIN_VARIABLE_ADMIN_*`) and
registers two customers: one whose profile the `/users/me` operations change, and one
that `DELETE /users/me` may delete. hooks.py keeps schemathesis from deleting or
demoting these accounts through the admin operations.

The admin then places two orders from the demo catalog and pays the first, so that
order 1, order 2 and payment 1 exist: the operations that read or change an order or a
payment by id answer more than 404 from the first request on.
"""

import json
import os
import sys
import time
import tomllib
import urllib.error
import urllib.request
import uuid


def call(base, method, path, body=None, token=None, headers=()):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    for name, value in headers:
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def wait_until_up(base, seconds=120):
    deadline = time.monotonic() + seconds
    while True:
        try:
            status, _ = call(base, "GET", "/api/users/healthz")
            if status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"the app at {base} did not answer within {seconds} s")
        time.sleep(0.5)


def manifest_default(name):
    with open("spin.toml", "rb") as manifest:
        return tomllib.load(manifest)["variables"][name]["default"]


def session(base, path, body):
    status, answer = call(base, "POST", path, body)
    if status not in (200, 201):
        sys.exit(f"POST {path}: {status} {answer}")
    return answer["access_token"], answer["user"]["id"]


def expect(expected, answer, what):
    status, body = answer
    if status != expected:
        sys.exit(f"{what}: {status} {body}")
    return body


def main():
    base = sys.argv[1]
    wait_until_up(base)
    admin = session(base, "/api/users/auth/login", {
        "email": os.environ.get("SPIN_VARIABLE_ADMIN_EMAIL") or manifest_default("admin_email"),
        "password": os.environ.get("SPIN_VARIABLE_ADMIN_PASSWORD") or manifest_default("admin_password"),
    })
    run = uuid.uuid4().hex[:8]
    customer = session(base, "/api/users/auth/register", {
        "email": f"api-check-{run}@spinshop.test",
        "password": uuid.uuid4().hex,
        "name": "API check",
    })
    leaver = session(base, "/api/users/auth/register", {
        "email": f"api-check-leaver-{run}@spinshop.test",
        "password": uuid.uuid4().hex,
    })
    token = admin[0]
    for _ in range(2):
        order = expect(201, call(base, "POST", "/api/orders/orders",
                                 {"items": [{"product_id": 1, "qty": 1}]}, token), "placing an order")
        if order["id"] == 1:
            payment = {"order_id": order["id"], "amount": order["total"], "method": "card"}
            expect(201, call(base, "POST", "/api/payments/pay", payment, token,
                             [("x-idempotency-key", f"api-check-{run}")]), "paying an order")
    print(f"API_CHECK_ADMIN_TOKEN={admin[0]}")
    print(f"API_CHECK_CUSTOMER_TOKEN={customer[0]}")
    print(f"API_CHECK_LEAVER_TOKEN={leaver[0]}")
    print(f"API_CHECK_KEPT_USER_IDS={admin[1]},{customer[1]}")


if __name__ == "__main__":
    main()
