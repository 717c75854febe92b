"""schemathesis hooks for `./dev api-check`.

- The profile operations act on customers (accounts.py), so the admin every other
  operation runs as keeps its account and password: `DELETE /users/me` as one customer,
  the others as another. Only a request carrying the admin's token is switched, so the
  probes without a token, or with a forged one, stay as they are.
- The admin operations on `/api/users/users/{id}` may delete or demote any account,
  including the ones the run signs in as; then every later request would be refused,
  and the rest of the run would test nothing but 401s. Requests for those ids go to an
  id no account has instead.
- JSON Schema counts `2.0` as an integer; the API reads integers written without a
  fraction only (400 otherwise, as its description says). Bodies holding such numbers
  are not generated.
"""

import os

import schemathesis

ADMIN = f"Bearer {os.environ.get('API_CHECK_ADMIN_TOKEN')}"
CUSTOMER = f"Bearer {os.environ.get('API_CHECK_CUSTOMER_TOKEN')}"
LEAVER = f"Bearer {os.environ.get('API_CHECK_LEAVER_TOKEN')}"
PROFILE_CALLERS = {
    "GET /api/users/users/me": CUSTOMER,
    "PATCH /api/users/users/me": CUSTOMER,
    "PUT /api/users/users/me/password": CUSTOMER,
    "DELETE /api/users/users/me": LEAVER,
}
ACCOUNT_CHANGES = {"PATCH /api/users/users/{id}", "DELETE /api/users/users/{id}"}
KEPT_USER_IDS = {
    user_id.strip()
    for user_id in os.environ.get("API_CHECK_KEPT_USER_IDS", "").split(",")
    if user_id.strip()
}
NO_SUCH_USER = 9223372036854775807


@schemathesis.hook
def before_call(context, case, kwargs):
    label = case.operation.label
    caller = PROFILE_CALLERS.get(label)
    if caller and case.headers and case.headers.get("Authorization") == ADMIN:
        case.headers["Authorization"] = caller
    if label in ACCOUNT_CHANGES and str((case.path_parameters or {}).get("id")) in KEPT_USER_IDS:
        case.path_parameters["id"] = NO_SUCH_USER


def holds_integral_float(value):
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, dict):
        return any(holds_integral_float(item) for item in value.values())
    if isinstance(value, list):
        return any(holds_integral_float(item) for item in value)
    return False


@schemathesis.hook
def filter_body(context, body):
    return not holds_integral_float(body)
