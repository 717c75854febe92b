"""schemathesis hooks for `./dev api-check`.

- The admin operations on `/api/users/users/{id}` may delete or demote any account,
  including the ones the run authenticates as; then every later request would be
  refused, and the rest of the run would test nothing but 401s. Those ids are left out.
- JSON Schema counts `2.0` as an integer; the API reads integers written without a
  fraction only (400 otherwise, as its description says). Bodies holding such numbers
  are not generated.
"""

import os

import schemathesis

KEPT_USER_IDS = {
    user_id.strip()
    for user_id in os.environ.get("API_CHECK_KEPT_USER_IDS", "").split(",")
    if user_id.strip()
}


@schemathesis.hook("filter_path_parameters").apply_to(
    path="/api/users/users/{id}", method=["PATCH", "DELETE"]
)
def keep_the_check_accounts(context, path_parameters):
    return str(path_parameters.get("id")) not in KEPT_USER_IDS


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
