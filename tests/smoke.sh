#!/usr/bin/env bash
# Smoke test against a running spinshop (./dev up, or spin up): curl + jq only.
#   BASE=http://127.0.0.1:3000 tests/smoke.sh
# Admin credentials default to the manifest's local defaults; override with
# ADMIN_EMAIL / ADMIN_PASSWORD when the app was migrated with others.
set -euo pipefail
BASE="${BASE:-http://127.0.0.1:3000}"
ADMIN_EMAIL="${ADMIN_EMAIL:-admin@spinshop.local}"
ADMIN_PASSWORD="${ADMIN_PASSWORD:-change-me-admin}"
RUN="$(date +%s)-$$"

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { printf '== %s\n' "$*"; }

# call METHOD PATH [BODY] [TOKEN] [EXTRA_HEADER]: sets $STATUS, $BODY and $HEADERS
call() {
  local method=$1 path=$2 body=${3:-} token=${4:-} extra=${5:-}
  local args=(-sS -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -X "$method" "$BASE$path")
  [ -n "$body" ] && args+=(-H 'content-type: application/json' -d "$body")
  [ -n "$token" ] && args+=(-H "authorization: Bearer $token")
  [ -n "$extra" ] && args+=(-H "$extra")
  STATUS=$(curl "${args[@]}") || fail "$method $path: no answer"
  BODY=$(cat "$tmp/body"); HEADERS=$(tr -d '\r' < "$tmp/headers")
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
expect() { [ "$STATUS" = "$1" ] || fail "expected $1, got $STATUS: $BODY"; }

step "health"
for service in users products orders payments carts notifications; do
  call GET "/api/$service/healthz"; expect 200
  [ "$(jq -r .ok <<<"$BODY")" = true ] || fail "$service not healthy: $BODY"
  echo "  $service ok"
done

step "admin logs in and creates a product"
call POST /api/users/auth/login "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}"; expect 200
ADMIN=$(jq -r .token <<<"$BODY")
call POST /api/products/products "{\"name\":\"Keyboard $RUN\",\"price\":999,\"stock\":5}" "$ADMIN"; expect 201
PRODUCT=$(jq -r .id <<<"$BODY")
echo "  product $PRODUCT"

step "register and log in"
EMAIL="alice-$RUN@example.com"
call POST /api/users/auth/register "{\"email\":\"$EMAIL\",\"password\":\"secret-password\"}"; expect 201
call POST /api/users/auth/login "{\"email\":\"$EMAIL\",\"password\":\"secret-password\"}"; expect 200
TOKEN=$(jq -r .token <<<"$BODY")
call GET /api/users/auth/introspect "" "$TOKEN"; expect 200
[ "$(jq -r .email <<<"$BODY")" = "$EMAIL" ] || fail "introspect: $BODY"
echo "  $EMAIL signed in"

step "what a client gets wrong: a taken email, an unknown account, a missing product"
call POST /api/users/auth/register "{\"email\":\"$EMAIL\",\"password\":\"other-password\"}"; expect 409
[ "$(jq -r .error.code <<<"$BODY")" = email_taken ] || fail "register twice: $BODY"
call POST /api/users/auth/login "{\"email\":\"nobody-$RUN@example.com\",\"password\":\"secret-password\"}"; expect 401
call GET /api/products/products/999999999; expect 404
call POST /api/users/auth/register "{\"email\":\"nul-$RUN@example.com\",\"password\":\"secret-password\",\"name\":\"a\\u0000b\"}"; expect 400
[ "$(jq -r .error.details.field <<<"$BODY")" = name ] || fail "NUL in a name: $BODY"
call GET /api/no/such/path; expect 404
[ "$(jq -r .error.code <<<"$BODY")" = not_found ] || fail "unknown API path: $BODY"
grep -qi '^x-request-id: ' <<<"$HEADERS" || fail "unknown API path: no x-request-id"
call GET /no/such/page; expect 404
grep -qi '^content-type: text/html' <<<"$HEADERS" || fail "unknown page: not HTML: $HEADERS"
call DELETE /api/orders/orders; expect 405
grep -qi '^allow: GET, POST$' <<<"$HEADERS" || fail "405 without Allow: $HEADERS"
echo "  409 email_taken, 401, 404, 400 for NUL, 404 envelope for an unknown API path, an HTML 404 page elsewhere, 405 with Allow"

step "list and fetch the product, read its stock"
call GET "/api/products/products?q=Keyboard%20$RUN"; expect 200
jq -e "map(.id) | index($PRODUCT) != null" <<<"$BODY" >/dev/null || fail "product $PRODUCT not listed"
call GET "/api/products/products/$PRODUCT"; expect 200
[ "$(jq -r .name <<<"$BODY")" = "Keyboard $RUN" ] || fail "fetch: $BODY"
call GET "/api/products/products/$PRODUCT/stock"; expect 200
[ "$(jq -r .stock <<<"$BODY")" = 5 ] || fail "stock: $BODY"

step "place an order"
call POST /api/orders/orders "{\"user_id\":$(jq -r .user_id <<<"$(curl -s "$BASE/api/users/auth/introspect" -H "authorization: Bearer $TOKEN")"),\"items\":[{\"product_id\":$PRODUCT,\"qty\":2}]}" "$TOKEN"; expect 201
ORDER=$(jq -r .id <<<"$BODY"); TOTAL=$(jq -r .total <<<"$BODY")
[ "$(jq -r .status <<<"$BODY")" = pending ] || fail "order: $BODY"
[ "$TOTAL" = 1998 ] || fail "total: $BODY"
call GET "/api/products/products/$PRODUCT/stock"; expect 200
[ "$(jq -r .reserved <<<"$BODY")" = 2 ] || fail "reserved: $BODY"
echo "  order $ORDER, total $TOTAL, 2 units reserved"
call PUT "/api/products/products/$PRODUCT/stock" '{"stock":1}' "$ADMIN"; expect 409
echo "  stock can't go below the 2 reserved units"

step "pay it, then replay the payment with the same key"
KEY="pay-$RUN"
PAY="{\"order_id\":\"$ORDER\",\"amount\":$TOTAL,\"method\":\"card\"}"
call POST /api/payments/pay "$PAY" "$TOKEN" "X-Idempotency-Key: $KEY"; expect 201
FIRST=$BODY
[ "$(jq -r .status <<<"$BODY")" = succeeded ] || fail "payment: $BODY"
call POST /api/payments/pay "$PAY" "$TOKEN" "X-Idempotency-Key: $KEY"; expect 201
[ "$BODY" = "$FIRST" ] || fail "the replay differs: $BODY"
grep -qi '^idempotent-replayed: true' <<<"$HEADERS" || fail "no idempotent-replayed header"
echo "  payment $(jq -r .id <<<"$FIRST") replayed"

step "the order is paid and the stock reduced"
call GET "/api/orders/orders/$ORDER" "" "$TOKEN"; expect 200
[ "$(jq -r .status <<<"$BODY")" = paid ] || fail "order: $BODY"
call GET "/api/products/products/$PRODUCT/stock"; expect 200
[ "$(jq -r .stock <<<"$BODY")" = 3 ] && [ "$(jq -r .reserved <<<"$BODY")" = 0 ] || fail "stock: $BODY"
echo "  paid; stock 5 -> 3"

step "the inbox tells of the registration, the order and the payment"
for _ in $(seq 50); do
  call GET "/api/notifications/notifications?limit=100" "" "$TOKEN"; expect 200
  jq -e '[.[].type] as $types | ["user.registered", "order.created", "order.paid", "payment.succeeded"]
         | all(. as $type | $types | index($type) != null)' <<<"$BODY" >/dev/null && break
  sleep 0.2
done
jq -e '[.[].type] | index("payment.succeeded") != null' <<<"$BODY" >/dev/null || fail "inbox: $BODY"
echo "  $(jq -r 'map(.message) | join(" / ")' <<<"$BODY")"
grep -qi '^x-total-count: ' <<<"$HEADERS" || fail "inbox without X-Total-Count"
call GET /api/notifications/notifications/unread-count "" "$TOKEN"; expect 200
[ "$(jq -r .unread <<<"$BODY")" -ge 4 ] || fail "unread: $BODY"
call POST /api/notifications/notifications/read-all "" "$TOKEN"; expect 200
call GET /api/notifications/notifications/unread-count "" "$TOKEN"; expect 200
[ "$(jq -r .unread <<<"$BODY")" = 0 ] || fail "unread after read-all: $BODY"
call POST /api/notifications/dispatch "" "$TOKEN"; expect 403
call POST /api/notifications/dispatch "" "$ADMIN"; expect 200
jq -e '.producers.users and .producers.orders and .producers.payments and .webhooks' <<<"$BODY" >/dev/null \
  || fail "dispatch: $BODY"
echo "  4 notifications, all read; a dispatch as the admin"

step "cart: add, then check out"
call POST /api/carts/cart/items "{\"product_id\":$PRODUCT,\"qty\":1}" "$TOKEN"; expect 200
call GET /api/carts/cart "" "$TOKEN"; expect 200
[ "$(jq -r .total <<<"$BODY")" = 999 ] || fail "cart: $BODY"
call POST /api/carts/cart/checkout "" "$TOKEN"; expect 201
[ "$(jq -r .status <<<"$BODY")" = pending ] || fail "checkout: $BODY"
CART_ORDER=$(jq -r .id <<<"$BODY")
call GET /api/carts/cart "" "$TOKEN"; expect 200
[ "$(jq -r '.items | length' <<<"$BODY")" = 0 ] || fail "the cart was not emptied: $BODY"
echo "  order $CART_ORDER placed from the cart"

step "a forgotten password: the link mailed to the local mailbox"
call POST /api/users/auth/password-reset "{\"email\":\"$EMAIL\"}"; expect 202
KNOWN=$BODY
call POST /api/users/auth/password-reset "{\"email\":\"nobody-$RUN@example.com\"}"; expect 202
[ "$BODY" = "$KNOWN" ] || fail "the reset form tells addresses apart: $KNOWN / $BODY"
call GET "/api/notifications/mail?to=$EMAIL" "" "$TOKEN"; expect 403
LINK=""
for _ in $(seq 50); do
  call GET "/api/notifications/mail?to=$EMAIL" "" "$ADMIN"; expect 200
  LINK=$(jq -r '[.[].text | capture("(?<link>https?://[^ \n]*/#/reset\\?token=[0-9a-z]+)").link][0] // empty' <<<"$BODY")
  [ -n "$LINK" ] && break
  sleep 0.2
done
[ -n "$LINK" ] || fail "no reset link reached $EMAIL: $BODY"
echo "  $LINK"
call POST /api/users/auth/password-reset/confirm "{\"token\":\"${LINK##*token=}\",\"new_password\":\"reset-password-2\"}"; expect 204
call GET /api/users/users/me "" "$TOKEN"; expect 401
call POST /api/users/auth/login "{\"email\":\"$EMAIL\",\"password\":\"secret-password\"}"; expect 401
call POST /api/users/auth/login "{\"email\":\"$EMAIL\",\"password\":\"reset-password-2\"}"; expect 200
[ "$(jq -r .user.email_verified <<<"$BODY")" = true ] || fail "after a reset: $BODY"
call POST /api/users/auth/password-reset/confirm "{\"token\":\"${LINK##*token=}\",\"new_password\":\"reset-password-3\"}"; expect 400
[ "$(jq -r .error.code <<<"$BODY")" = reset_token_used ] || fail "a used link: $BODY"
echo "  the password was reset from the mailed link; the old sessions ended"

echo "smoke: all passed"
