//! The shop a test starts from, and a helper for each step a customer takes through
//! it: signing up and in, the catalog's stock, the cart, placing an order, paying.

use serde_json::{Value, json};

use crate::{ADMIN_EMAIL, ADMIN_PASSWORD, Response, TestApp};

/// A signed-in user.
#[derive(Clone, Debug)]
pub struct Session {
    pub user_id: i64,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl Session {
    pub fn token(&self) -> Option<&str> {
        Some(&self.access_token)
    }
}

/// The session a register, login or refresh answer describes.
pub fn session_from(body: &Value, email: &str, password: &str) -> Session {
    Session {
        user_id: body["user"]["id"].as_i64().expect("user.id"),
        email: email.to_string(),
        password: password.to_string(),
        access_token: body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string(),
        refresh_token: body["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .to_string(),
    }
}

/// What most tests start from: the admin signed in, one product on the shelf, and a
/// customer signed in.
pub struct Shop {
    pub admin: Session,
    pub customer: Session,
    /// The id of a [`Shop::PRODUCT`] at [`Shop::PRICE`].
    pub product: i64,
}

impl Shop {
    pub const PRODUCT: &str = "Keyboard";
    pub const PRICE: i64 = 999;
    pub const CUSTOMER: &str = "pat@example.com";
    pub const PASSWORD: &str = "password-1";

    /// Signs the admin in, creates the product with `stock` units and registers the
    /// customer.
    pub async fn open(app: &TestApp, stock: i64) -> Shop {
        let admin = app.admin().await;
        let product = app
            .create_product(&admin, Shop::PRODUCT, Shop::PRICE, stock)
            .await;
        let customer = app.register(Shop::CUSTOMER, Shop::PASSWORD).await;
        Shop {
            admin,
            customer,
            product,
        }
    }
}

/// An order's body: `qty` units of `product`.
pub fn one_item(product: i64, qty: i64) -> Value {
    json!({"items": [{"product_id": product, "qty": qty}]})
}

/// A card payment's body for the whole of `order`.
pub fn payment_for(order: &Value) -> Value {
    json!({"order_id": order["id"], "amount": order["total"], "method": "card"})
}

impl TestApp {
    /// Registers a new customer and returns their session.
    pub async fn register(&self, email: &str, password: &str) -> Session {
        let response = self
            .post(
                "/api/users/auth/register",
                &json!({"email": email, "password": password}),
                None,
            )
            .await;
        assert_eq!(response.status, 201, "register: {}", response.text());
        session_from(&response.json(), email, password)
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/users/auth/login",
            &json!({"email": email, "password": password}),
            None,
        )
        .await
    }

    /// The admin created at migration time, signed in.
    pub async fn admin(&self) -> Session {
        let response = self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(response.status, 200, "admin login: {}", response.text());
        session_from(&response.json(), ADMIN_EMAIL, ADMIN_PASSWORD)
    }

    /// Creates a product as the admin and returns its id.
    pub async fn create_product(&self, admin: &Session, name: &str, price: i64, stock: i64) -> i64 {
        let response = self
            .post(
                "/api/products/products",
                &json!({"name": name, "price": price, "stock": stock}),
                admin.token(),
            )
            .await;
        assert_eq!(response.status, 201, "create product: {}", response.text());
        response.json()["id"].as_i64().expect("product id")
    }

    /// `(stock, reserved, available)` of a product, as products reports them.
    pub async fn stock_of(&self, product: i64) -> (i64, i64, i64) {
        let response = self
            .get(&format!("/api/products/products/{product}/stock"), None)
            .await;
        assert_eq!(response.status, 200, "stock: {}", response.text());
        let body = response.json();
        let number = |name: &str| {
            body[name]
                .as_i64()
                .unwrap_or_else(|| panic!("{name}: {body}"))
        };
        (number("stock"), number("reserved"), number("available"))
    }

    /// Puts `qty` units of `product` in the cart of `session`.
    pub async fn add_to_cart(&self, session: &Session, product: i64, qty: i64) -> Response {
        self.post(
            "/api/carts/cart/items",
            &json!({"product_id": product, "qty": qty}),
            session.token(),
        )
        .await
    }

    /// The cart of `session`.
    pub async fn cart(&self, session: &Session) -> Value {
        let response = self.get("/api/carts/cart", session.token()).await;
        assert_eq!(response.status, 200, "cart: {}", response.text());
        response.json()
    }

    /// Places the order `body` as `session`.
    pub async fn place_order(&self, session: &Session, body: &Value) -> Response {
        self.post("/api/orders/orders", body, session.token()).await
    }

    /// Places an order of `qty` units of `product` as `session`, and returns it.
    pub async fn placed_order(&self, session: &Session, product: i64, qty: i64) -> Value {
        let response = self.place_order(session, &one_item(product, qty)).await;
        assert_eq!(response.status, 201, "place order: {}", response.text());
        response.json()
    }

    /// The order `id` as `session` reads it.
    pub async fn order(&self, session: &Session, id: &Value) -> Value {
        let response = self
            .get(&format!("/api/orders/orders/{id}"), session.token())
            .await;
        assert_eq!(response.status, 200, "read order: {}", response.text());
        response.json()
    }

    /// Pays with `body` as `session`, with `key` in `X-Idempotency-Key` (or none).
    pub async fn pay(&self, session: &Session, key: Option<&str>, body: &Value) -> Response {
        let mut request = self
            .request_to("POST", "/api/payments/pay")
            .bearer(&session.access_token)
            .json(body);
        if let Some(key) = key {
            request = request.header("x-idempotency-key", key);
        }
        request.send().await
    }

    /// Pays the whole of `order` by card as `session` under `key`, and returns the
    /// payment.
    pub async fn paid(&self, session: &Session, order: &Value, key: &str) -> Value {
        let response = self.pay(session, Some(key), &payment_for(order)).await;
        assert_eq!(response.status, 201, "pay: {}", response.text());
        response.json()
    }
}
