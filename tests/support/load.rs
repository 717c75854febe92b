//! Mixed traffic from many clients at once, the way a shop is used: browsing the
//! catalog, logging in, placing orders, paying them, checking out carts. Each client
//! is a customer of its own and sends one request after another for a set time.
//! A [`Report`] keeps every request's route, start, latency and outcome; it prints
//! status counts and latency percentiles per route, and knows which writes were
//! acknowledged (201) so they can be looked for afterwards.
//!
//! The same code drives `cargo bench --bench load` (against any base URL: `./dev up`,
//! a real `spin up`) and the tests that run a short load against a test app.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::join_all;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::TestApp;

/// A request that has no answer by then is counted as a hang.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Products the load buys from, each with more stock than a run can sell.
const PRODUCTS: usize = 100;
const STOCK: i64 = 1_000_000_000;
const PASSWORD: &str = "load-password-1";

/// Where the requests go.
pub enum Target<'a> {
    /// A test app (in the test host, or in the `spin up` the harness started).
    App(&'a TestApp),
    /// A server on this address, over HTTP/1.1 with one kept-alive connection per client.
    Http(SocketAddr),
}

impl Target<'_> {
    /// The target at `base_url` (`http://host:port`, no path).
    pub async fn from_base_url(base_url: &str) -> Result<Target<'static>, String> {
        let authority = base_url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{base_url}: only http:// base URLs are supported"))?
            .trim_end_matches('/');
        let address = tokio::net::lookup_host(authority)
            .await
            .map_err(|err| format!("{authority}: {err}"))?
            .next()
            .ok_or_else(|| format!("{authority}: no address"))?;
        Ok(Target::Http(address))
    }
}

/// The route names a report groups requests by.
const LIST_PRODUCTS: &str = "GET products";
const GET_PRODUCT: &str = "GET product";
const LOGIN: &str = "POST login";
const PLACE_ORDER: &str = "POST order";
const PAY: &str = "POST pay";
const ADD_TO_CART: &str = "POST cart item";
const CHECKOUT: &str = "POST cart checkout";

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Status(u16),
    /// No answer within `REQUEST_TIMEOUT`.
    Timeout,
    /// The connection failed (refused, reset, closed without an answer).
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct Sample {
    pub route: &'static str,
    /// When the request was sent, from the start of the run.
    pub sent: Duration,
    pub latency: Duration,
    pub outcome: Outcome,
    /// For a 5xx, the error envelope's code (`None` when the body is no envelope).
    pub error_code: Option<String>,
}

impl Sample {
    /// A 5xx, a hang or a broken connection: what a load must never see.
    pub fn is_server_error(&self) -> bool {
        match self.outcome {
            Outcome::Status(status) => status >= 500,
            Outcome::Timeout | Outcome::Failed(_) => true,
        }
    }
}

/// A write the server acknowledged with 201, and whose it is.
#[derive(Debug, Clone)]
pub struct Acknowledged {
    pub id: i64,
    pub customer: usize,
}

/// Customers and products, made before the clock starts.
pub struct Load<'a> {
    target: &'a Target<'a>,
    products: Vec<(i64, i64)>,
    customers: Vec<Customer>,
}

#[derive(Clone)]
struct Customer {
    email: String,
    token: String,
}

impl<'a> Load<'a> {
    /// Signs in the admin, creates the products and registers one customer per client.
    pub async fn prepare(
        target: &'a Target<'a>,
        clients: usize,
        admin_email: &str,
        admin_password: &str,
    ) -> Result<Load<'a>, String> {
        let mut conn = Conn::new(target);
        let admin = conn
            .expect_json(
                post(
                    "/api/users/auth/login",
                    &credentials(admin_email, admin_password),
                ),
                200,
            )
            .await
            .map_err(|err| format!("admin login: {err}"))?;
        let admin_token = token(&admin)?;
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis());
        let mut products = Vec::with_capacity(PRODUCTS);
        for n in 0..PRODUCTS {
            let price = 100 + 25 * n as i64;
            let body = json!({"name": format!("Load {run} #{n}"), "price": price, "stock": STOCK});
            let product = conn
                .expect_json(
                    authorized(post("/api/products/products", &body), &admin_token),
                    201,
                )
                .await
                .map_err(|err| format!("creating a product: {err}"))?;
            products.push((product["id"].as_i64().ok_or("product id")?, price));
        }
        // Registration hashes a password (argon2id): a few at a time.
        let mut customers = Vec::with_capacity(clients);
        for chunk in (0..clients).collect::<Vec<_>>().chunks(8) {
            let registered = join_all(chunk.iter().map(|&n| async move {
                let email = format!("load-{run}-{n}@example.com");
                let mut conn = Conn::new(target);
                let body = conn
                    .expect_json(
                        post("/api/users/auth/register", &credentials(&email, PASSWORD)),
                        201,
                    )
                    .await
                    .map_err(|err| format!("registering {email}: {err}"))?;
                Ok::<_, String>(Customer {
                    email,
                    token: token(&body)?,
                })
            }))
            .await;
            for customer in registered {
                customers.push(customer?);
            }
        }
        Ok(Load {
            target,
            products,
            customers,
        })
    }

    /// Every client sends requests, one after another, until `duration` has passed.
    pub async fn run(&self, duration: Duration) -> Report {
        let started = Instant::now();
        let clients =
            self.customers.iter().enumerate().map(|(n, customer)| {
                let mut client = Client {
                    n,
                    conn: Conn::new(self.target),
                    customer: customer.clone(),
                    products: &self.products,
                    rng: Rng(
                        0x9E37_79B9_7F4A_7C15 ^ (n as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D)
                    ),
                    unpaid: Vec::new(),
                    orders_placed: 0,
                    report: Report::new(started),
                };
                async move {
                    while started.elapsed() < duration {
                        client.step().await;
                    }
                    client.report
                }
            });
        let mut report = Report::new(started);
        for part in join_all(clients).await {
            report.merge(part);
        }
        report.elapsed = started.elapsed();
        report
    }

    /// The token of the customer behind client `n`.
    fn token_of(&self, customer: usize) -> &str {
        &self.customers[customer].token
    }

    /// Looks for every acknowledged write through the API (each customer reads their
    /// own orders and payments back); returns what is missing.
    pub async fn missing_through_api(&self, report: &Report) -> Vec<String> {
        let mut missing = Vec::new();
        let mut conn = Conn::new(self.target);
        let checks = report
            .orders
            .iter()
            .map(|ack| ("order", format!("/api/orders/orders/{}", ack.id), ack))
            .chain(
                report
                    .payments
                    .iter()
                    .map(|ack| ("payment", format!("/api/payments/payments/{}", ack.id), ack)),
            );
        for (what, path, ack) in checks {
            let request = authorized(get(&path), self.token_of(ack.customer));
            match conn.send(request).await {
                Ok((200, _)) => {}
                Ok((status, body)) => missing.push(format!(
                    "{what} {}: {status} {}",
                    ack.id,
                    String::from_utf8_lossy(&body)
                )),
                Err(err) => missing.push(format!("{what} {}: {err:?}", ack.id)),
            }
        }
        missing
    }
}

/// Looks for every acknowledged write in the database (a superuser connection to
/// the app's database); returns what is missing. A paid order must read paid.
pub async fn missing_in_database(db: &tokio_postgres::Client, report: &Report) -> Vec<String> {
    let orders: Vec<i64> = report.orders.iter().map(|ack| ack.id).collect();
    let payments: Vec<i64> = report.payments.iter().map(|ack| ack.id).collect();
    let found = |sql: &'static str, ids: Vec<i64>| async move {
        db.query(sql, &[&ids])
            .await
            .map(|rows| {
                rows.iter()
                    .map(|row| row.get::<_, i64>(0))
                    .collect::<Vec<_>>()
            })
            .map_err(|err| format!("looking for acknowledged writes: {err}"))
    };
    let stored_orders = found(
        "SELECT id FROM orders.orders WHERE id = ANY($1)",
        orders.clone(),
    );
    let paid = found(
        "SELECT p.id FROM payments.payments p JOIN orders.orders o ON o.id = p.order_id \
         WHERE p.id = ANY($1) AND p.status = 'succeeded' AND o.payment_id = p.id \
           AND o.status IN ('paid', 'fulfilled')",
        payments.clone(),
    );
    let (stored_orders, paid) = match (stored_orders.await, paid.await) {
        (Ok(orders), Ok(paid)) => (orders, paid),
        (Err(err), _) | (_, Err(err)) => return vec![err],
    };
    let orders = orders
        .iter()
        .filter(|id| !stored_orders.contains(id))
        .map(|id| format!("order {id} is not stored"));
    let payments = payments
        .iter()
        .filter(|id| !paid.contains(id))
        .map(|id| format!("payment {id} is not stored as succeeded with its order paid"));
    orders.chain(payments).collect()
}

/// Every half-made order or payment in the database: an order whose stock isn't
/// held, committed or given back as its status says, stock held for an order that
/// doesn't exist or no longer waits for payment, a product whose reserved count
/// isn't the sum of its held reservations, a succeeded payment whose order isn't
/// paid by it, and a paid order without a succeeded payment.
pub async fn half_made(db: &tokio_postgres::Client) -> Vec<String> {
    const CHECKS: &[(&str, &str)] = &[
        (
            "order without the reservation its status needs",
            "SELECT format('order %s (%s): reservation %s', o.id, o.status, \
                    coalesce(r.status, 'missing')) \
             FROM orders.orders o LEFT JOIN catalog.reservations r ON r.order_id = o.id \
             WHERE r.status IS DISTINCT FROM CASE o.status \
                 WHEN 'pending' THEN 'reserved' WHEN 'paid' THEN 'committed' \
                 WHEN 'fulfilled' THEN 'committed' ELSE r.status END \
                OR (o.status = 'cancelled' AND r.status IS NULL)",
        ),
        (
            "stock held for no pending order",
            "SELECT format('reservation %s held, order %s', r.order_id, \
                    coalesce(o.status, 'missing')) \
             FROM catalog.reservations r LEFT JOIN orders.orders o ON o.id = r.order_id \
             WHERE r.status = 'reserved' AND o.status IS DISTINCT FROM 'pending'",
        ),
        (
            "reserved count off",
            "SELECT format('product %s: reserved %s, held %s', p.id, p.reserved, \
                    coalesce(h.qty, 0)) \
             FROM catalog.products p LEFT JOIN ( \
                 SELECT i.product_id, sum(i.qty) AS qty FROM catalog.reservation_items i \
                 JOIN catalog.reservations r ON r.order_id = i.order_id \
                 WHERE r.status = 'reserved' GROUP BY i.product_id) h ON h.product_id = p.id \
             WHERE p.reserved <> coalesce(h.qty, 0)",
        ),
        (
            "succeeded payment without its paid order",
            "SELECT format('payment %s: order %s is %s', p.id, p.order_id, \
                    coalesce(o.status, 'missing')) \
             FROM payments.payments p LEFT JOIN orders.orders o ON o.id = p.order_id \
             WHERE p.status = 'succeeded' \
               AND NOT (o.status IN ('paid', 'fulfilled') AND o.payment_id = p.id)",
        ),
        (
            "paid order without its succeeded payment",
            "SELECT format('order %s is %s, payment %s', o.id, o.status, \
                    coalesce(p.status, 'missing')) \
             FROM orders.orders o LEFT JOIN payments.payments p ON p.id = o.payment_id \
             WHERE o.status IN ('paid', 'fulfilled') AND p.status IS DISTINCT FROM 'succeeded'",
        ),
    ];
    let mut found = Vec::new();
    for (what, sql) in CHECKS {
        match db.query(*sql, &[]).await {
            Ok(rows) => found.extend(
                rows.iter()
                    .map(|row| format!("{what}: {}", row.get::<_, String>(0))),
            ),
            Err(err) => found.push(format!("{what}: the check failed: {err}")),
        }
    }
    found
}

/// One customer's session of requests.
struct Client<'a> {
    n: usize,
    conn: Conn<'a>,
    customer: Customer,
    products: &'a [(i64, i64)],
    rng: Rng,
    /// Orders placed and not yet paid: (id, total). A payment refused with 5xx stays
    /// here and is tried again later with the same idempotency key, as a client would.
    unpaid: Vec<(i64, i64)>,
    orders_placed: usize,
    report: Report,
}

impl Client<'_> {
    /// One action, picked by weight: browsing is most of the traffic, then orders,
    /// payments and checkouts; logins are few (argon2id makes them costly).
    async fn step(&mut self) {
        match self.rng.below(100) {
            0..20 => {
                let limit = 20;
                self.send(
                    LIST_PRODUCTS,
                    get(&format!("/api/products/products?limit={limit}")),
                )
                .await;
            }
            20..45 => {
                let (id, _) = self.product();
                self.send(GET_PRODUCT, get(&format!("/api/products/products/{id}")))
                    .await;
            }
            45..50 => self.login().await,
            50..70 => self.place_order().await,
            70..85 if !self.unpaid.is_empty() => self.pay().await,
            70..85 => self.place_order().await,
            _ => self.checkout().await,
        }
    }

    fn product(&mut self) -> (i64, i64) {
        self.products[self.rng.below(self.products.len())]
    }

    async fn login(&mut self) {
        let request = post(
            "/api/users/auth/login",
            &credentials(&self.customer.email, PASSWORD),
        );
        if let Some(body) = self.send(LOGIN, request).await.filter_status(200)
            && let Ok(token) = token(&body)
        {
            self.customer.token = token;
        }
    }

    async fn place_order(&mut self) {
        let lines = 1 + self.rng.below(3);
        let mut items = BTreeMap::new();
        for _ in 0..lines {
            let (id, _) = self.product();
            items.insert(id, 1 + self.rng.below(3) as i64);
        }
        let items: Vec<Value> = items
            .iter()
            .map(|(id, qty)| json!({"product_id": id, "qty": qty}))
            .collect();
        self.orders_placed += 1;
        let mut request = self.authorized(post(
            "/api/orders/orders",
            &json!({"items": items, "shipping_address": "1 Load Street"}),
        ));
        let key = format!(
            "load-{}-{}-{}",
            self.customer.email, self.n, self.orders_placed
        );
        request
            .headers_mut()
            .insert("idempotency-key", key.parse().expect("a header value"));
        let answer = self.send(PLACE_ORDER, request).await;
        self.order_placed(answer.filter_status(201));
    }

    async fn pay(&mut self) {
        let index = self.rng.below(self.unpaid.len());
        let (order_id, total) = self.unpaid[index];
        let mut request = self.authorized(post(
            "/api/payments/pay",
            &json!({"order_id": order_id, "amount": total, "method": "card"}),
        ));
        request.headers_mut().insert(
            "x-idempotency-key",
            format!("pay-{order_id}").parse().expect("a header value"),
        );
        let answer = self.send(PAY, request).await;
        match answer.status() {
            Some(201) => {
                if let Some(id) = answer.body().and_then(|body| body["id"].as_i64()) {
                    self.report.payments.push(Acknowledged {
                        id,
                        customer: self.n,
                    });
                }
                self.unpaid.swap_remove(index);
            }
            // Declined, refused or already settled: nothing more to try.
            Some(status) if status < 500 => {
                self.unpaid.swap_remove(index);
            }
            _ => {}
        }
    }

    async fn checkout(&mut self) {
        let (id, _) = self.product();
        let item = self.authorized(post(
            "/api/carts/cart/items",
            &json!({"product_id": id, "qty": 1}),
        ));
        let added = self.send(ADD_TO_CART, item).await;
        if !matches!(added.status(), Some(200 | 201)) {
            return;
        }
        let checkout = self.authorized(post("/api/carts/cart/checkout", &json!({})));
        let answer = self.send(CHECKOUT, checkout).await;
        self.order_placed(answer.filter_status(201));
    }

    fn order_placed(&mut self, order: Option<Value>) {
        let Some(order) = order else { return };
        if let (Some(id), Some(total)) = (order["id"].as_i64(), order["total"].as_i64()) {
            self.report.orders.push(Acknowledged {
                id,
                customer: self.n,
            });
            self.unpaid.push((id, total));
        }
    }

    fn authorized(&self, request: http::Request<Bytes>) -> http::Request<Bytes> {
        authorized(request, &self.customer.token)
    }

    async fn send(&mut self, route: &'static str, request: http::Request<Bytes>) -> Answer {
        let sent = self.report.started.elapsed();
        let start = Instant::now();
        let result = tokio::time::timeout(REQUEST_TIMEOUT, self.conn.send(request)).await;
        let latency = start.elapsed();
        let (outcome, body) = match result {
            Ok(Ok((status, body))) => (Outcome::Status(status), Some(body)),
            Ok(Err(err)) => (Outcome::Failed(err), None),
            Err(_) => {
                // The connection may still carry the late answer: start afresh.
                self.conn.reset();
                (Outcome::Timeout, None)
            }
        };
        let body: Option<Value> = body.and_then(|body| serde_json::from_slice(&body).ok());
        let error_code = match (&outcome, &body) {
            (Outcome::Status(status), Some(body)) if *status >= 500 => {
                body["error"]["code"].as_str().map(str::to_string)
            }
            _ => None,
        };
        self.report.samples.push(Sample {
            route,
            sent,
            latency,
            outcome: outcome.clone(),
            error_code,
        });
        Answer { outcome, body }
    }
}

struct Answer {
    outcome: Outcome,
    body: Option<Value>,
}

impl Answer {
    fn status(&self) -> Option<u16> {
        match self.outcome {
            Outcome::Status(status) => Some(status),
            _ => None,
        }
    }

    fn body(&self) -> Option<&Value> {
        self.body.as_ref()
    }

    /// The body, when the answer had this status.
    fn filter_status(self, status: u16) -> Option<Value> {
        if self.status() == Some(status) {
            self.body
        } else {
            None
        }
    }
}

/// Every request of a run, and the writes it got acknowledged.
#[derive(Debug)]
pub struct Report {
    started: Instant,
    pub elapsed: Duration,
    pub samples: Vec<Sample>,
    pub orders: Vec<Acknowledged>,
    pub payments: Vec<Acknowledged>,
}

impl Report {
    fn new(started: Instant) -> Report {
        Report {
            started,
            elapsed: Duration::ZERO,
            samples: Vec::new(),
            orders: Vec::new(),
            payments: Vec::new(),
        }
    }

    fn merge(&mut self, other: Report) {
        self.samples.extend(other.samples);
        self.orders.extend(other.orders);
        self.payments.extend(other.payments);
    }

    /// When the run started, to line events up with [`Sample::sent`].
    pub fn started(&self) -> Instant {
        self.started
    }

    pub fn server_errors(&self) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| s.is_server_error())
            .collect()
    }

    /// Status counts and latency percentiles per route, then the totals.
    pub fn print(&self) {
        println!(
            "{:<20} {:>7} {:>9} {:>8} {:>8} {:>8} {:>8}  statuses",
            "route", "reqs", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms"
        );
        let mut routes: BTreeMap<&str, Vec<&Sample>> = BTreeMap::new();
        for sample in &self.samples {
            routes.entry(sample.route).or_default().push(sample);
        }
        for (route, samples) in &routes {
            self.print_line(route, samples);
        }
        let all: Vec<&Sample> = self.samples.iter().collect();
        self.print_line("all", &all);
        println!(
            "{} s, {} orders and {} payments acknowledged, {} server errors",
            self.elapsed.as_secs(),
            self.orders.len(),
            self.payments.len(),
            self.server_errors().len()
        );
    }

    fn print_line(&self, route: &str, samples: &[&Sample]) {
        let mut latencies: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
        latencies.sort();
        let pick = |q: f64| {
            let index = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len());
            latencies[index - 1].as_secs_f64() * 1000.0
        };
        let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
        for sample in samples {
            let key = match &sample.outcome {
                Outcome::Status(status) => status.to_string(),
                Outcome::Timeout => "timeout".into(),
                Outcome::Failed(_) => "failed".into(),
            };
            *statuses.entry(key).or_default() += 1;
        }
        let statuses: Vec<String> = statuses
            .iter()
            .map(|(status, count)| format!("{status}: {count}"))
            .collect();
        println!(
            "{:<20} {:>7} {:>9.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1}  {}",
            route,
            samples.len(),
            samples.len() as f64 / self.elapsed.as_secs_f64().max(0.001),
            pick(0.50),
            pick(0.90),
            pick(0.99),
            pick(1.0),
            statuses.join(", ")
        );
    }
}

/// One client's way to the target.
struct Conn<'a> {
    target: &'a Target<'a>,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl<'a> Conn<'a> {
    fn new(target: &'a Target<'a>) -> Conn<'a> {
        Conn {
            target,
            sender: None,
        }
    }

    fn reset(&mut self) {
        self.sender = None;
    }

    async fn send(&mut self, request: http::Request<Bytes>) -> Result<(u16, Bytes), String> {
        let address = match self.target {
            Target::App(app) => {
                let response = app.send(request).await;
                return Ok((response.status, response.body));
            }
            Target::Http(address) => *address,
        };
        let sender = match &mut self.sender {
            Some(sender) if !sender.is_closed() => sender,
            _ => self.sender.insert(connect(address).await?),
        };
        sender.ready().await.map_err(|err| err.to_string())?;
        let (mut parts, body) = request.into_parts();
        parts.headers.insert(
            http::header::HOST,
            address.to_string().parse().expect("a Host header"),
        );
        let answer = async {
            let response = sender
                .send_request(http::Request::from_parts(parts, Full::new(body)))
                .await?;
            let status = response.status().as_u16();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>((status, body))
        }
        .await;
        answer.map_err(|err| {
            self.sender = None;
            err.to_string()
        })
    }

    /// Sends `request` and returns its JSON body, which must come with `status`.
    async fn expect_json(
        &mut self,
        request: http::Request<Bytes>,
        status: u16,
    ) -> Result<Value, String> {
        let (got, body) = self.send(request).await?;
        if got != status {
            return Err(format!("{got} {}", String::from_utf8_lossy(&body)));
        }
        serde_json::from_slice(&body).map_err(|err| err.to_string())
    }
}

async fn connect(address: SocketAddr) -> Result<SendRequest<Full<Bytes>>, String> {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|err| format!("connecting to {address}: {err}"))?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|err| err.to_string())?;
    tokio::spawn(connection);
    Ok(sender)
}

fn get(path: &str) -> http::Request<Bytes> {
    http::Request::get(path)
        .body(Bytes::new())
        .expect("a valid request")
}

fn post(path: &str, body: &Value) -> http::Request<Bytes> {
    http::Request::post(path)
        .header("content-type", "application/json")
        .body(Bytes::from(body.to_string()))
        .expect("a valid request")
}

fn authorized(mut request: http::Request<Bytes>, token: &str) -> http::Request<Bytes> {
    request.headers_mut().insert(
        http::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("a header value"),
    );
    request
}

fn credentials(email: &str, password: &str) -> Value {
    json!({"email": email, "password": password})
}

fn token(body: &Value) -> Result<String, String> {
    body["access_token"]
        .as_str()
        .or_else(|| body["token"].as_str())
        .map(str::to_string)
        .ok_or_else(|| format!("no token in {body}"))
}

/// xorshift64*: a client's choices, repeatable and free of shared state.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}
