//! users: registration, login, tokens and sessions, profile, admin, rate limiting.

use serde_json::json;
use spinshop_kit::auth::{Role, issue_access_token};
use spinshop_tests::{ADMIN_EMAIL, JWT_SECRET, TestApp};

#[tokio::test]
async fn register_returns_the_user_and_a_token_pair() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            "/api/users/auth/register",
            &json!({"email": "Alice@Example.com", "password": "password-1", "name": "Alice"}),
            None,
        )
        .await;
    assert_eq!(response.status, 201);
    let body = response.json();
    assert_eq!(body["user"]["email"], "alice@example.com");
    assert_eq!(body["user"]["name"], "Alice");
    assert_eq!(body["user"]["role"], "customer");
    assert!(body["user"].get("password_hash").is_none());
    assert_eq!(body["token"], body["access_token"]);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().unwrap().len() >= 32);
    assert!(body["user"]["created_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_and_refresh_tokens_as_hashes() {
    let app = TestApp::spawn().await;
    let session = app.register("bob@example.com", "password-1").await;
    let db = app.db().await;
    let hash: String = db
        .query_one(
            "SELECT password_hash FROM users.users WHERE id = $1",
            &[&session.user_id],
        )
        .await
        .unwrap()
        .get(0);
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let stored: i64 = db
        .query_one(
            "SELECT count(*) FROM users.refresh_tokens WHERE token_hash = $1",
            &[&session.refresh_token],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 0, "the raw refresh token must not be stored");
}

#[tokio::test]
async fn registering_a_taken_email_returns_409_in_any_case() {
    let app = TestApp::spawn().await;
    app.register("carol@example.com", "password-1").await;
    let response = app
        .post(
            "/api/users/auth/register",
            &json!({"email": "CAROL@example.com", "password": "password-2"}),
            None,
        )
        .await;
    assert_eq!(response.status, 409);
    assert_eq!(response.error_code(), "email_taken");
}

#[tokio::test]
async fn registration_validates_its_input() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            json!({"email": "dave@example.com", "password": "short"}),
            "password must be at least 8 characters",
        ),
        (
            json!({"email": "not-an-email", "password": "password-1"}),
            "email must be a valid email address",
        ),
        (
            json!({"email": "dave@\u{5}.example.com", "password": "password-1"}),
            "email must be a valid email address",
        ),
        (
            json!({"email": format!("{}dave@example.com", " ".repeat(240)),
                   "password": "password-1"}),
            "email must be a valid email address",
        ),
        (json!({"password": "password-1"}), "missing field `email`"),
        (
            json!({"email": "dave@example.com", "password": "password-1", "role": "admin"}),
            "unknown field `role`",
        ),
        (
            json!({"email": 7, "password": "password-1"}),
            "email: invalid type",
        ),
    ];
    for (body, message) in cases {
        let response = app.post("/api/users/auth/register", &body, None).await;
        assert_eq!(response.status, 400, "{body}");
        assert_eq!(response.error_code(), "validation_error");
        let actual = response.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(actual.contains(message), "{body}: {actual}");
    }
    assert_eq!(app.count("users.users").await, 1, "only the admin exists");
}

#[tokio::test]
async fn login_accepts_json_and_the_oauth2_form() {
    let app = TestApp::spawn().await;
    app.register("erin@example.com", "password-1").await;
    let response = app.login("erin@example.com", "password-1").await;
    assert_eq!(response.status, 200);
    assert!(response.json()["token"].is_string());

    let response = app
        .request_to("POST", "/api/users/auth/login")
        .body(
            "application/x-www-form-urlencoded",
            "username=erin%40example.com&password=password-1&grant_type=password",
        )
        .send()
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["user"]["email"], "erin@example.com");
}

#[tokio::test]
async fn unknown_email_and_wrong_password_look_the_same() {
    let app = TestApp::spawn().await;
    app.register("frank@example.com", "password-1").await;
    let wrong_password = app.login("frank@example.com", "password-2").await;
    let unknown_email = app.login("nobody@example.com", "password-1").await;
    assert_eq!(wrong_password.status, 401);
    assert_eq!(unknown_email.status, 401);
    assert_eq!(wrong_password.json(), unknown_email.json());
}

#[tokio::test]
async fn repeated_failed_logins_are_rate_limited_with_retry_after() {
    let app = TestApp::spawn().await;
    app.register("grace@example.com", "password-1").await;
    for _ in 0..5 {
        assert_eq!(
            app.login("grace@example.com", "wrong-password")
                .await
                .status,
            401
        );
    }
    let response = app.login("grace@example.com", "password-1").await;
    assert_eq!(response.status, 429, "even the right password waits");
    assert_eq!(response.error_code(), "rate_limited");
    let retry_after: u64 = response.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=300).contains(&retry_after), "{retry_after}");
    // Another account is not locked by grace's failures.
    app.register("heidi@example.com", "password-1").await;
    assert_eq!(
        app.login("heidi@example.com", "password-1").await.status,
        200
    );
}

#[tokio::test]
async fn introspect_describes_a_valid_token() {
    let app = TestApp::spawn().await;
    let session = app.register("ivan@example.com", "password-1").await;
    let response = app
        .get("/api/users/auth/introspect", Some(&session.access_token))
        .await;
    assert_eq!(response.status, 200);
    let body = response.json();
    assert_eq!(body["active"], true);
    assert_eq!(body["user_id"], session.user_id);
    assert_eq!(body["email"], "ivan@example.com");
    assert_eq!(body["role"], "customer");
    assert!(body["exp"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn expired_tampered_and_foreign_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let session = app.register("judy@example.com", "password-1").await;
    let sid = "00000000-0000-4000-8000-000000000000";

    let (expired, _) =
        issue_access_token(JWT_SECRET, session.user_id, Role::Customer, sid, -5).unwrap();
    let (wrong_key, _) = issue_access_token(
        "some-other-secret-0123456789",
        session.user_id,
        Role::Admin,
        sid,
        900,
    )
    .unwrap();
    // Swap the payload for one claiming the admin role, keeping the signature.
    let parts: Vec<&str> = session.access_token.split('.').collect();
    let (admin_token, _) = issue_access_token(
        "x-secret-0123456789abcdef",
        session.user_id,
        Role::Admin,
        sid,
        900,
    )
    .unwrap();
    let admin_payload = admin_token.split('.').nth(1).unwrap();
    let role_swapped = format!("{}.{}.{}", parts[0], admin_payload, parts[2]);
    // alg "none": {"alg":"none","typ":"JWT"}
    let alg_none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", parts[1]);

    for (what, token) in [
        ("expired", expired.as_str()),
        ("wrong key", wrong_key.as_str()),
        ("role claim swapped", role_swapped.as_str()),
        ("alg none", alg_none.as_str()),
        ("garbage", "not-a-jwt"),
    ] {
        let response = app.get("/api/users/auth/introspect", Some(token)).await;
        assert_eq!(response.status, 401, "{what}");
        assert_eq!(response.error_code(), "unauthorized", "{what}");
        let response = app.get("/api/users/users", Some(token)).await;
        assert_eq!(response.status, 401, "{what} on an admin route");
    }
    assert_eq!(
        app.get("/api/users/auth/introspect", None).await.status,
        401
    );
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_session() {
    let app = TestApp::spawn().await;
    let session = app.register("ken@example.com", "password-1").await;
    let first = app
        .post(
            "/api/users/auth/refresh",
            &json!({"refresh_token": session.refresh_token}),
            None,
        )
        .await;
    assert_eq!(first.status, 200);
    let rotated = first.json();
    let new_refresh = rotated["refresh_token"].as_str().unwrap().to_string();
    let new_access = rotated["access_token"].as_str().unwrap().to_string();
    assert_ne!(new_refresh, session.refresh_token);
    assert_eq!(
        app.get("/api/users/auth/introspect", Some(&new_access))
            .await
            .status,
        200
    );

    // Replaying the rotated token is refused and ends the whole session.
    let replay = app
        .post(
            "/api/users/auth/refresh",
            &json!({"refresh_token": session.refresh_token}),
            None,
        )
        .await;
    assert_eq!(replay.status, 401);
    let after = app
        .post(
            "/api/users/auth/refresh",
            &json!({"refresh_token": new_refresh}),
            None,
        )
        .await;
    assert_eq!(
        after.status, 401,
        "the newest token of the family is revoked too"
    );
    assert_eq!(
        app.get("/api/users/auth/introspect", Some(&new_access))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let session = app.register("leo@example.com", "password-1").await;
    let response = app
        .post(
            "/api/users/auth/logout",
            &json!({"refresh_token": session.refresh_token}),
            None,
        )
        .await;
    assert_eq!(response.status, 204);
    let refresh = app
        .post(
            "/api/users/auth/refresh",
            &json!({"refresh_token": session.refresh_token}),
            None,
        )
        .await;
    assert_eq!(refresh.status, 401);
    assert_eq!(
        app.get("/api/users/auth/introspect", Some(&session.access_token))
            .await
            .status,
        401
    );
    // Logging out again is harmless.
    let again = app
        .post(
            "/api/users/auth/logout",
            &json!({"refresh_token": session.refresh_token}),
            None,
        )
        .await;
    assert_eq!(again.status, 204);
}

/// serde reads a struct from an array of its fields too; the API takes objects only.
#[tokio::test]
async fn a_body_that_is_an_array_instead_of_an_object_is_400() {
    let app = TestApp::spawn().await;
    let session = app.register("ada@example.com", "password-1").await;
    let token = Some(session.access_token.as_str());
    let response = app
        .patch("/api/users/users/me", &json!([null, null]), token)
        .await;
    assert_eq!(response.status, 400, "{}", response.text());
    assert_eq!(response.error_code(), "validation_error");
    let response = app
        .patch("/api/users/users/me", &json!(["Ada", null]), token)
        .await;
    assert_eq!(response.status, 400, "{}", response.text());
    assert_eq!(
        app.get("/api/users/users/me", token).await.json()["name"],
        json!(null)
    );
}

#[tokio::test]
async fn me_can_be_read_updated_and_deleted() {
    let app = TestApp::spawn().await;
    let session = app.register("mia@example.com", "password-1").await;
    let token = Some(session.access_token.as_str());
    let me = app.get("/api/users/users/me", token).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["email"], "mia@example.com");

    let updated = app
        .patch(
            "/api/users/users/me",
            &json!({"name": "Mia", "email": "mia2@example.com"}),
            token,
        )
        .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.json()["name"], "Mia");
    // The new address waits for its verification (see mail.rs).
    assert_eq!(updated.json()["email"], "mia@example.com");
    assert_eq!(updated.json()["pending_email"], "mia2@example.com");

    let escalate = app
        .patch("/api/users/users/me", &json!({"role": "admin"}), token)
        .await;
    assert_eq!(escalate.status, 400, "a user can't set their own role");

    app.register("nia@example.com", "password-1").await;
    let taken = app
        .patch(
            "/api/users/users/me",
            &json!({"email": "nia@example.com"}),
            token,
        )
        .await;
    assert_eq!(taken.status, 409);
    assert_eq!(taken.error_code(), "email_taken");

    assert_eq!(app.delete("/api/users/users/me", token).await.status, 204);
    assert_eq!(app.get("/api/users/users/me", token).await.status, 401);
    assert_eq!(
        app.get("/api/users/auth/introspect", token).await.status,
        401
    );
    assert_eq!(
        app.login("mia2@example.com", "password-1").await.status,
        401
    );
    let refresh = app
        .post(
            "/api/users/auth/refresh",
            &json!({"refresh_token": session.refresh_token}),
            None,
        )
        .await;
    assert_eq!(refresh.status, 401);
}

#[tokio::test]
async fn changing_the_password_revokes_other_sessions() {
    let app = TestApp::spawn().await;
    let here = app.register("olga@example.com", "password-1").await;
    let elsewhere = app.login("olga@example.com", "password-1").await.json();
    let elsewhere_access = elsewhere["access_token"].as_str().unwrap();
    let token = Some(here.access_token.as_str());

    let wrong = app
        .put(
            "/api/users/users/me/password",
            &json!({"current_password": "nope-nope", "new_password": "password-2"}),
            token,
        )
        .await;
    assert_eq!(wrong.status, 403);
    let short = app
        .put(
            "/api/users/users/me/password",
            &json!({"current_password": "password-1", "new_password": "short"}),
            token,
        )
        .await;
    assert_eq!(short.status, 400);

    let changed = app
        .put(
            "/api/users/users/me/password",
            &json!({"current_password": "password-1", "new_password": "password-2"}),
            token,
        )
        .await;
    assert_eq!(changed.status, 204);
    assert_eq!(
        app.get("/api/users/auth/introspect", token).await.status,
        200,
        "this session stays"
    );
    assert_eq!(
        app.get("/api/users/auth/introspect", Some(elsewhere_access))
            .await
            .status,
        401
    );
    assert_eq!(
        app.login("olga@example.com", "password-1").await.status,
        401
    );
    assert_eq!(
        app.login("olga@example.com", "password-2").await.status,
        200
    );
}

#[tokio::test]
async fn admins_list_users_with_paging() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for i in 0..3 {
        app.register(&format!("user{i}@example.com"), "password-1")
            .await;
    }
    let page = app
        .get(
            "/api/users/users?limit=2&offset=1",
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("x-total-count"), Some("4"));
    let users = page.json();
    assert_eq!(users.as_array().unwrap().len(), 2);
    assert_eq!(users[0]["email"], "user0@example.com");
}

#[tokio::test]
async fn customers_cannot_use_admin_routes() {
    let app = TestApp::spawn().await;
    let customer = app.register("pat@example.com", "password-1").await;
    let other = app.register("quinn@example.com", "password-1").await;
    let token = Some(customer.access_token.as_str());
    assert_eq!(app.get("/api/users/users", token).await.status, 403);
    assert_eq!(
        app.get(&format!("/api/users/users/{}", other.user_id), token)
            .await
            .status,
        403
    );
    assert_eq!(
        app.get(&format!("/api/users/users/{}", customer.user_id), token)
            .await
            .status,
        200
    );
    let patch = app
        .patch(
            &format!("/api/users/users/{}", customer.user_id),
            &json!({"role": "admin"}),
            token,
        )
        .await;
    assert_eq!(patch.status, 403);
    assert_eq!(
        app.delete(&format!("/api/users/users/{}", other.user_id), token)
            .await
            .status,
        403
    );
    assert_eq!(app.get("/api/users/users", None).await.status, 401);
}

#[tokio::test]
async fn admins_manage_accounts() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = Some(admin.access_token.as_str());
    let user = app.register("rita@example.com", "password-1").await;
    let path = format!("/api/users/users/{}", user.user_id);

    let fetched = app.get(&path, token).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json()["email"], "rita@example.com");

    let promoted = app
        .patch(&path, &json!({"role": "admin", "name": "Rita"}), token)
        .await;
    assert_eq!(promoted.status, 200);
    assert_eq!(promoted.json()["role"], "admin");
    // Admin rights follow the account, so Rita's existing token now opens admin routes.
    assert_eq!(
        app.get("/api/users/users", Some(&user.access_token))
            .await
            .status,
        200
    );

    let bad_role = app.patch(&path, &json!({"role": "root"}), token).await;
    assert_eq!(bad_role.status, 400);
    let taken = app
        .patch(&path, &json!({"email": ADMIN_EMAIL}), token)
        .await;
    assert_eq!(taken.status, 409);

    assert_eq!(app.delete(&path, token).await.status, 204);
    assert_eq!(app.get(&path, token).await.status, 404);
    assert_eq!(app.delete(&path, token).await.status, 404);
    assert_eq!(app.get("/api/users/users/999999", token).await.status, 404);
    assert_eq!(app.get("/api/users/users/abc", token).await.status, 404);
}

#[tokio::test]
async fn routing_errors_are_json_and_carry_the_request_id() {
    let app = TestApp::spawn().await;
    let response = app
        .request("DELETE", "/api/users/auth/login", None, None)
        .await;
    assert_eq!(response.status, 405);
    assert_eq!(response.error_code(), "method_not_allowed");
    let response = app.get("/api/users/nowhere", None).await;
    assert_eq!(response.status, 404);
    assert_eq!(response.error_code(), "not_found");
    assert!(
        response
            .header("x-request-id")
            .is_some_and(|id| !id.is_empty())
    );

    let response = app
        .request_to("GET", "/api/users/healthz")
        .header("x-request-id", "trace-123")
        .send()
        .await;
    assert_eq!(response.header("x-request-id"), Some("trace-123"));
}

/// A correctly signed token for a live session is still refused when it claims a
/// longer life than access tokens are issued for (a leaked key, an old setting).
#[tokio::test]
async fn a_token_living_longer_than_the_access_token_ttl_is_refused() {
    let app = TestApp::spawn().await;
    let session = app.register("tina@example.com", "password-1").await;
    let claims = spinshop_kit::auth::verify_access_token(JWT_SECRET, &session.access_token)
        .expect("the issued token verifies");
    let introspect = |token: String| {
        let app = &app;
        async move {
            app.get("/api/users/auth/introspect", Some(&token))
                .await
                .status
        }
    };
    assert_eq!(introspect(session.access_token.clone()).await, 200);
    let (long_lived, _) = issue_access_token(
        JWT_SECRET,
        session.user_id,
        claims.role,
        &claims.sid,
        86_400,
    )
    .expect("a token");
    assert_eq!(introspect(long_lived).await, 401);
}
